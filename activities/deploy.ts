import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterRef, VersionSpec } from '../workflows/model/target';
import { connectTarget, type ActivityContext } from './context';
import type { PreparedVersion, RestoreSpec } from './targets/adapter';

export interface DeployVersionRequest {
  cluster: ClusterRef;
  restUrl?: string;
  version: VersionSpec;
  prepared?: PreparedVersion;
  restore: RestoreSpec;
  jobId: string;
  timeoutMs: number;
}

/** Deploys a version through the cluster's adapter; idempotent for the same request (same job id). */
export function createDeployActivities(ctx: ActivityContext) {
  const connect = async (cluster: ClusterRef, restUrl?: string) => {
    const target = await connectTarget(ctx, cluster, restUrl);
    if ('problem' in target) throw ApplicationFailure.retryable(target.problem, 'TargetUnavailable');
    return target;
  };
  return {
    /** Ahead of the stop: whatever can be done while the old job still runs (e.g. uploading the jar). */
    async prepareVersion(request: { cluster: ClusterRef; restUrl?: string; version: VersionSpec }): Promise<PreparedVersion> {
      return (await connect(request.cluster, request.restUrl)).adapter.prepare(request.version);
    },

    /** Undoes prepareVersion when the version is not deployed after all (best effort). */
    async discardPreparedVersion(request: { cluster: ClusterRef; restUrl?: string; prepared: PreparedVersion }): Promise<void> {
      await (await connect(request.cluster, request.restUrl)).adapter.discard(request.prepared);
    },

    async deployVersion(request: DeployVersionRequest): Promise<void> {
      const target = await connect(request.cluster, request.restUrl);
      await target.adapter.deploy({
        version: request.version,
        prepared: request.prepared,
        restore: request.restore,
        jobId: request.jobId,
        timeoutMs: request.timeoutMs,
        heartbeat: (progress) => Context.current().heartbeat(progress),
      });
    },
  };
}
