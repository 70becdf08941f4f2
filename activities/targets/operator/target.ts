import { Context, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { formatDuration } from '../../../workflows/model/durations';
import type { JobSnapshot } from '../../../workflows/model/snapshot';
import { describeVersion, type VersionSpec } from '../../../workflows/model/target';
import type { StopOutcome } from '../../../workflows/upgrade/decide';
import { snapshotJob } from '../../flink/job-snapshot';
import { heartbeat } from '../../heartbeat';
import { checkJarUri, PolicyRefusal } from '../../policy';
import {
  deleteFlinkResource,
  operatorError as operatorErrorOf,
  upgradeSavepointOf,
  patchFlinkResource,
  readFlinkResource,
  reconciledGeneration as reconciledGenerationOf,
  type FlinkPlural,
  type FlinkResource,
} from '../../kube/flink-resources';
import type { DeployRequest, FlinkTarget, PreparedVersion, RetireOutcome, SavepointOperation, TargetDeps, TargetEndpoint, UpgradeFacts } from '../seam';
import { operatorUpgradeChecks } from './preflight';
import type { OperatorResource } from './resolve';
import { completeRecreation, pendingRecreation, recordRecreationIntent } from './recreation';
import { recordStateSnapshot } from './state-snapshots';

/** Annotation carrying the id of the deployment step that last changed the resource: a retried step finds its own change. */
export const DEPLOYMENT_STEP_ANNOTATION = 'flinkops.dev/deployment-step';
/** Annotation carrying the job id the step replaced: a retried step still knows which job is the old one. */
export const REPLACED_JOB_ANNOTATION = 'flinkops.dev/replaced-job';
const POLL_MS = 1_000;
const CLOCK_SKEW_MS = 60_000;

/**
 * A resource of the Flink Kubernetes Operator (a FlinkSessionJob, or an application FlinkDeployment). flinkops never
 * stops or submits its job through REST: every step is a declarative change of the resource's spec, and the
 * operator's own status says when it is done.
 * - stop with savepoint: `job.state: suspended`, `upgradeMode: savepoint`; the savepoint is the one the operator took;
 * - deploy: the resource recreated with the new version, `job.state: running` and `initialSavepointPath` set to the
 *   restore point (see deploy() for why not a spec change);
 * - retire: `job.state: suspended`, `upgradeMode: stateless` (no new savepoint of the version that goes);
 * - savepoint: `job.savepointTriggerNonce`, derived from the workflow's trigger id (a retry sets the same nonce).
 * Flink's REST API is only read (verification).
 */
export class OperatorTarget implements FlinkTarget {
  readonly kind: OperatorResource['kind'];
  readonly versionKind: VersionSpec['kind'];
  readonly savepointOwner = 'operator' as const;
  readonly singleJob = true;
  readonly restUrl: string;
  readonly flink: FlinkTarget['flink'];
  private readonly plural: FlinkPlural;

  constructor(
    private readonly deps: TargetDeps,
    readonly found: OperatorResource,
    endpoint: TargetEndpoint,
  ) {
    this.kind = found.kind;
    this.versionKind = found.kind === 'operator-session-job' ? 'jar' : 'image';
    this.plural = found.kind === 'operator-session-job' ? 'flinksessionjobs' : 'flinkdeployments';
    this.restUrl = endpoint.restUrl;
    this.flink = endpoint.flink;
  }

  get id() {
    return this.found.id;
  }

  get ref() {
    return this.found.ref;
  }

  get ownJobId(): string | undefined {
    return this.found.resource.status?.jobStatus?.jobId ?? undefined;
  }

  /** The JobManager as the FlinkDeployment describes it (the operator names its Deployment after the resource). */
  deployments() {
    const spec = this.found.deployment.spec as { image?: string; jobManager?: { replicas?: number } };
    return {
      jobManager: { deployment: this.found.deployment.metadata.name, container: 'flink-main-container', image: spec.image ?? '', args: [], replicas: spec.jobManager?.replicas ?? 1, strategy: 'operator' },
      taskManagers: [],
    };
  }

  currentVersion(): VersionSpec | undefined {
    const spec = this.found.resource.spec;
    const job = spec.job;
    if (!job) return undefined;
    if (this.kind === 'operator-session-job') {
      return job.jarURI ? { kind: 'jar', jar: job.jarURI, entryClass: job.entryClass, args: job.args, parallelism: job.parallelism } : undefined;
    }
    return spec.image ? { kind: 'image', image: spec.image, args: job.args, entryClass: job.entryClass, jarUri: job.jarURI, flinkVersion: spec.flinkVersion } : undefined;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- a refusal must reject, not throw synchronously
  async checkJar(jar: string): Promise<string> {
    if (this.kind !== 'operator-session-job') throw new PolicyRefusal('--jar', `${jar}: an application FlinkDeployment is upgraded with --image (and --jar-uri), not --jar`);
    return checkJarUri(jar, this.deps.settings.jars.allowedUris);
  }

  /** A jar in the image (`local://`) comes with the image; any other URI must be an allowed one. */
  // eslint-disable-next-line @typescript-eslint/require-await -- a refusal must reject, not throw synchronously
  async checkJarUri(uri: string): Promise<string> {
    if (this.kind !== 'operator-deployment') throw new PolicyRefusal('--jar-uri', `${uri}: a FlinkSessionJob takes its jar URI with --jar`);
    if (/^local:\/\/\//.test(uri)) return uri;
    return checkJarUri(uri, this.deps.settings.jars.allowedUris, '--jar-uri');
  }

  lockScope() {
    return { cluster: this.id };
  }

  upgradeChecks(facts: UpgradeFacts) {
    return operatorUpgradeChecks(this.found, facts);
  }

  describeDeploy(timeout: string): string {
    const what = this.kind === 'operator-session-job' ? 'FlinkSessionJob' : 'FlinkDeployment';
    return `change the ${what} ${this.id.namespace}/${this.id.name} to {version} and let the Flink Kubernetes Operator start it {restore}; wait for its status (timeout ${timeout})`;
  }

  storageDirectories() {
    const config = this.found.deployment.spec.flinkConfiguration ?? {};
    return Promise.resolve({
      savepointDir: config['execution.checkpointing.savepoint-dir'] ?? config['state.savepoints.dir'],
      checkpointDir: config['execution.checkpointing.dir'] ?? config['state.checkpoints.dir'],
    });
  }

  jobFacts(jobId: string): Promise<JobSnapshot> {
    return snapshotJob(this.flink, jobId);
  }

  /** Suspends the job with a savepoint (the operator's stop-with-savepoint) and reports the savepoint it took. */
  async stopWithSavepoint(operation: SavepointOperation): Promise<StopOutcome> {
    const startedAt = this.firstStartedAt(operation.triggerId);
    const resource = await this.read();
    if (resource.spec.job?.state !== 'suspended') {
      await this.patch({ spec: { job: { state: 'suspended', upgradeMode: 'savepoint' } } });
    }
    const done = await this.waitFor(operation.timeoutMs, startedAt, operation.triggerId, (r) => {
      const taken = upgradeSavepointOf(r, startedAt - CLOCK_SKEW_MS);
      return r.status?.lifecycleState === 'SUSPENDED' && taken ? { location: taken } : undefined;
    });
    if (done) {
      await recordStateSnapshot(this.deps.kube, this.found, done.location, 'stop');
      return { status: 'completed', location: done.location, durationMs: Date.now() - startedAt };
    }
    // Not suspended in time: the operator may still be trying. Ask for the job to run again, so it is left as it was.
    const error = this.operatorError(await this.read());
    await this.patch({ spec: { job: { state: 'running' } } });
    return { status: 'failed', reason: `the operator did not suspend the job with a savepoint within ${formatDuration(operation.timeoutMs)}${error ? ` (${error})` : ''}; flinkops set it back to running` };
  }

  /** A savepoint of the running job, through the resource's savepoint trigger nonce. */
  async triggerSavepoint(operation: SavepointOperation): Promise<StopOutcome> {
    const startedAt = this.firstStartedAt(operation.triggerId);
    const nonce = nonceOf(operation.triggerId);
    const resource = await this.read();
    if (resource.spec.job?.savepointTriggerNonce !== nonce) await this.patch({ spec: { job: { savepointTriggerNonce: nonce } } });
    const done = await this.waitFor(operation.timeoutMs, startedAt, operation.triggerId, (r) => {
      const history = [r.status?.jobStatus?.savepointInfo?.lastSavepoint, ...(r.status?.jobStatus?.savepointInfo?.savepointHistory ?? [])];
      const ours = history.find((s) => s?.triggerNonce === nonce && s.location);
      return ours?.location ? { location: ours.location } : undefined;
    });
    if (!done) {
      const error = this.operatorError(await this.read());
      return { status: 'timed-out', reason: `the operator did not report the savepoint within ${formatDuration(operation.timeoutMs)}${error ? ` (${error})` : ''}` };
    }
    await recordStateSnapshot(this.deps.kube, this.found, done.location, 'savepoint');
    return { status: 'completed', location: done.location, durationMs: Date.now() - startedAt };
  }

  cancel(_jobId: string, timeoutMs: number): Promise<void> {
    return this.retire(_jobId, timeoutMs).then((retired) => {
      if (!retired.gone) throw ApplicationFailure.nonRetryable(retired.detail, 'CancelTimedOut');
    });
  }

  /** Suspends the job without a savepoint: the version that goes leaves no state behind to restore from by mistake. */
  async retire(jobId: string, timeoutMs: number): Promise<RetireOutcome> {
    const resource = await this.read();
    if (resource.spec.job?.state !== 'suspended' || resource.spec.job.upgradeMode !== 'stateless') {
      await this.patch({ spec: { job: { state: 'suspended', upgradeMode: 'stateless' } } });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.read();
      // The operator names the job it submitted; flinkops' id is the one the workflow planned.
      const ids = [...new Set([jobId, now.status?.jobStatus?.jobId ?? undefined].filter((id): id is string => !!id))];
      const running = (await Promise.all(ids.map((id) => this.jobRunning(id)))).some(Boolean);
      if (!running && suspensionSettled(now)) return { gone: true, detail: `the operator suspended ${this.describe()} (${now.status?.lifecycleState}); job ${ids.join(', ')} is not running` };
      if (Date.now() > deadline) {
        return { gone: false, detail: `${this.describe()} is ${now.status?.lifecycleState ?? '?'} after ${formatDuration(timeoutMs)}; job ${jobId} is ${running ? 'still running' : 'not running'}${this.operatorError(now) ? ` (${this.operatorError(now)})` : ''}` };
      }
      heartbeat(`waiting for the operator to suspend ${this.describe()}`);
      await sleep(POLL_MS);
    }
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async prepare(): Promise<PreparedVersion> {
    return {}; // the operator fetches the jar itself
  }

  async discard(): Promise<void> {}

  /**
   * The version, running, restored from exactly the requested point: the resource is recreated with the new spec and
   * `initialSavepointPath` set to it. A spec change alone would resume from the operator's `lastSavepoint`, which the
   * operator (1.7.0, seen on the local stack) replaces with the suspended job's latest *checkpoint* once it observes
   * the job FINISHED, between flinkops' stop and its deploy; that checkpoint is older than the savepoint and usually
   * already disposed of. Without a restore point (stateless) the spec change is enough. Resolves with the job id the
   * operator gave the new job, once it submitted it.
   */
  async deploy(request: DeployRequest): Promise<{ jobId: string }> {
    let resource = await this.read();
    const appliedBefore = resource.metadata.annotations?.[DEPLOYMENT_STEP_ANNOTATION] === request.jobId;
    const previousJobId = (appliedBefore ? resource.metadata.annotations?.[REPLACED_JOB_ANNOTATION] : resource.status?.jobStatus?.jobId) || undefined;
    if (!appliedBefore) {
      const restore = request.restore.path;
      const job = {
        ...this.jobFields(request.version),
        state: 'running',
        upgradeMode: restore ? 'savepoint' : 'stateless',
        allowNonRestoredState: request.restore.allowNonRestoredState || null,
      };
      const specChange = { ...this.specFields(request.version), job };
      const annotations = { [DEPLOYMENT_STEP_ANNOTATION]: request.jobId, [REPLACED_JOB_ANNOTATION]: previousJobId ?? '' };
      if (!restore) {
        resource = await this.patch({ metadata: { annotations }, spec: specChange });
      } else {
        request.heartbeat(`recreating ${this.describe()} from ${restore}`);
        resource = await this.recreate(resource, { ...specChange, job: { ...job, initialSavepointPath: restore } }, annotations, request.jobId);
      }
      if (restore) await recordStateSnapshot(this.deps.kube, this.found, restore, 'restore');
    }
    const generation = resource.metadata.generation ?? 0;
    const deadline = Date.now() + request.timeoutMs;
    for (;;) {
      const now = await this.read();
      const jobId = now.status?.jobStatus?.jobId ?? undefined;
      const reconciled = (reconciledGenerationOf(now) ?? 0) >= generation;
      const submitted = jobId && jobId !== previousJobId && !['RECONCILING', 'SUSPENDED'].includes(now.status?.jobStatus?.state ?? '');
      if (reconciled && submitted) return { jobId };
      if (now.status?.jobStatus?.state === 'FAILED' && reconciled && jobId && jobId !== previousJobId) return { jobId };
      // The operator took the change and could not start it (Flink refused the program or its state): an answer.
      const refused = reconciled && !submitted ? this.operatorError(now) : undefined;
      if (refused && (now.status?.jobStatus?.state === 'RECONCILING' || !jobId || jobId === previousJobId)) {
        throw ApplicationFailure.nonRetryable(`the operator could not start ${describeVersion(request.version)}: ${refused}`, 'DeployRejected');
      }
      if (Date.now() > deadline) {
        const error = this.operatorError(now);
        throw ApplicationFailure.nonRetryable(
          `the operator did not start ${describeVersion(request.version)} within ${formatDuration(request.timeoutMs)}: ${now.status?.lifecycleState ?? '?'}, job ${now.status?.jobStatus?.state ?? '?'}${error ? `, ${error}` : ''}`,
          error ? 'DeployRejected' : 'RolloutTimedOut',
        );
      }
      request.heartbeat(`waiting for the operator: ${now.status?.lifecycleState ?? '?'}, job ${now.status?.jobStatus?.state ?? '?'}`);
      await sleep(POLL_MS);
    }
  }

  private jobFields(version: VersionSpec): Record<string, unknown> {
    if (version.kind === 'jar') return { jarURI: version.jar, entryClass: version.entryClass ?? null, args: version.args ?? [], parallelism: version.parallelism ?? null };
    return { args: version.args ?? [], ...(version.entryClass ? { entryClass: version.entryClass } : {}), ...(version.jarUri ? { jarURI: version.jarUri } : {}) };
  }

  private specFields(version: VersionSpec): Record<string, unknown> {
    if (version.kind !== 'image') return {};
    return { image: version.image, ...(version.flinkVersion ? { flinkVersion: version.flinkVersion } : {}) };
  }

  /**
   * Deletes the resource and creates it again with the same metadata and the changed spec; the intent is written down
   * first, so a worker that dies in between leaves a resource the next read creates (recreation.ts).
   */
  private async recreate(resource: FlinkResource, specChange: Record<string, unknown>, annotations: Record<string, string>, step: string): Promise<FlinkResource> {
    const { namespace, name } = resource.metadata;
    const spec = { ...resource.spec, ...specChange, job: { ...(resource.spec.job ?? {}), ...(specChange.job as object) } };
    const intent = await recordRecreationIntent(
      this.deps.kube,
      this.plural,
      { apiVersion: resource.apiVersion, kind: resource.kind, metadata: { name, namespace, labels: resource.metadata.labels, annotations: { ...(resource.metadata.annotations ?? {}), ...annotations } }, spec },
      step,
    );
    await deleteFlinkResource(this.deps.kube, this.plural, namespace, name);
    const deadline = Date.now() + 120_000;
    while (await readFlinkResource(this.deps.kube, this.plural, namespace, name)) {
      if (Date.now() > deadline) throw ApplicationFailure.retryable(`${this.describe()} is still being deleted by the operator`, 'TargetUnavailable');
      heartbeat(`waiting for the operator to delete ${this.describe()}`);
      await sleep(POLL_MS);
    }
    await completeRecreation(this.deps.kube, this.plural, intent);
    return this.read();
  }

  private async waitFor<T>(timeoutMs: number, startedAt: number, triggerId: string, done: (resource: FlinkResource) => T | undefined): Promise<T | undefined> {
    const deadline = startedAt + timeoutMs;
    for (;;) {
      const result = done(await this.read());
      if (result !== undefined) return result;
      if (Date.now() > deadline) return undefined;
      heartbeat({ triggerId, firstStartedAt: startedAt });
      await sleep(POLL_MS);
    }
  }

  /** When the first attempt of this operation started (a retry resumes it, with the same deadline). */
  private firstStartedAt(triggerId: string): number {
    const previous = Context.current().info.heartbeatDetails as { triggerId?: string; firstStartedAt?: number } | undefined;
    const startedAt = previous?.triggerId === triggerId && previous.firstStartedAt ? previous.firstStartedAt : Date.now();
    heartbeat({ triggerId, firstStartedAt: startedAt });
    return startedAt;
  }

  private async jobRunning(jobId: string): Promise<boolean> {
    try {
      const state = (await this.flink.jobDetails(jobId)).state;
      return !['FINISHED', 'CANCELED', 'FAILED'].includes(state);
    } catch {
      return false; // the session cluster forgot it, or (application) its JobManager is gone
    }
  }

  /** The resource now; one a recreation deleted and did not create yet (its worker died) is created first. */
  private async read(): Promise<FlinkResource> {
    const { namespace, name } = this.id;
    const resource = await readFlinkResource(this.deps.kube, this.plural, namespace, name);
    if (resource) return resource;
    const pending = await pendingRecreation(this.deps.kube, this.plural, namespace, name);
    if (pending) {
      await completeRecreation(this.deps.kube, this.plural, pending);
      const created = await readFlinkResource(this.deps.kube, this.plural, namespace, name);
      if (created) return created;
    }
    throw ApplicationFailure.nonRetryable(`${this.describe()} does not exist any more`, 'KubernetesNotFound');
  }

  private patch(body: object): Promise<FlinkResource> {
    return patchFlinkResource(this.deps.kube, this.plural, this.id.namespace, this.id.name, body);
  }

  private operatorError(resource: FlinkResource): string | undefined {
    return operatorErrorOf(resource);
  }

  private describe(): string {
    return `${this.kind === 'operator-session-job' ? 'FlinkSessionJob' : 'FlinkDeployment'} ${this.id.namespace}/${this.id.name}`;
  }
}


/**
 * Whether a resource whose spec says suspended will not run its job again: the operator reports it SUSPENDED, or its
 * first deployment failed (a resource recreated for a restore Flink refused) and it has no reconciled spec at all —
 * then the operator leaves it FAILED ("nothing to do", seen with 1.7.0) and does not try again while it is suspended.
 */
export function suspensionSettled(resource: FlinkResource): boolean {
  if (resource.spec.job?.state !== 'suspended') return false;
  const lifecycle = resource.status?.lifecycleState;
  return lifecycle === 'SUSPENDED' || (lifecycle === 'FAILED' && reconciledGenerationOf(resource) === undefined);
}

/** The operator's savepoint trigger nonce for a workflow's trigger id: a number a retried step sets again. */
export function nonceOf(triggerId: string): number {
  return Number.parseInt(triggerId.replace(/[^0-9a-f]/gi, '').slice(0, 12) || '1', 16);
}

export function operatorTarget(deps: TargetDeps, found: OperatorResource, endpoint: TargetEndpoint): FlinkTarget {
  return new OperatorTarget(deps, found, endpoint);
}
