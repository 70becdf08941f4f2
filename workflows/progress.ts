import { log, setCurrentDetails } from '@temporalio/workflow';

/** What a long-running operation's progress query answers: the current step and every step so far. */
export interface StepProgress<S extends string = string> {
  step: S;
  message: string;
  history: { step: S; at: number; message: string }[];
}

/**
 * Moves an operation to its next step: the progress query, the Temporal UI's current details and the log all say
 * the same thing. Returns when the step started.
 */
export function reportStep<S extends string>(progress: StepProgress<S>, operation: string, step: S, message: string): number {
  const now = Date.now();
  progress.step = step;
  progress.message = message;
  progress.history.push({ step, at: now, message });
  setCurrentDetails(`**${step}**: ${message}`);
  log.info(`${operation} ${step}: ${message}`);
  return now;
}
