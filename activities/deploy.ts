import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterRef, VersionSpec } from '../workflows/model/target';
import { connectTarget, type ActivityContext } from './context';
import type { RestoreSpec } from './targets/adapter';

export interface DeployVersionRequest {
  cluster: ClusterRef;
  restUrl?: string;
  version: VersionSpec;
  restore: RestoreSpec;
  jobId: string;
  timeoutMs: number;
}

/** Deploys a version through the cluster's adapter; idempotent for the same request (same job id). */
export function createDeployActivities(ctx: ActivityContext) {
  return {
    async deployVersion(request: DeployVersionRequest): Promise<void> {
      const target = await connectTarget(ctx, request.cluster, request.restUrl);
      if ('problem' in target) throw ApplicationFailure.retryable(target.problem, 'TargetUnavailable');
      await target.adapter.deploy({
        version: request.version,
        restore: request.restore,
        jobId: request.jobId,
        timeoutMs: request.timeoutMs,
        heartbeat: (progress) => Context.current().heartbeat(progress),
      });
    },
  };
}
