import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { HistoryEntry, JobRecord, RestorePoint, SavepointEntry } from '../workflows/model/record';
import type { ClusterRef, TargetKind, VersionSpec } from '../workflows/model/target';
import { jobRecords, type ActivityContext } from './context';
import { apiErrorMessage, microTime } from './kube/clients';
import { resolveCluster } from './targets/resolve';

export interface RecordIdentity {
  cluster: ClusterRef;
  kind: TargetKind;
  jobKey: string;
  jobName: string;
  jobId: string;
}

export interface OutcomeRecord {
  identity: RecordIdentity;
  entry: HistoryEntry;
  /** The version and job now running, after a success or a rollback. */
  running?: { version: VersionSpec; jobId: string };
  /** The savepoint the running job came from, now the last good one. */
  goodSavepoint?: SavepointEntry;
}

export interface ClusterEvent {
  cluster: ClusterRef;
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

/** flinkops' record of each job (ConfigMap), annotations and Kubernetes Events on the cluster. */
export function createRecordActivities(ctx: ActivityContext) {
  const store = () => jobRecords(ctx);
  const init = recordInit;

  return {
    /** Before a job is redeployed from a savepoint: mark it as a restore point, so retention never disposes of it. */
    async recordRestorePoint(request: { identity: RecordIdentity; point: RestorePoint; currentVersion?: VersionSpec; isSavepoint?: boolean }): Promise<void> {
      await store().update(request.identity.cluster, init(request.identity), (record) => {
        if (!record.restorePoints.some((p) => p.path === request.point.path)) record.restorePoints.push(request.point);
        // Savepoints flinkops took itself are listed too (retention sees them), but as restore points they stay.
        if (request.isSavepoint && !record.savepoints.some((s) => s.path === request.point.path)) {
          record.savepoints.push({ path: request.point.path, at: request.point.at, jobId: request.identity.jobId, trigger: 'upgrade', workflowId: request.point.workflowId });
        }
        record.currentVersion ??= request.currentVersion;
      });
    },

    /** The end of an operation: history, the version now running, the last good savepoint; annotations too. */
    async recordOutcome(request: OutcomeRecord): Promise<JobRecord> {
      return recordOutcome(ctx, request);
    },

    async readJobRecord(request: { cluster: ClusterRef; jobKey: string }): Promise<JobRecord | undefined> {
      return store().read(request.cluster, request.jobKey);
    },

    /** A Kubernetes Event on the JobManager Deployment (best effort: an event never fails an operation). */
    async emitClusterEvent(event: ClusterEvent): Promise<void> {
      await emitClusterEvent(ctx, event);
    },
  };
}

export function recordInit(identity: RecordIdentity) {
  return { kind: identity.kind, jobKey: identity.jobKey, jobName: identity.jobName, currentJobId: identity.jobId };
}

/** History, the version now running and the last good savepoint in the job's record; annotations too. */
export async function recordOutcome(ctx: ActivityContext, request: OutcomeRecord): Promise<JobRecord> {
  const record = await jobRecords(ctx).update(request.identity.cluster, recordInit(request.identity), (r) => {
    r.history.push(request.entry);
    if (request.running) {
      r.currentVersion = request.running.version;
      r.currentJobId = request.running.jobId;
    }
    if (request.goodSavepoint) r.lastGoodSavepoint = request.goodSavepoint;
  });
  await annotateJobManager(ctx, request).catch((error: unknown) => {
    Context.current().log.warn('could not annotate the JobManager Deployment', { error: apiErrorMessage(error) });
  });
  return record;
}

/** A Kubernetes Event on the JobManager Deployment (best effort: an event never fails an operation). */
export async function emitClusterEvent(ctx: ActivityContext, event: ClusterEvent): Promise<void> {
  try {
    const cluster = await resolveCluster(ctx.kube, event.cluster);
    if ('problem' in cluster) return;
    const deployment = cluster.jobManager.metadata!;
    await ctx.kube.events.createNamespacedEvent({
      namespace: event.cluster.namespace,
      body: {
        // Named like the kubelet's and controllers' events: <object>.<unique hex suffix>.
        metadata: { name: `${deployment.name}.${Date.now().toString(16)}${randomBytes(4).toString('hex')}`, namespace: event.cluster.namespace },
        eventTime: microTime(new Date()),
        reportingController: 'flinkops.dev/worker',
        reportingInstance: hostname().slice(0, 128),
        action: event.action,
        reason: event.reason,
        note: event.note.slice(0, 1000),
        type: event.type,
        regarding: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name, namespace: deployment.namespace, uid: deployment.uid },
      },
    });
  } catch (error) {
    Context.current().log.warn('could not create a Kubernetes event', { reason: event.reason, error: apiErrorMessage(error) });
  }
}

/** Application clusters carry their last good savepoint and flinkops' last operation on the JobManager Deployment. */
async function annotateJobManager(ctx: ActivityContext, request: OutcomeRecord): Promise<void> {
  if (request.identity.kind !== 'application') return;
  const cluster = await resolveCluster(ctx.kube, request.identity.cluster);
  if ('problem' in cluster) return;
  const annotations: Record<string, string> = {
    'flinkops.dev/last-operation': `${request.entry.operation} ${request.entry.outcome} (${request.entry.workflowId})`,
  };
  if (request.goodSavepoint) annotations['flinkops.dev/last-good-savepoint'] = request.goodSavepoint.path;
  await ctx.kube.apps.patchNamespacedDeployment(
    { name: cluster.jobManager.metadata!.name!, namespace: request.identity.cluster.namespace, body: { metadata: { annotations } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
