import { Context } from '@temporalio/activity';
import type { V1Lease } from '@kubernetes/client-node';
import type { LockHolder } from '../../workflows/model/snapshot';
import type { ClusterRef } from '../../workflows/model/target';
import { isConflict, isNotFound, microTime, type KubeClients } from '../kube/clients';
import { CLUSTER_LABEL, JOB_KEY_LABEL, labelValue, MANAGED_BY_LABELS, objectName } from '../kube/names';

/**
 * Serializes flinkops operations with Kubernetes Leases next to the cluster. A job-scoped lock
 * (`flinkops-lock-<cluster>-<job>`) is taken by upgrades and savepoints of one job; a cluster-scoped lock
 * (`flinkops-lock-<cluster>`) by operations on the whole cluster (application upgrades, remediation). The two
 * levels exclude each other: whoever takes its own lease first and then finds the other level held backs off.
 *
 * A lease whose holder workflow is no longer running (terminated, timed out) is taken over.
 */
export interface LockScope {
  cluster: ClusterRef;
  /** Absent: the whole cluster. */
  jobKey?: string;
}

export interface LockRequest {
  scope: LockScope;
  workflowId: string;
  operation: string;
}

export type LockResult = { acquired: true } | { acquired: false; holder: LockHolder };

const OPERATION_ANNOTATION = 'flinkops.dev/operation';
const SCOPE_LABEL = 'flinkops.dev/lock-scope';

export function lockName(scope: LockScope): string {
  return objectName(scope.jobKey ? ['flinkops-lock', scope.cluster.name, scope.jobKey] : ['flinkops-lock', scope.cluster.name]);
}

export class OperationLocks {
  constructor(
    private readonly kube: KubeClients,
    /** Whether the workflow that holds a lease is still running (looked up in Temporal). */
    private readonly isRunning: (workflowId: string) => Promise<boolean>,
  ) {}

  /** Idempotent: taking a lock one already holds succeeds. */
  async acquire(request: LockRequest): Promise<LockResult> {
    const own = await this.take(request);
    if (!own.acquired) return own;
    const other = await this.conflictingHolder(request);
    if (other) {
      await this.release(request);
      return { acquired: false, holder: other };
    }
    return { acquired: true };
  }

  /** Releases the lock if `workflowId` holds it; otherwise does nothing. */
  async release(request: Pick<LockRequest, 'scope' | 'workflowId'>): Promise<void> {
    const name = lockName(request.scope);
    const namespace = request.scope.cluster.namespace;
    try {
      const lease = await this.kube.coordination.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== request.workflowId) return;
      await this.kube.coordination.deleteNamespacedLease({
        name,
        namespace,
        body: { preconditions: { resourceVersion: lease.metadata?.resourceVersion } },
      });
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) throw error;
    }
  }

  /**
   * Who holds this job's or cluster's lock now (either level), if anyone still running, as `askingWorkflowId` sees it:
   * a lease under its own id is not in its way. Only one run of a workflow id is open at a time, so such a lease is
   * its own or was left by an earlier, closed run of the same id (runs of one id reuse it, e.g. the same upgrade again).
   */
  async holder(scope: LockScope, askingWorkflowId: string): Promise<LockHolder | undefined> {
    const own = await this.read(scope);
    if (own && own.workflowId !== askingWorkflowId && (await this.isRunning(own.workflowId))) return own;
    return this.conflictingHolder({ scope, workflowId: askingWorkflowId, operation: '' });
  }

  private async take(request: LockRequest): Promise<LockResult> {
    const name = lockName(request.scope);
    const namespace = request.scope.cluster.namespace;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.kube.coordination.createNamespacedLease({ namespace, body: this.lease(request) });
        return { acquired: true };
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      let existing: V1Lease;
      try {
        existing = await this.kube.coordination.readNamespacedLease({ name, namespace });
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      const holder = holderOf(existing);
      if (holder.workflowId === request.workflowId) return { acquired: true };
      if (await this.isRunning(holder.workflowId)) return { acquired: false, holder };
      try {
        await this.kube.coordination.replaceNamespacedLease({
          name,
          namespace,
          body: { ...this.lease(request), metadata: { ...this.lease(request).metadata, resourceVersion: existing.metadata?.resourceVersion } },
        });
        return { acquired: true };
      } catch (error) {
        if (!isConflict(error) && !isNotFound(error)) throw error;
      }
    }
    throw new Error(`could not take lock ${namespace}/${name}: it keeps changing hands`);
  }

  private async read(scope: LockScope): Promise<LockHolder | undefined> {
    try {
      return holderOf(await this.kube.coordination.readNamespacedLease({ name: lockName(scope), namespace: scope.cluster.namespace }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** A running holder of the other level: the cluster lock for a job, any job lock for the cluster. */
  private async conflictingHolder(request: LockRequest): Promise<LockHolder | undefined> {
    const { scope } = request;
    let candidates: LockHolder[];
    if (scope.jobKey) {
      const clusterHolder = await this.read({ cluster: scope.cluster });
      candidates = clusterHolder ? [clusterHolder] : [];
    } else {
      const leases = await this.kube.coordination.listNamespacedLease({
        namespace: scope.cluster.namespace,
        labelSelector: `${CLUSTER_LABEL}=${labelValue(scope.cluster.name)},${SCOPE_LABEL}=job`,
      });
      candidates = leases.items.map(holderOf);
    }
    for (const candidate of candidates) {
      if (candidate.workflowId !== request.workflowId && (await this.isRunning(candidate.workflowId))) return candidate;
    }
    return undefined;
  }

  private lease(request: LockRequest): V1Lease {
    const now = new Date();
    return {
      metadata: {
        name: lockName(request.scope),
        namespace: request.scope.cluster.namespace,
        labels: {
          ...MANAGED_BY_LABELS,
          [CLUSTER_LABEL]: labelValue(request.scope.cluster.name),
          [SCOPE_LABEL]: request.scope.jobKey ? 'job' : 'cluster',
          ...(request.scope.jobKey ? { [JOB_KEY_LABEL]: labelValue(request.scope.jobKey) } : {}),
        },
        annotations: { [OPERATION_ANNOTATION]: request.operation },
      },
      spec: { holderIdentity: request.workflowId, acquireTime: microTime(now), renewTime: microTime(now) },
    };
  }
}

function holderOf(lease: V1Lease): LockHolder {
  const since = lease.spec?.acquireTime as unknown;
  return {
    workflowId: lease.spec?.holderIdentity ?? '',
    operation: lease.metadata?.annotations?.[OPERATION_ANNOTATION] ?? 'unknown',
    since: since instanceof Date ? since.toISOString() : typeof since === 'string' ? since : '',
  };
}

/** The workflow the calling activity works for ('' outside an activity): what `holder` needs to know who asks. */
export function callingWorkflowId(): string {
  try {
    return Context.current().info.workflowExecution?.workflowId ?? '';
  } catch {
    return '';
  }
}
