import { heartbeat } from './heartbeat';
import type { ClusterRef, VersionSpec } from '../workflows/model/target';
import { requireTarget, type ActivityContext } from './context';
import { requireAllowedLocation } from './locations';
import type { PreparedVersion, RestoreSpec } from './targets/seam';

export interface DeployVersionRequest {
  cluster: ClusterRef;
  restUrl?: string;
  version: VersionSpec;
  prepared?: PreparedVersion;
  restore: RestoreSpec;
  jobId: string;
  timeoutMs: number;
}

/** Deploys a version through the target's seam; idempotent for the same request (same job id). */
export function createDeployActivities(ctx: ActivityContext) {
  return {
    /** Ahead of the stop: whatever can be done while the old job still runs (e.g. uploading the jar). */
    async prepareVersion(request: { cluster: ClusterRef; restUrl?: string; version: VersionSpec }): Promise<PreparedVersion> {
      return (await requireTarget(ctx, request.cluster, request.restUrl)).prepare(request.version);
    },

    /** Undoes prepareVersion when the version is not deployed after all (best effort). */
    async discardPreparedVersion(request: { cluster: ClusterRef; restUrl?: string; prepared: PreparedVersion }): Promise<void> {
      await (await requireTarget(ctx, request.cluster, request.restUrl)).discard(request.prepared);
    },

    async deployVersion(request: DeployVersionRequest): Promise<{ jobId: string } | undefined> {
      const target = await requireTarget(ctx, request.cluster, request.restUrl);
      // A restore point may come from a record anyone with edit rights can change: it must be an allowed location.
      const path = request.restore.path === undefined ? undefined : await requireAllowedLocation(ctx, target, request.restore.path, 'restore point');
      const deployed = await target.deploy({
        version: request.version,
        prepared: request.prepared,
        restore: { ...request.restore, path },
        jobId: request.jobId,
        timeoutMs: request.timeoutMs,
        heartbeat: (progress) => heartbeat(progress),
      });
      return deployed ?? undefined;
    },
  };
}
