import { formatDuration } from '../workflows/model/durations';
import type { JobRecord } from '../workflows/model/record';
import type { JobSnapshot, TargetSnapshot } from '../workflows/model/snapshot';
import { JOB_ID_PATTERN, jobKeyFor, type ClusterRef } from '../workflows/model/target';
import type { UpgradePolicy } from '../workflows/upgrade/decide';
import { requireTarget, jobRecords, operationLocks, type ActivityContext } from './context';
import { callingWorkflowId } from './locks/operation-lock';
import { FlinkRestError } from './flink/rest-client';
import type { JobOverview } from './flink/schemas';
import { TERMINAL_JOB_STATES } from './flink/schemas';
import { PolicyRefusal } from './policy';
import { openTarget, type FlinkTarget } from './targets/seam';

export interface ObserveRequest {
  cluster: ClusterRef;
  /** A job id or name; required for session clusters, optional for single-job targets. */
  job?: string;
  restUrl?: string;
  /** A jar the worker will need to read (the new version of a session job): checked against the jar policy. */
  jarPath?: string;
  /** A jar URI of an image version (application FlinkDeployments): checked against the jar URI policy. */
  jarUri?: string;
  /** For the kind's upgrade checks and the plan's wording. */
  mode?: 'savepoint' | 'last-state' | 'stateless';
  savepointDir?: string;
  deployTimeoutMs?: number;
}

/** Read-only: the cluster, the job, flinkops' record of it and whoever holds its lock. */
export function createObserveActivities(ctx: ActivityContext) {
  return {
    /** The worker's configured limits that decisions depend on. */
    // eslint-disable-next-line @typescript-eslint/require-await
    async getOperationPolicy(): Promise<UpgradePolicy> {
      return { allowedSavepointPrefixes: ctx.settings.savepoints.allowedPrefixes };
    },

    /**
     * A real answer that refuses (no such cluster, a refused input, no such job) is in the snapshot; an observation
     * that could not be made (Flink or Kubernetes not answering) throws, and the activity is retried.
     */
    async observeTarget(request: ObserveRequest): Promise<TargetSnapshot> {
      const snapshot: TargetSnapshot = {
        cluster: request.cluster,
        observedAt: Date.now(),
        allowedSavepointPrefixes: ctx.settings.savepoints.allowedPrefixes,
        clusterConfig: {},
        taskManagers: [],
      };
      const refusals: { field: string; problem: string }[] = [];
      let target: FlinkTarget | { problem: string };
      try {
        target = await openTarget(ctx, { cluster: request.cluster, restUrl: request.restUrl, job: request.job });
      } catch (error) {
        if (!(error instanceof PolicyRefusal)) throw error;
        return { ...snapshot, refusals: [{ field: error.field, problem: error.problem }] };
      }
      if ('problem' in target) return { ...snapshot, problem: target.problem };
      if (request.jarPath) {
        await target.checkJar(request.jarPath).catch((error: unknown) => {
          if (!(error instanceof PolicyRefusal)) throw error;
          snapshot.jarProblem = error.problem;
          refusals.push({ field: error.field, problem: error.problem });
        });
      }
      if (request.jarUri) {
        const checked = target.checkJarUri
          ? target.checkJarUri(request.jarUri)
          : Promise.reject(new PolicyRefusal('--jar-uri', `${request.jarUri}: only an application FlinkDeployment takes a jar URI (${target.kind} ${target.id.namespace}/${target.id.name})`));
        await checked.catch((error: unknown) => {
          if (!(error instanceof PolicyRefusal)) throw error;
          snapshot.jarProblem = error.problem;
          refusals.push({ field: error.field, problem: error.problem });
        });
      }
      const { flink } = target;
      // However the user named it (release, Deployment, operator resource), records and locks are keyed by one name.
      snapshot.cluster = target.id;
      snapshot.kind = target.kind;
      snapshot.versionKind = target.versionKind;
      snapshot.savepointOwner = target.savepointOwner;
      snapshot.restUrl = target.restUrl;
      snapshot.deployStep = target.describeDeploy(formatDuration(request.deployTimeoutMs ?? 300_000));
      const deployments = target.deployments();
      snapshot.jobManager = deployments.jobManager;
      snapshot.taskManagers = deployments.taskManagers;
      if (refusals.length > 0) snapshot.refusals = refusals;

      // Flink not answering (after the client's own retries) throws: "unknown", never a refusal.
      const [overview, config, jobs] = await Promise.all([flink.overview(), flink.jobManagerConfig(), flink.listJobs()]);
      snapshot.flinkVersion = overview['flink-version'];
      snapshot.clusterConfig = {
        savepointDir: config['execution.checkpointing.savepoint-dir'] ?? config['state.savepoints.dir'],
        checkpointDir: config['execution.checkpointing.dir'] ?? config['state.checkpoints.dir'],
        highAvailability: config['high-availability.type'] ?? config['high-availability'],
        shutdownOnApplicationFinish: config['execution.shutdown-on-application-finish'] === undefined ? undefined : config['execution.shutdown-on-application-finish'] === 'true',
      };
      const kind = target.upgradeChecks({ config: snapshot.clusterConfig, mode: request.mode ?? 'savepoint', savepointDir: request.savepointDir });
      snapshot.kindChecks = kind.checks;
      snapshot.kindWarnings = kind.warnings;

      const { records, invalid } = await jobRecords(ctx).list(target.id);
      if (invalid.length > 0) snapshot.recordProblem = invalid.map((i) => i.message).join('; ');
      const found = chooseJob(jobs, records, target.ownJobId ?? request.job, target.singleJob);
      if ('problem' in found) {
        snapshot.jobProblem = found.problem;
      } else {
        snapshot.job = await observeJobFacts(target, found.job.jid);
        snapshot.record = records.find((r) => r.currentJobId === found.job.jid) ?? records.find((r) => r.jobName === found.job.name);
      }
      snapshot.currentVersion = target.currentVersion() ?? snapshot.record?.currentVersion;
      const jobKey = snapshot.record?.jobKey ?? (snapshot.job ? jobKeyFor(snapshot.job.name) : undefined);
      if (jobKey) {
        snapshot.lockScope = target.lockScope(jobKey);
        snapshot.lockHolder = await operationLocks(ctx).holder(snapshot.lockScope, callingWorkflowId());
      }
      return snapshot;
    },

    /** The job as Flink reports it now (state, tasks, checkpoints, restarts); undefined when Flink does not know it. */
    async observeJob(request: { cluster: ClusterRef; restUrl?: string; jobId: string }): Promise<JobSnapshot | undefined> {
      const target = await requireTarget(ctx, request.cluster, request.restUrl);
      try {
        return await target.jobFacts(request.jobId);
      } catch (error) {
        if (error instanceof FlinkRestError && error.isNotFound) return undefined;
        throw error;
      }
    },
  };
}

async function observeJobFacts(target: FlinkTarget, jobId: string): Promise<JobSnapshot | undefined> {
  try {
    return await target.jobFacts(jobId);
  } catch (error) {
    // Gone between the list and the details: the next observation tells.
    if (error instanceof FlinkRestError && error.isNotFound) return undefined;
    throw error;
  }
}

/** The job a request is about: by id, by name, through flinkops' record, or the only job of a single-job target. */
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
