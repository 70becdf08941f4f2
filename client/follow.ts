import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { formatDuration } from '../workflows/model/durations';
import { CliError, EXIT, exitForFailure } from './exit-codes';

export interface StepReport {
  step: string;
  at: number;
  message: string;
}

/**
 * Starts an operation whose workflow id is one per target: while one runs, a second start is refused with
 * "<what> is already running" and exit code 4.
 */
export async function startExclusive<T extends Workflow>(
  client: Client,
  workflowType: string,
  options: WorkflowStartOptions<T> & { workflowId: string },
  what: string,
): Promise<WorkflowHandleWithFirstExecutionRunId<T>> {
  try {
    return await client.workflow.start<T>(workflowType, options);
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`${what} is already running: workflow ${options.workflowId}`, EXIT.alreadyRunning);
    throw error;
  }
}

/**
 * Prints a workflow's steps as they happen (from its progress query) until it ends; returns its result or
 * throws a CliError with the workflow's own failure message.
 */
export async function followWorkflow<T>(
  handle: WorkflowHandle,
  queryProgress: () => Promise<{ history: StepReport[] } | undefined>,
  print: (line: string) => void,
  intervalMs = 1_000,
): Promise<T> {
  let printed = 0;
  let startedAt: number | undefined;
  const flush = async () => {
    const progress = await queryProgress().catch(() => undefined);
    for (const entry of progress?.history.slice(printed) ?? []) {
      startedAt ??= entry.at;
      print(`[${formatDuration(entry.at - startedAt).padStart(6)}] ${entry.step.padEnd(18)} ${entry.message}`);
    }
    printed = progress?.history.length ?? printed;
  };
  const result = handle.result() as Promise<T>;
  let done = false;
  void result.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    await flush();
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, intervalMs))]);
  }
  await flush();
  try {
    return await result;
  } catch (error) {
    throw workflowFailure(error);
  }
}

/**
 * The innermost failure of a failed workflow, with its type mapped to an exit code and a hint
 * (workflows/model/failures.ts). A workflow that failed because an activity ran out of retries carries the
 * activity's failure type, under the activity failure.
 */
export function workflowFailure(error: unknown): CliError {
  let cause = error as { cause?: unknown; message?: string; type?: string; name?: string } | undefined;
  while (cause?.cause && (cause.name === 'WorkflowFailedError' || !cause.type)) cause = cause.cause;
  const type = cause?.type;
  const message = cause?.message ?? String(error);
  if (cause?.name === 'CancelledFailure' || type === 'CancelledFailure') return new CliError(`cancelled: ${message}`, EXIT.failed);
  if (cause?.name === 'TimeoutFailure') return new CliError(`${message}: the worker did not finish in time`, EXIT.unavailable, 'is a flinkops worker polling the task queue? (README: Troubleshooting)');
  const { exitCode, hint } = exitForFailure(type);
  return new CliError(message, exitCode, hint);
}
