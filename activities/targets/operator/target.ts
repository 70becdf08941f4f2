import { Context, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { formatDuration } from '../../../workflows/model/durations';
import { sameLocation } from '../../../workflows/model/locations';
import type { JobSnapshot } from '../../../workflows/model/snapshot';
import { describeVersion, type VersionSpec } from '../../../workflows/model/target';
import type { StopOutcome } from '../../../workflows/upgrade/decide';
import { snapshotJob } from '../../flink/job-snapshot';
import { heartbeat } from '../../heartbeat';
import { checkJarUri, PolicyRefusal } from '../../policy';
import {
  createFlinkResource,
  deleteFlinkResource,
  operatorError as operatorErrorOf,
  patchFlinkResource,
  readFlinkResource,
  reconciledGeneration as reconciledGenerationOf,
  type FlinkPlural,
  type FlinkResource,
} from '../../kube/flink-resources';
import type { DeployRequest, FlinkTarget, PreparedVersion, RetireOutcome, SavepointOperation, TargetDeps, TargetEndpoint, UpgradeFacts } from '../seam';
import { operatorUpgradeChecks } from './preflight';
import type { OperatorResource } from './resolve';
import { recordStateSnapshot } from './state-snapshots';

/** Annotation carrying the id of the deployment step that last changed the resource: a retried step finds its own change. */
export const DEPLOYMENT_STEP_ANNOTATION = 'flinkops.dev/deployment-step';
const POLL_MS = 1_000;
const CLOCK_SKEW_MS = 60_000;

/**
 * A resource of the Flink Kubernetes Operator (a FlinkSessionJob, or an application FlinkDeployment). flinkops never
 * stops or submits its job through REST: every step is a declarative change of the resource's spec, and the
 * operator's own status says when it is done.
 * - stop with savepoint: `job.state: suspended`, `upgradeMode: savepoint`; the savepoint is the one the operator took;
 * - deploy: the new version with `job.state: running`; the operator restores from its last savepoint, which must be
 *   the restore point asked for, or the resource is recreated with `initialSavepointPath` set to it;
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

  deployments() {
    return { taskManagers: [] };
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

  checkJar(jar: string): Promise<string> {
    if (this.kind !== 'operator-session-job') return Promise.reject(new PolicyRefusal('--jar', `${jar}: an application FlinkDeployment is upgraded with --image (and --jar-uri), not --jar`));
    return Promise.resolve(checkJarUri(jar, this.deps.settings.jars.allowedUris));
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
      const savepoint = r.status?.jobStatus?.savepointInfo?.lastSavepoint;
      const taken = savepoint?.location && (savepoint.timeStamp ?? 0) >= startedAt - CLOCK_SKEW_MS ? savepoint.location : undefined;
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
      const running = await this.jobRunning(jobId);
      if (now.status?.lifecycleState === 'SUSPENDED' && !running) return { gone: true, detail: `the operator suspended ${this.describe()}; job ${jobId} is not running` };
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
   * The version, running, restored from the requested point: a spec change when the operator's last savepoint is that
   * point (after flinkops' stop, it is), otherwise the resource is recreated with `initialSavepointPath`. Resolves
   * with the job id the operator gave the new job, once it submitted it.
   */
  async deploy(request: DeployRequest): Promise<{ jobId: string }> {
    let resource = await this.read();
    const previousJobId = resource.status?.jobStatus?.jobId ?? undefined;
    if (resource.metadata.annotations?.[DEPLOYMENT_STEP_ANNOTATION] !== request.jobId) {
      const restore = request.restore.path;
      const last = resource.status?.jobStatus?.savepointInfo?.lastSavepoint?.location;
      const job = {
        ...this.jobFields(request.version),
        state: 'running',
        upgradeMode: restore ? 'savepoint' : 'stateless',
        allowNonRestoredState: request.restore.allowNonRestoredState || null,
      };
      const specChange = { ...this.specFields(request.version), job };
      const annotations = { [DEPLOYMENT_STEP_ANNOTATION]: request.jobId };
      if (!restore || (last && sameLocation(last, restore))) {
        resource = await this.patch({ metadata: { annotations }, spec: specChange });
      } else {
        request.heartbeat(`recreating ${this.describe()} from ${restore}`);
        resource = await this.recreate(resource, { ...specChange, job: { ...job, initialSavepointPath: restore } }, annotations);
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

  /** Deletes the resource and creates it again with the same metadata and the changed spec. */
  private async recreate(resource: FlinkResource, specChange: Record<string, unknown>, annotations: Record<string, string>): Promise<FlinkResource> {
    const { namespace, name } = resource.metadata;
    await deleteFlinkResource(this.deps.kube, this.plural, namespace, name);
    const deadline = Date.now() + 120_000;
    while (await readFlinkResource(this.deps.kube, this.plural, namespace, name)) {
      if (Date.now() > deadline) throw ApplicationFailure.retryable(`${this.describe()} is still being deleted by the operator`, 'TargetUnavailable');
      heartbeat(`waiting for the operator to delete ${this.describe()}`);
      await sleep(POLL_MS);
    }
    const spec = { ...resource.spec, ...specChange, job: { ...(resource.spec.job ?? {}), ...(specChange.job as object) } };
    await createFlinkResource(this.deps.kube, this.plural, namespace, {
      apiVersion: resource.apiVersion,
      kind: resource.kind,
      metadata: { name, namespace, labels: resource.metadata.labels, annotations: { ...(resource.metadata.annotations ?? {}), ...annotations } },
      spec,
    });
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

  private async read(): Promise<FlinkResource> {
    const resource = await readFlinkResource(this.deps.kube, this.plural, this.id.namespace, this.id.name);
    if (!resource) throw ApplicationFailure.nonRetryable(`${this.describe()} does not exist any more`, 'KubernetesNotFound');
    return resource;
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


/** The operator's savepoint trigger nonce for a workflow's trigger id: a number a retried step sets again. */
export function nonceOf(triggerId: string): number {
  return Number.parseInt(triggerId.replace(/[^0-9a-f]/gi, '').slice(0, 12) || '1', 16);
}

export function operatorTarget(deps: TargetDeps, found: OperatorResource, endpoint: TargetEndpoint): FlinkTarget {
  return new OperatorTarget(deps, found, endpoint);
}
