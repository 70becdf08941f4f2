import { failureSpec, type ExitClass } from '../workflows/model/failures';

/** Exit codes of the flinkops CLI, for scripts. */
export const EXIT = {
  ok: 0,
  /** The operation ran and failed (rolled back, nothing changed, needs a human). */
  failed: 1,
  /** Bad input (a usage error, an unknown cluster) or a refusal: nothing was changed. */
  invalid: 2,
  /** A person (or the approval timeout) aborted the operation before it changed anything. */
  aborted: 3,
  /** The same operation on the same target is already running (remediate: another operation holds the cluster). */
  alreadyRunning: 4,
  /** `flinkops doctor` found problems (nothing was changed). */
  unhealthy: 5,
  /**
   * flinkops cannot do its work now: Temporal not reachable, no worker polling the task queue, the worker's
   * Kubernetes or Flink credentials refused, an API not answering.
   */
  unavailable: 6,
} as const;

const EXIT_OF_CLASS: Record<ExitClass, number> = { invalid: EXIT.invalid, failed: EXIT.failed, aborted: EXIT.aborted, unavailable: EXIT.unavailable };

/** The exit code and hint of a workflow or activity failure type (workflows/model/failures.ts). */
export function exitForFailure(type: string | undefined): { exitCode: number; hint?: string } {
  const spec = failureSpec(type);
  return spec ? { exitCode: EXIT_OF_CLASS[spec.exit], hint: spec.hint } : { exitCode: EXIT.failed };
}

/** An error the CLI reports as one line (and a hint) with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}
