import { Context } from '@temporalio/activity';
import type { WorkerSettings } from '../config/worker';
import type { ClusterRef } from '../workflows/model/target';
import type { FailpointName } from './failpoints';
import type { FlinkRestClient } from './flink/rest-client';
import type { KubeClients } from './kube/clients';
import { OperationLocks } from './locks/operation-lock';
import { JobRecordStore } from './records/job-records';
import type { TargetAdapter } from './targets/adapter';
import { ApplicationAdapter } from './targets/application';
import { serviceRestUrl } from './targets/endpoint';
import { resolveCluster, type ResolvedCluster } from './targets/resolve';
import { SessionJobAdapter } from './targets/session-job';

/** Everything activities use from the outside world. Tests build one around the local stack or fakes. */
export interface ActivityContext {
  settings: WorkerSettings;
  kube: KubeClients;
  flinkClient: (baseUrl: string) => FlinkRestClient;
  failpoints: Partial<Record<FailpointName, number>>;
  /** Whether a workflow is still running; by default asked of Temporal through the worker's client. */
  isWorkflowRunning?: (workflowId: string) => Promise<boolean>;
}

export interface ConnectedTarget {
  cluster: ResolvedCluster;
  restUrl: string;
  flink: FlinkRestClient;
  adapter: TargetAdapter;
}

/** Finds the cluster in Kubernetes and its REST endpoint (or uses the explicit override). */
export async function connectTarget(ctx: ActivityContext, ref: ClusterRef, restUrlOverride?: string): Promise<ConnectedTarget | { problem: string }> {
  const cluster = await resolveCluster(ctx.kube, ref);
  if ('problem' in cluster) return cluster;
  const restUrl = restUrlOverride ?? serviceRestUrl(cluster.restService, cluster.restPort, ctx.settings.flink);
  const flink = ctx.flinkClient(restUrl);
  const adapter = cluster.kind === 'application' ? new ApplicationAdapter(ctx.kube, cluster, ctx.failpoints) : new SessionJobAdapter(flink, ctx.failpoints);
  return { cluster, restUrl, flink, adapter };
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
