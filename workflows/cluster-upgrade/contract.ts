import { defineQuery } from '@temporalio/workflow';
import { PROGRESS_QUERIES } from '../model/progress-queries';
import type { ClusterUpgradePlan } from './plan';

/** What the CLI and the Temporal UI see of a cluster upgrade: its step, and each job's. */
export type ClusterUpgradeStep =
  | 'preflight'
  | 'awaiting-approval'
  | 'preparing'
  | 'stopping'
  | 'restoring-old'
  | 'rolling'
  | 'resubmitting'
  | 'rolling-back'
  | 'compensating'
  | 'done';

export type JobStep =
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'stop-failed'
  | 'deploying'
  | 'verifying'
  | 'verified'
  | 'failed'
  | 'retiring'
  | 'retired'
  | 'restoring'
  | 'restored'
  | 'dropped'
  | 'needs-human';

export interface JobProgress {
  jobName: string;
  step: JobStep;
  message: string;
  /** The job id it ran under before the upgrade, and the one it runs under now (if another). */
  oldJobId: string;
  jobId?: string;
  savepoint?: string;
}

export interface ClusterUpgradeProgress {
  step: ClusterUpgradeStep;
  message: string;
  startedAt: number;
  stepStartedAt: number;
  plan?: ClusterUpgradePlan;
  jobs: JobProgress[];
  warnings?: string[];
  history: { step: ClusterUpgradeStep; at: number; message: string }[];
}

export interface ClusterUpgradeResult {
  outcome: 'succeeded' | 'partially-upgraded' | 'dry-run';
  message: string;
  plan: ClusterUpgradePlan;
  jobs: JobProgress[];
  warnings?: string[];
}

export const getClusterUpgradeProgressQuery = defineQuery<ClusterUpgradeProgress>(PROGRESS_QUERIES.upgradeClusterWorkflow);
