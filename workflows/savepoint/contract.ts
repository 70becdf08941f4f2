import { defineQuery } from '@temporalio/workflow';
import type { SavepointEntry } from '../model/record';
import { PROGRESS_QUERIES } from '../model/progress-queries';

/** What a savepoint run answers (its result and its progress query), whichever release's code runs it. */
export interface SavepointResult {
  outcome: 'completed' | 'skipped';
  message: string;
  savepoint?: SavepointEntry;
  disposed: string[];
  /** Disposals that failed; they stay in the job's record and are retried by the next run. */
  disposalFailures: { path: string; error: string }[];
  kept: string[];
}

export interface SavepointProgress {
  step: string;
  message: string;
  history: { step: string; at: number; message: string }[];
}

export const getSavepointProgressQuery = defineQuery<SavepointProgress>(PROGRESS_QUERIES.savepointWorkflow);
