import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkerSettings } from '../config/worker';
import type { ClusterRef } from '../workflows/model/target';
import type { FailpointName } from './failpoints';
import type { FlinkClientFactory } from './flink/transport';
import type { KubeClients } from './kube/clients';
import { OperationLocks } from './locks/operation-lock';
import { PolicyRefusal } from './policy';
import { JobRecordStore } from './records/job-records';
import { openTarget, type FlinkTarget } from './targets/seam';

/** Everything activities use from the outside world. Tests build one around the local stack or fakes. */
export interface ActivityContext {
  settings: WorkerSettings;
  kube: KubeClients;
  flinkClient: FlinkClientFactory;
  failpoints: Partial<Record<FailpointName, number>>;
  /** Whether a workflow is still running; by default asked of Temporal through the worker's client. */
  isWorkflowRunning?: (workflowId: string) => Promise<boolean>;
}

/** The target an operation works on, found again by each activity (a refused --rest-url never gets here: preflight refuses it). */
export async function requireTarget(ctx: ActivityContext, cluster: ClusterRef, restUrl?: string): Promise<FlinkTarget> {
  let target: FlinkTarget | { problem: string };
  try {
    target = await openTarget(ctx, { cluster, restUrl });
  } catch (error) {
    if (error instanceof PolicyRefusal) throw ApplicationFailure.nonRetryable(error.message, 'PolicyRefused');
    throw error;
  }
  if ('problem' in target) throw ApplicationFailure.retryable(target.problem, 'TargetUnavailable');
  return target;
}

export function jobRecords(ctx: ActivityContext): JobRecordStore {
  return new JobRecordStore(ctx.kube);
}

export function operationLocks(ctx: ActivityContext): OperationLocks {
  return new OperationLocks(ctx.kube, ctx.isWorkflowRunning ?? workflowRunningInTemporal);
}

async function workflowRunningInTemporal(workflowId: string): Promise<boolean> {
  try {
    const description = await Context.current().client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if ((error as { name?: string }).name === 'WorkflowNotFoundError') return false;
    throw error;
  }
}
