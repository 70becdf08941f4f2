import { lockScopeFor } from '../workflows/model/locks';
import type { UpgradePolicy } from '../workflows/upgrade/decide';
import type { JobRecord } from '../workflows/model/record';
import type { JobSnapshot, TargetSnapshot } from '../workflows/model/snapshot';
import { JOB_ID_PATTERN, jobKeyFor, type ClusterRef } from '../workflows/model/target';
import { connectTarget, jobRecords, operationLocks, type ActivityContext } from './context';
import { FlinkRestError } from './flink/rest-client';
import { snapshotJob } from './flink/job-snapshot';
import type { JobOverview } from './flink/schemas';
import { TERMINAL_JOB_STATES } from './flink/schemas';
import { isReadableFile } from './targets/session-job';

export interface ObserveRequest {
  cluster: ClusterRef;
  /** A job id or name; required for session clusters, optional for application clusters. */
  job?: string;
  restUrl?: string;
  /** A jar the worker will need to read (the new version of a session job). */
  jarPath?: string;
}

/** Read-only: the cluster, the job, flinkops' record of it and whoever holds its lock. */
export function createObserveActivities(ctx: ActivityContext) {
  return {
    /** The worker's configured limits that decisions depend on. */
    // eslint-disable-next-line @typescript-eslint/require-await
    async getOperationPolicy(): Promise<UpgradePolicy> {
      return { allowedSavepointPrefixes: ctx.settings.savepoints.allowedPrefixes };
    },

    async observeTarget(request: ObserveRequest): Promise<TargetSnapshot> {
      const snapshot: TargetSnapshot = { cluster: request.cluster, observedAt: Date.now(), clusterConfig: {}, taskManagers: [] };
      const target = await connectTarget(ctx, request.cluster, request.restUrl);
      if ('problem' in target) return { ...snapshot, problem: target.problem };
      const { cluster, flink } = target;
      // However the user named it (release or Deployment), records and locks are keyed by the JobManager Deployment.
      snapshot.cluster = cluster.id;
      snapshot.kind = cluster.kind;
      snapshot.restUrl = target.restUrl;
      snapshot.jobManager = {
        deployment: cluster.jobManager.metadata!.name!,
        container: cluster.jobManagerContainer.name,
        image: cluster.jobManagerContainer.image ?? '',
        args: cluster.jobManagerContainer.args ?? [],
        replicas: cluster.jobManager.spec?.replicas ?? 1,
        strategy: cluster.jobManager.spec?.strategy?.type ?? 'RollingUpdate',
      };
      snapshot.taskManagers = cluster.taskManagers.map((d) => {
        const container = d.spec?.template.spec?.containers[0];
        return { deployment: d.metadata!.name!, container: container?.name ?? '', image: container?.image ?? '', args: container?.args ?? [] };
      });
      if (request.jarPath) snapshot.jarReadable = await isReadableFile(request.jarPath);

      let jobs: JobOverview[];
      try {
        const [overview, config, list] = await Promise.all([flink.overview(), flink.jobManagerConfig(), flink.listJobs()]);
        snapshot.flinkVersion = overview['flink-version'];
        snapshot.clusterConfig = {
          savepointDir: config['execution.checkpointing.savepoint-dir'] ?? config['state.savepoints.dir'],
          highAvailability: config['high-availability.type'] ?? config['high-availability'],
          shutdownOnApplicationFinish: config['execution.shutdown-on-application-finish'] === undefined ? undefined : config['execution.shutdown-on-application-finish'] === 'true',
        };
        jobs = list;
      } catch (error) {
        if (error instanceof FlinkRestError) return { ...snapshot, problem: `Flink REST API of ${request.cluster.namespace}/${request.cluster.name} at ${target.restUrl} is not answering: ${error.message}` };
        throw error;
      }

      const records = await jobRecords(ctx).list(cluster.id);
      const found = chooseJob(jobs, records, request.job, cluster.kind === 'application');
      if ('problem' in found) {
        snapshot.jobProblem = found.problem;
      } else {
        snapshot.job = await snapshotJob(flink, found.job.jid);
        snapshot.record = records.find((r) => r.currentJobId === found.job.jid) ?? records.find((r) => r.jobName === found.job.name);
      }
      snapshot.currentVersion = target.adapter.currentVersion() ?? snapshot.record?.currentVersion;
      const jobKey = snapshot.record?.jobKey ?? (snapshot.job ? jobKeyFor(snapshot.job.name) : undefined);
      if (jobKey) snapshot.lockHolder = await operationLocks(ctx).holder(lockScopeFor(cluster.kind, cluster.id, jobKey));
      return snapshot;
    },

    /** The job as Flink reports it now (state, tasks, checkpoints, restarts). */
    async observeJob(request: { cluster: ClusterRef; restUrl?: string; jobId: string }): Promise<JobSnapshot | undefined> {
      const target = await connectTarget(ctx, request.cluster, request.restUrl);
      if ('problem' in target) throw new Error(target.problem);
      try {
        return await snapshotJob(target.flink, request.jobId);
      } catch (error) {
        if (error instanceof FlinkRestError && error.isNotFound) return undefined;
        throw error;
      }
    },
  };
}

/** The job a request is about: by id, by name, through flinkops' record, or the only job of an application. */
export function chooseJob(jobs: JobOverview[], records: JobRecord[], wanted: string | undefined, singleJobCluster: boolean): { job: JobOverview } | { problem: string } {
  const active = jobs.filter((j) => !TERMINAL_JOB_STATES.includes(j.state));
  if (wanted) {
    const record = records.find((r) => r.jobKey === wanted || r.currentJobId === wanted || r.jobName === wanted);
    if (JOB_ID_PATTERN.test(wanted)) {
      const byId = jobs.find((j) => j.jid === wanted);
      return byId ? { job: byId } : { problem: `no job with id ${wanted} on the cluster` };
    }
    const byName = active.filter((j) => j.name === wanted);
    if (byName.length === 1) return { job: byName[0]! };
    if (byName.length > 1) return { problem: `${byName.length} running jobs are named "${wanted}" (${byName.map((j) => j.jid).join(', ')}): name one by id` };
    const byRecord = record && jobs.find((j) => j.jid === record.currentJobId);
    if (byRecord) return { job: byRecord };
    return { problem: `no running job named "${wanted}" on the cluster` };
  }
  if (!singleJobCluster) return { problem: 'name the job with --job (a job id or name): a session cluster runs several' };
  if (active.length === 1) return { job: active[0]! };
  if (active.length === 0) {
    const newest = [...jobs].sort((a, b) => b['start-time'] - a['start-time'])[0];
    return newest ? { job: newest } : { problem: 'the cluster runs no job' };
  }
  return { problem: `the cluster runs ${active.length} jobs (${active.map((j) => j.jid).join(', ')}): name one with --job` };
}
