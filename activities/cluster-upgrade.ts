import { heartbeat } from './heartbeat';
import type { ClusterJob, ClusterSnapshot, ClusterSpec } from '../workflows/model/cluster-snapshot';
import { jobKeyFor, type ClusterRef } from '../workflows/model/target';
import { jobRecords, operationLocks, type ActivityContext } from './context';
import { callingWorkflowId } from './locks/operation-lock';
import { FlinkRestError } from './flink/rest-client';
import { TERMINAL_JOB_STATES } from './flink/schemas';
import { checkJar, PolicyRefusal } from './policy';
import { openClusterTarget, openTarget, type ClusterTarget, type RolledCluster } from './targets/seam';
import { ApplicationFailure } from '@temporalio/common';

export interface ObserveClusterRequest {
  cluster: ClusterRef;
  restUrl?: string;
  /** Jars the plan would start jobs from (--jobs), by job name: checked against the worker's jar policy. */
  jars?: Record<string, string[]>;
}

export interface ClusterSpecRequest {
  cluster: ClusterRef;
  restUrl?: string;
  spec: ClusterSpec;
}

/** The session cluster as a whole: its inventory (read-only), and changing its image and configuration. */
export function createClusterUpgradeActivities(ctx: ActivityContext) {
  const open = async (cluster: ClusterRef, restUrl?: string): Promise<ClusterTarget> => {
    let target: ClusterTarget | { problem: string };
    try {
      target = await openClusterTarget(ctx, { cluster, restUrl });
    } catch (error) {
      if (error instanceof PolicyRefusal) throw ApplicationFailure.nonRetryable(error.message, 'PolicyRefused');
      throw error;
    }
    if ('problem' in target) throw ApplicationFailure.retryable(target.problem, 'TargetUnavailable');
    return target;
  };

  return {
    /**
     * Every job on the cluster (flinkops started it or not) with its record and lock, the Deployments, the image and
     * the configuration. A real answer that refuses is in the snapshot; one that could not be made throws (retried).
     */
    async observeSessionCluster(request: ObserveClusterRequest): Promise<ClusterSnapshot> {
      const snapshot: ClusterSnapshot = {
        cluster: request.cluster,
        taskManagers: [],
        clusterConfig: {},
        allowedSavepointPrefixes: ctx.settings.savepoints.allowedPrefixes,
        jobs: [],
      };
      let target: ClusterTarget | { problem: string };
      try {
        target = await openClusterTarget(ctx, { cluster: request.cluster, restUrl: request.restUrl });
      } catch (error) {
        if (!(error instanceof PolicyRefusal)) throw error;
        return { ...snapshot, refusals: [{ field: error.field, problem: error.problem }] };
      }
      if ('problem' in target) return { ...snapshot, problem: target.problem };
      const jobTarget = await openTarget(ctx, { cluster: request.cluster, restUrl: request.restUrl });
      if ('problem' in jobTarget) return { ...snapshot, problem: jobTarget.problem };
      snapshot.cluster = target.id;
      snapshot.kind = jobTarget.kind;
      snapshot.restUrl = target.restUrl;

      const jarProblems: Record<string, string> = {};
      for (const [job, jars] of Object.entries(request.jars ?? {})) {
        for (const jar of jars) {
          await checkJar(jar, ctx.settings.jars).catch((error: unknown) => {
            if (!(error instanceof PolicyRefusal)) throw error;
            jarProblems[job] = error.problem;
          });
        }
      }
      if (Object.keys(jarProblems).length > 0) snapshot.jarProblems = jarProblems;

      const { flink } = target;
      const [overview, config, jobs] = await Promise.all([flink.overview(), flink.jobManagerConfig(), flink.listJobs()]);
      snapshot.flinkVersion = overview['flink-version'];
      snapshot.taskSlots = { total: overview['slots-total'], available: overview['slots-available'], taskManagers: overview.taskmanagers };
      snapshot.clusterConfig = {
        savepointDir: config['execution.checkpointing.savepoint-dir'] ?? config['state.savepoints.dir'],
        checkpointDir: config['execution.checkpointing.dir'] ?? config['state.checkpoints.dir'],
      };
      Object.assign(snapshot, await target.describe(snapshot.flinkVersion));

      const { records, invalid } = await jobRecords(ctx).list(target.id);
      if (invalid.length > 0) snapshot.recordProblem = invalid.map((i) => i.message).join('; ');
      const locks = operationLocks(ctx);
      for (const listed of jobs.filter((j) => !TERMINAL_JOB_STATES.includes(j.state))) {
        let facts;
        try {
          facts = await jobTarget.jobFacts(listed.jid);
        } catch (error) {
          if (error instanceof FlinkRestError && error.isNotFound) continue; // gone between the list and the details
          throw error;
        }
        const record = records.find((r) => r.currentJobId === listed.jid) ?? records.find((r) => r.jobName === listed.name);
        const entry: ClusterJob = { job: facts, ...(record ? { record } : {}) };
        const holder = await locks.holder({ cluster: target.id, jobKey: record?.jobKey ?? jobKeyFor(listed.name) }, callingWorkflowId());
        if (holder) entry.lockHolder = holder;
        snapshot.jobs.push(entry);
      }
      const holder = await locks.holder({ cluster: target.id }, callingWorkflowId());
      if (holder) snapshot.lockHolder = holder;
      return snapshot;
    },

    /** Writes what the new spec needs before any job stops (its ConfigMap); idempotent. */
    async prepareClusterSpec(request: ClusterSpecRequest): Promise<void> {
      await (await open(request.cluster, request.restUrl)).prepare(request.spec);
    },

    /** Removes what prepareClusterSpec wrote, when the spec is not used (best effort). */
    async discardClusterSpec(request: ClusterSpecRequest): Promise<void> {
      await (await open(request.cluster, request.restUrl)).discard(request.spec);
    },

    /** Puts the spec on the Deployments and waits for the rollout and the TaskManagers; idempotent. */
    async rollSessionCluster(request: ClusterSpecRequest & { timeoutMs: number }): Promise<RolledCluster> {
      return (await open(request.cluster, request.restUrl)).roll(request.spec, request.timeoutMs, (progress) => heartbeat(progress));
    },
  };
}
