/** Exit codes of the flinkops CLI, for scripts. */
export const EXIT = {
  ok: 0,
  /** The operation ran and failed (rolled back, nothing changed, needs a human). */
  failed: 1,
  /** Bad input or a preflight refusal: nothing was changed. */
  invalid: 2,
  /** A person (or the approval timeout) aborted the operation before it changed anything. */
  aborted: 3,
  /** The same operation on the same target is already running (remediate: another operation holds the cluster). */
  alreadyRunning: 4,
  /** `flinkops doctor` found problems (nothing was changed). */
  unhealthy: 5,
} as const;

/** An error the CLI reports as one line with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
