import { formatDuration } from '../model/durations';
import type { LockScopeRef } from '../model/locks';
import { checkLocation, effectiveSavepointPrefixes } from '../model/locations';
import type { JobSnapshot, TargetSnapshot } from '../model/snapshot';
import { describeVersion, describeVersionInFull, jobKeyFor, sameVersion, type ClusterRef, type TargetKind, type VersionSpec } from '../model/target';
import type { UpgradeMode, UpgradeRequest } from './request';

/**
 * The upgrade's decisions as pure functions: observation + request in, a decision with a human-readable reason out.
 * Every branch says why, and the reason ends up in the Temporal UI and the CLI.
 */
export interface UpgradePolicy {
  /** The worker's configured savepoint prefixes; empty: the cluster's own savepoint and checkpoint directories. */
  allowedSavepointPrefixes: readonly string[];
}

export interface PreflightCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface UpgradePlan {
  cluster: ClusterRef;
  kind: TargetKind;
  jobId: string;
  jobName: string;
  jobKey: string;
  /** What the upgrade holds while it runs: the job, or the whole cluster. */
  lockScope: LockScopeRef;
  from: VersionSpec;
  to: VersionSpec;
  mode: UpgradeMode;
  savepointDir?: string;
  /** Where savepoints and checkpoints may come from on this cluster (a last-state fallback must be inside). */
  allowedPrefixes: string[];
  allowNonRestoredState: boolean;
  checkpointingEnabled: boolean;
  /** Verification must see a checkpoint after the restore, so it waits at least about two checkpoint intervals. */
  verifyTimeoutMs: number;
  steps: string[];
  checks: PreflightCheck[];
  warnings: string[];
}

export type PreflightDecision = { kind: 'proceed'; plan: UpgradePlan } | { kind: 'refuse'; reason: string; checks: PreflightCheck[] };

export function decidePreflight(snapshot: TargetSnapshot, request: UpgradeRequest, policy: UpgradePolicy): PreflightDecision {
  const checks: PreflightCheck[] = [];
  const warnings: string[] = [];
  const refuse = (name: string, detail: string): PreflightDecision => {
    checks.push({ name, ok: false, detail });
    return { kind: 'refuse', reason: detail, checks };
  };
  const pass = (name: string, detail: string) => checks.push({ name, ok: true, detail });
  const cluster = `${request.cluster.namespace}/${request.cluster.name}`;

  const refusal = snapshot.refusals?.[0];
  if (refusal) return refuse('input', `${refusal.field}: ${refusal.problem}`);
  if (snapshot.problem || !snapshot.kind || !snapshot.jobManager || !snapshot.versionKind) return refuse('target', snapshot.problem ?? `cluster ${cluster} could not be observed`);
  if (request.to.kind !== snapshot.versionKind) {
    return refuse(
      'target',
      snapshot.versionKind === 'image'
        ? `${cluster} is a ${snapshot.kind} target deployed from an image: upgrade it with --image, not a jar`
        : `${cluster} runs jobs from jars (${snapshot.kind}): upgrade one of its jobs with --job and --jar, not an image`,
    );
  }
  pass('target', `${snapshot.kind} ${cluster}, Flink ${snapshot.flinkVersion ?? '?'} at ${snapshot.restUrl ?? '?'}`);

  const job = snapshot.job;
  if (!job) return refuse('job', snapshot.jobProblem ?? `no job found on ${cluster}`);
  if (job.state !== 'RUNNING') return refuse('job', `job ${job.id} (${job.name}) is ${job.state}, not RUNNING: nothing to stop with a savepoint`);
  pass('job', `job ${job.id} (${job.name}) is RUNNING, ${job.tasks.running}/${job.tasks.total} tasks running`);

  if (snapshot.lockHolder) {
    return refuse(
      'serialization',
      `another flinkops operation holds ${cluster}${request.job ? ` job ${job.name}` : ''}: ${snapshot.lockHolder.operation} ${snapshot.lockHolder.workflowId} since ${snapshot.lockHolder.since}`,
    );
  }
  pass('serialization', 'no other flinkops operation holds this job or cluster');

  if (!snapshot.record && snapshot.recordProblem) return refuse('record', snapshot.recordProblem);
  if (snapshot.recordProblem) warnings.push(snapshot.recordProblem);
  const from = request.from ?? snapshot.currentVersion;
  if (!from) {
    return refuse(
      'rollback version',
      `flinkops has no record of how job ${job.name} was deployed, so it could not roll back: pass the running version with --from-jar (and --from-entry-class/--from-args)`,
    );
  }
  const to = fillVersionDefaults(request.to, from);
  if (sameVersion(from, to)) return refuse('version', `the job already runs ${describeVersion(to)}: nothing to upgrade`);
  pass('version', `${describeVersion(from)} -> ${describeVersion(to)}`);

  for (const check of snapshot.kindChecks ?? []) {
    if (!check.ok) return refuse(check.name, check.detail);
    checks.push(check);
  }
  warnings.push(...(snapshot.kindWarnings ?? []));

  const allowedPrefixes = effectiveSavepointPrefixes(policy.allowedSavepointPrefixes, snapshot.clusterConfig);
  let savepointDir: string | undefined;
  if (request.mode !== 'stateless') {
    if (!job.checkpointing) {
      return refuse('checkpointing', `checkpointing is not enabled for job ${job.id}: flinkops cannot verify a restore (or fall back to a checkpoint) without it`);
    }
    pass('checkpointing', `every ${formatDuration(job.checkpointing.intervalMs)}, ${job.completedCheckpoints} completed so far`);
    const requested = request.savepointDir ?? snapshot.clusterConfig.savepointDir;
    const field = request.savepointDir !== undefined ? '--savepoint-dir' : 'execution.checkpointing.savepoint-dir';
    if (!requested) return refuse('savepoint directory', 'no savepoint directory: pass --savepoint-dir or set execution.checkpointing.savepoint-dir on the cluster');
    const location = checkLocation(requested, allowedPrefixes);
    if (!location.ok) return refuse('savepoint directory', `${field}: ${location.problem}`);
    savepointDir = location.location;
    pass('savepoint directory', savepointDir);
    if (request.mode === 'last-state') {
      if (!job.checkpointing.retainedOnCancellation) {
        return refuse('last-state', `job ${job.id} deletes its checkpoints on cancellation, so last-state has nothing to fall back to: set execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION`);
      }
      pass('last-state', 'retained checkpoints can serve as a fallback if the savepoint fails');
    }
  } else {
    warnings.push('stateless mode: the job is cancelled and the new version starts without any state');
  }

  const jobKey = snapshot.record?.jobKey ?? jobKeyFor(job.name);
  const plan: UpgradePlan = {
    cluster: snapshot.cluster,
    kind: snapshot.kind,
    jobId: job.id,
    jobName: job.name,
    jobKey,
    lockScope: snapshot.lockScope ?? { cluster: snapshot.cluster, jobKey },
    from,
    to,
    mode: request.mode,
    savepointDir,
    allowedPrefixes,
    allowNonRestoredState: request.allowNonRestoredState,
    checkpointingEnabled: job.checkpointing !== undefined,
    verifyTimeoutMs: verifyTimeout(request, job, warnings),
    steps: [],
    checks,
    warnings,
  };
  plan.steps = describeSteps(plan, snapshot.deployStep ?? 'deploy {version} {restore}', request);
  return { kind: 'proceed', plan };
}

function verifyTimeout(request: UpgradeRequest, job: JobSnapshot, warnings: string[]): number {
  const needed = job.checkpointing && request.mode !== 'stateless' ? 2 * job.checkpointing.intervalMs + 60_000 : 0;
  if (needed <= request.timeouts.verify) return request.timeouts.verify;
  warnings.push(`verification waits up to ${formatDuration(needed)} (not ${formatDuration(request.timeouts.verify)}): the job checkpoints only every ${formatDuration(job.checkpointing!.intervalMs)}`);
  return needed;
}

/** An upgrade that only names the new jar or image keeps the rest (entry class, arguments) of the running version. */
export function fillVersionDefaults(to: VersionSpec, from: VersionSpec): VersionSpec {
  if (to.kind === 'jar' && from.kind === 'jar') {
    return { ...to, entryClass: to.entryClass ?? from.entryClass, args: to.args ?? from.args, parallelism: to.parallelism ?? from.parallelism };
  }
  if (to.kind === 'image' && from.kind === 'image') {
    return { ...to, args: to.args ?? from.args, entryClass: to.entryClass ?? from.entryClass, jarUri: to.jarUri ?? from.jarUri, flinkVersion: to.flinkVersion ?? from.flinkVersion };
  }
  return to;
}

function describeSteps(plan: UpgradePlan, deployStep: string, request: UpgradeRequest): string[] {
  const steps: string[] = [];
  if (plan.mode === 'stateless') steps.push(`cancel job ${plan.jobId} without a savepoint (stateless mode)`);
  else steps.push(`stop job ${plan.jobId} with a savepoint into ${plan.savepointDir} (idempotent trigger, timeout ${formatDuration(request.timeouts.savepoint)})`);
  if (plan.mode === 'last-state') steps.push(`if the savepoint fails: cancel the job and restore from its newest retained checkpoint if younger than ${formatDuration(request.maxCheckpointAge)}`);
  else if (plan.mode === 'savepoint') steps.push('if the savepoint fails: stop here, the job keeps running unchanged');
  const restore = plan.mode === 'stateless' ? 'without state' : `from that savepoint${plan.allowNonRestoredState ? ' (allowing non-restored state)' : ''}`;
  steps.push(deployStep.replace('{version}', describeVersionInFull(plan.to)).replace('{restore}', restore));
  steps.push(
    `verify: all tasks RUNNING${plan.mode === 'stateless' ? '' : ', restored from exactly that savepoint'}${plan.checkpointingEnabled ? ', a checkpoint completes after the restore' : ''}, no restart for ${formatDuration(request.stabilityWindow)}`,
  );
  steps.push(
    `on failure: make sure the new job is gone, then roll back to ${describeVersionInFull(plan.from)} ${plan.mode === 'stateless' ? 'without state' : 'from the same savepoint'} and verify it the same way`,
  );
  return steps;
}

export type StopOutcome =
  | { status: 'completed'; location: string; /** From the first attempt's trigger to completion. */ durationMs?: number }
  | { status: 'failed'; reason: string }
  | { status: 'timed-out'; reason: string };

/** Where the new version starts from, once the stop step is over. */
export type RestoreDecision =
  | { kind: 'savepoint'; path: string; reason: string }
  | { kind: 'checkpoint'; path: string; checkpointId: number; reason: string }
  | { kind: 'empty-state'; reason: string }
  | { kind: 'nothing-changed'; reason: string };

/**
 * After the stop step. A failed or timed-out savepoint leaves the job running; only last-state mode may then
 * fall back to a retained checkpoint, and only one younger than the configured age.
 */
export function decideRestorePoint(plan: Pick<UpgradePlan, 'mode' | 'allowedPrefixes'>, stop: StopOutcome | undefined, job: JobSnapshot | undefined, maxCheckpointAgeMs: number, nowMs: number): RestoreDecision {
  if (plan.mode === 'stateless') return { kind: 'empty-state', reason: 'stateless mode: the new version starts without state' };
  if (stop?.status === 'completed') return { kind: 'savepoint', path: stop.location, reason: `savepoint ${stop.location} completed` };
  const failure = stop ? stop.reason : 'the savepoint was not taken';
  if (plan.mode !== 'last-state') {
    if (job && job.state !== 'RUNNING') return { kind: 'nothing-changed', reason: `${failure}; flinkops changed nothing, but the job is ${job.state} now: look at it` };
    return { kind: 'nothing-changed', reason: `${failure}; the job keeps running unchanged` };
  }
  if (!job || job.state !== 'RUNNING') {
    return { kind: 'nothing-changed', reason: `${failure}; last-state fallback not possible: the job is ${job?.state ?? 'gone'}` };
  }
  const checkpoint = job.latestCheckpoint;
  if (!checkpoint) return { kind: 'nothing-changed', reason: `${failure}; last-state fallback not possible: the job has no completed checkpoint` };
  const location = checkLocation(checkpoint.path, plan.allowedPrefixes);
  if (!location.ok) return { kind: 'nothing-changed', reason: `${failure}; last-state fallback refused: checkpoint ${location.problem}` };
  const ageMs = nowMs - checkpoint.completedAt;
  if (ageMs > maxCheckpointAgeMs) {
    return {
      kind: 'nothing-changed',
      reason: `${failure}; last-state fallback refused: the newest checkpoint is ${formatDuration(ageMs)} old, older than ${formatDuration(maxCheckpointAgeMs)}`,
    };
  }
  return {
    kind: 'checkpoint',
    path: checkpoint.path,
    checkpointId: checkpoint.id,
    reason: `${failure}; falling back to checkpoint ${checkpoint.id} (${formatDuration(ageMs)} old) in last-state mode`,
  };
}
