import { formatDuration } from '../model/durations';
import type { ClusterJob, ClusterSnapshot, ClusterSpec } from '../model/cluster-snapshot';
import type { LockScopeRef } from '../model/locks';
import { checkLocation, effectiveSavepointPrefixes } from '../model/locations';
import { describeVersionInFull, fnv1a, jobKeyFor, type ClusterRef, type JarVersion, type TargetKind } from '../model/target';
import type { PreflightCheck } from '../upgrade/decide';
import { flinkVersionOfImage, highAvailabilityOf, majorVersion, newClusterId, sameOptions, translateConfig, type ConfigChange } from './config';
import type { ClusterUpgradeRequest, FailurePolicy } from './request';

/**
 * The cluster upgrade's plan, decided from a read-only observation: every job on the cluster and how it comes back,
 * the new image and configuration, or a refusal that names what stands in the way. Pure.
 */
export interface PlannedJob {
  jobId: string;
  jobName: string;
  jobKey: string;
  lockScope: LockScopeRef;
  /** What runs now, and what comes back on the old cluster after a rollback. */
  from: JarVersion;
  /** What runs on the new cluster. */
  to: JarVersion;
  /** Where the restart spec came from. */
  source: 'record' | '--jobs';
  checkpointingEnabled: boolean;
  verifyTimeoutMs: number;
}

/** A job the user let go (--allow-drop): stopped with a savepoint when it runs, never started again by flinkops. */
export interface DroppedJob {
  jobId: string;
  jobName: string;
  jobKey: string;
  lockScope: LockScopeRef;
  running: boolean;
  reason: string;
}

export interface ClusterUpgradePlan {
  cluster: ClusterRef;
  /** The kind of target each job of the cluster is (its records say so). */
  jobKind: TargetKind;
  lockScope: LockScopeRef;
  fromVersion: string;
  toVersion: string;
  from: ClusterSpec;
  to: ClusterSpec;
  configChanges: ConfigChange[];
  jobs: PlannedJob[];
  dropped: DroppedJob[];
  savepointDir: string;
  allowedPrefixes: string[];
  concurrency: number;
  onFailure: FailurePolicy;
  checks: PreflightCheck[];
  warnings: string[];
  steps: string[];
}

export type ClusterPlanDecision = { kind: 'proceed'; plan: ClusterUpgradePlan } | { kind: 'refuse'; reason: string; checks: PreflightCheck[] };

export interface PlanIds {
  /** Six hex characters, fixed by the workflow: the suffix of a new high-availability cluster id. */
  clusterIdSuffix: string;
}

export function decideClusterPlan(snapshot: ClusterSnapshot, request: ClusterUpgradeRequest, policy: { allowedSavepointPrefixes: readonly string[] }, ids: PlanIds): ClusterPlanDecision {
  const checks: PreflightCheck[] = [];
  const warnings: string[] = [];
  const refuse = (name: string, detail: string): ClusterPlanDecision => {
    checks.push({ name, ok: false, detail });
    return { kind: 'refuse', reason: detail, checks };
  };
  const pass = (name: string, detail: string) => checks.push({ name, ok: true, detail });
  const name = `${request.cluster.namespace}/${request.cluster.name}`;

  const refusal = snapshot.refusals?.[0];
  if (refusal) return refuse('input', `${refusal.field}: ${refusal.problem}`);
  if (snapshot.problem || !snapshot.kind || !snapshot.jobManager || !snapshot.image || !snapshot.flinkVersion) return refuse('cluster', snapshot.problem ?? `cluster ${name} could not be observed`);
  if (snapshot.taskManagers.length === 0) {
    return refuse('cluster', `no TaskManager Deployment found for ${name} (app.kubernetes.io/instance of ${snapshot.jobManager.deployment}, component=taskmanager): flinkops would leave them on the old version`);
  }
  pass('cluster', `session cluster ${snapshot.cluster.namespace}/${snapshot.cluster.name}, Flink ${snapshot.flinkVersion}, image ${snapshot.image}; Deployments ${[snapshot.jobManager, ...snapshot.taskManagers].map((d) => d.deployment).join(', ')}`);
  if (snapshot.lockHolder) return refuse('serialization', `another flinkops operation holds ${name}: ${snapshot.lockHolder.operation} ${snapshot.lockHolder.workflowId} since ${snapshot.lockHolder.since}`);
  pass('serialization', 'no other flinkops operation holds the cluster or any of its jobs');

  // Versions: what the cluster runs, and what the new image runs.
  const fromVersion = snapshot.flinkVersion;
  const image = request.image ?? snapshot.image;
  const toVersion = request.flinkVersion ?? (request.image ? flinkVersionOfImage(request.image) : fromVersion);
  if (!toVersion) return refuse('flink version', `--image: the tag of ${image} does not say which Flink version it runs: pass --flink-version`);
  const fromMajor = majorVersion(fromVersion) ?? 0;
  const toMajor = majorVersion(toVersion) ?? 0;
  if (toMajor < fromMajor) return refuse('flink version', `--image: ${image} runs Flink ${toVersion}, an older major version than ${fromVersion}: savepoints of Flink ${fromMajor} cannot be restored there`);
  pass('flink version', request.image ? `Flink ${fromVersion} -> ${toVersion} (${snapshot.image} -> ${image})` : `stays Flink ${fromVersion} (${image})`);

  // Configuration: carried over, translated across a major version, with --set/--unset applied.
  const configChanging = Object.keys(request.set).length > 0 || request.unset.length > 0 || toMajor > fromMajor;
  const source = snapshot.config;
  let to: ClusterSpec = { image, flinkVersion: toVersion, ...(source ? { config: { configMap: source.configMap, volume: source.volume } } : {}) };
  let configChanges: ConfigChange[] = [];
  if (configChanging && !source) {
    return refuse('configuration', `${snapshot.configProblem ?? 'the configuration is not a ConfigMap mounted at /opt/flink/conf'}: flinkops cannot ${toMajor > fromMajor ? 'translate it for Flink ' + toVersion : 'change it'}`);
  }
  if (source) {
    const ha = highAvailabilityOf(source.options);
    const translation = translateConfig({
      file: source.file,
      options: source.options,
      fromVersion,
      toVersion,
      set: request.set,
      unset: request.unset,
      newClusterId: ha ? newClusterId(source.options, ids.clusterIdSuffix) : undefined,
    });
    configChanges = translation.changes;
    if (translation.file !== source.file || !sameOptions(translation.options, source.options)) {
      const configMap = newConfigMapName(snapshot.jobManager.deployment, translation.file, translation.options);
      to = { ...to, config: { configMap, volume: source.volume, write: { file: translation.file, options: translation.options, copyFrom: source.configMap } } };
    }
    for (const key of request.unset) if (!(key in source.options)) warnings.push(`--unset ${key}: the cluster does not set it`);
    pass('configuration', configChanges.length > 0 ? `${configChanges.length} change(s) in a new ConfigMap ${to.config!.configMap} (${source.configMap} is kept for a rollback)` : `unchanged (${source.configMap}/${source.file})`);
    if (ha) pass('high availability', `${ha}: the new configuration gets a new cluster id, so the new JobManager finds no job graph of the stopped jobs; the old id's storage is left as it is`);
  } else {
    warnings.push(`${snapshot.configProblem ?? 'the configuration is not in a ConfigMap'}: it is carried over as it is`);
  }
  if (image === snapshot.image && !to.config?.write) return refuse('change', `nothing to change: ${name} already runs ${image} with this configuration`);
  const from: ClusterSpec = { image: snapshot.image, flinkVersion: fromVersion, ...(source ? { config: { configMap: source.configMap, volume: source.volume } } : {}) };

  // Savepoints go where every job's stop writes them.
  const allowedPrefixes = effectiveSavepointPrefixes(policy.allowedSavepointPrefixes, snapshot.clusterConfig);
  const requested = request.savepointDir ?? snapshot.clusterConfig.savepointDir;
  const field = request.savepointDir !== undefined ? '--savepoint-dir' : 'execution.checkpointing.savepoint-dir';
  if (!requested) return refuse('savepoint directory', 'no savepoint directory: pass --savepoint-dir or set execution.checkpointing.savepoint-dir on the cluster');
  const location = checkLocation(requested, allowedPrefixes);
  if (!location.ok) return refuse('savepoint directory', `${field}: ${location.problem}`);
  pass('savepoint directory', location.location);

  // Every job: how it comes back, or a refusal naming it.
  if (!snapshot.jobs.length) warnings.push('the cluster runs no job: only the cluster changes');
  if (snapshot.recordProblem) warnings.push(snapshot.recordProblem);
  const jobs: PlannedJob[] = [];
  const dropped: DroppedJob[] = [];
  const refusals: string[] = [];
  // In name order: Flink lists jobs in no fixed order, and one refusal names every job in the way.
  for (const entry of [...snapshot.jobs].sort((a, b) => a.job.name.localeCompare(b.job.name) || a.job.id.localeCompare(b.job.id))) {
    const planned = planJob(entry, snapshot, request, warnings);
    if ('refuse' in planned) {
      checks.push({ name: `job ${entry.job.name}`, ok: false, detail: planned.refuse });
      refusals.push(planned.refuse);
    } else if ('dropped' in planned) dropped.push(planned.dropped);
    else jobs.push(planned.job);
  }
  if (refusals.length > 0) return { kind: 'refuse', reason: refusals.join('; '), checks };
  for (const mapped of Object.keys(request.jobs)) {
    if (!snapshot.jobs.some((j) => j.job.name === mapped)) warnings.push(`--jobs names ${mapped}, which does not run on the cluster`);
  }
  for (const drop of request.allowDrop) {
    if (!snapshot.jobs.some((j) => j.job.name === drop || j.job.id === drop)) warnings.push(`--allow-drop ${drop}: no such job runs on the cluster`);
  }
  pass('jobs', `${jobs.length} job(s) to carry${dropped.length ? `, ${dropped.length} let go (--allow-drop)` : ''}`);

  const plan: ClusterUpgradePlan = {
    cluster: snapshot.cluster,
    jobKind: snapshot.kind,
    lockScope: { cluster: snapshot.cluster },
    fromVersion,
    toVersion,
    from,
    to,
    configChanges,
    jobs,
    dropped,
    savepointDir: location.location,
    allowedPrefixes,
    concurrency: request.concurrency,
    onFailure: request.onFailure,
    checks,
    warnings,
    steps: [],
  };
  plan.steps = describeClusterSteps(plan, request);
  return { kind: 'proceed', plan };
}

function planJob(entry: ClusterJob, snapshot: ClusterSnapshot, request: ClusterUpgradeRequest, warnings: string[]): { job: PlannedJob } | { dropped: DroppedJob } | { refuse: string } {
  const { job, record } = entry;
  const jobKey = record?.jobKey ?? jobKeyFor(job.name);
  const lockScope = { cluster: snapshot.cluster, jobKey };
  const label = `job ${job.name} (${job.id})`;
  if (request.allowDrop.includes(job.name) || request.allowDrop.includes(job.id)) {
    const running = job.state === 'RUNNING';
    const latest = job.latestCheckpoint ? `; its latest checkpoint is ${job.latestCheckpoint.path}` : '';
    return {
      dropped: {
        jobId: job.id,
        jobName: job.name,
        jobKey,
        lockScope,
        running,
        reason: running ? 'let go (--allow-drop): stopped with a savepoint and not started again' : `let go (--allow-drop): it is ${job.state}, so no savepoint can be taken and it ends with the old JobManager${latest}`,
      },
    };
  }
  if (entry.lockHolder) return { refuse: `${label} is held by another flinkops operation: ${entry.lockHolder.operation} ${entry.lockHolder.workflowId}` };
  if (job.state !== 'RUNNING') return { refuse: `${label} is ${job.state}, not RUNNING: it cannot be stopped with a savepoint; let it go with --allow-drop ${job.name}` };
  if (!job.checkpointing) return { refuse: `${label} has checkpointing off: flinkops cannot verify its restore; let it go with --allow-drop ${job.name}` };
  const jarProblem = snapshot.jarProblems?.[job.name];
  if (jarProblem) return { refuse: `--jobs: the jar of ${job.name}: ${jarProblem}` };

  const recorded = record?.currentVersion?.kind === 'jar' ? record.currentVersion : undefined;
  const mapped = request.jobs[job.name];
  if (mapped && snapshot.jobs.filter((j) => j.job.name === job.name).length > 1) {
    return { refuse: `--jobs maps ${job.name}, but ${snapshot.jobs.filter((j) => j.job.name === job.name).length} jobs on the cluster have that name` };
  }
  let from: JarVersion;
  let to: JarVersion;
  let source: PlannedJob['source'];
  if (mapped) {
    const { rollback, ...next } = mapped;
    to = { kind: 'jar', ...next, args: next.args ?? recorded?.args, entryClass: next.entryClass ?? recorded?.entryClass };
    if (rollback) from = { kind: 'jar', ...rollback };
    else if (recorded) from = recorded;
    else {
      from = to;
      warnings.push(`${label}: flinkops has no record of the jar it runs now, so a rollback starts it with ${describeVersionInFull(to)} (give "rollback" in --jobs to say otherwise)`);
    }
    source = '--jobs';
  } else if (recorded) {
    from = recorded;
    to = recorded;
    source = 'record';
  } else {
    return { refuse: `${label}: flinkops does not know how to start it again (no record of its jar): map it in --jobs FILE, or let it go with --allow-drop ${job.name}` };
  }
  const interval = job.checkpointing.intervalMs;
  const needed = 2 * interval + 60_000;
  const verifyTimeoutMs = Math.max(request.timeouts.verify, needed);
  if (needed > request.timeouts.verify) warnings.push(`${label}: verification waits up to ${formatDuration(needed)}: the job checkpoints only every ${formatDuration(interval)}`);
  return { job: { jobId: job.id, jobName: job.name, jobKey, lockScope, from, to, source, checkpointingEnabled: true, verifyTimeoutMs } };
}

/** A ConfigMap name for a configuration, from its content: the same content gets the same name (a retry writes nothing new). */
export function newConfigMapName(jobManagerDeployment: string, file: string, options: Record<string, string>): string {
  const content = `${file}\n${Object.keys(options).sort().map((k) => `${k}=${options[k]}`).join('\n')}`;
  return `${jobManagerDeployment.slice(0, 200)}-config-${fnv1a(content)}`;
}

function describeClusterSteps(plan: ClusterUpgradePlan, request: ClusterUpgradeRequest): string[] {
  const steps: string[] = [];
  const deployments = 'the JobManager and TaskManager Deployments';
  if (plan.to.config?.write) steps.push(`write the new configuration to ConfigMap ${plan.to.config.configMap} (${plan.to.config.write.file}); ${plan.from.config?.configMap} stays for a rollback`);
  steps.push(`take the cluster's lock and each job's lock (scheduled savepoints skip while this runs)`);
  const stopped = [...plan.jobs.map((j) => j.jobName), ...plan.dropped.filter((d) => d.running).map((d) => d.jobName)];
  steps.push(
    `stop ${stopped.length} job(s) with a savepoint into ${plan.savepointDir}, ${plan.concurrency} at a time (fixed trigger ids, timeout ${formatDuration(request.timeouts.savepoint)}): ${stopped.join(', ') || 'none'}`,
  );
  steps.push('if any stop fails: start the jobs already stopped again on the unchanged cluster from their savepoints; nothing else changes');
  steps.push(
    `roll ${deployments} to ${plan.to.image}${plan.to.config?.write ? ` with ConfigMap ${plan.to.config.configMap}` : ''}: the JobManager first (Kubernetes' rollout, no pod of the old revision left, the new JobManager answering), then the TaskManagers (rollout, each registered) (timeout ${formatDuration(request.timeouts.deploy)})`,
  );
  for (const job of plan.jobs) {
    steps.push(`start ${job.jobName} from its savepoint with a fixed job id: ${describeVersionInFull(job.to)}${job.source === '--jobs' ? ' (from --jobs)' : ''}; verify it restored from exactly that savepoint, completed a checkpoint, and did not restart for ${formatDuration(request.stabilityWindow)}`);
  }
  for (const job of plan.dropped) steps.push(`${job.jobName}: ${job.reason}`);
  steps.push(
    plan.onFailure === 'rollback'
      ? `if any job fails to restore or verify: make sure the new jobs are gone, roll ${deployments} back to ${plan.from.image}${plan.from.config ? ` with ConfigMap ${plan.from.config.configMap}` : ''}, and start every job with its previous version from the same savepoints, verified`
      : 'if a job fails to restore or verify: make sure it is gone and report it with its savepoint; the jobs that verified stay on the new cluster',
  );
  return steps;
}
