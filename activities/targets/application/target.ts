import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { JobSnapshot } from '../../../workflows/model/snapshot';
import type { VersionSpec } from '../../../workflows/model/target';
import { failpoint } from '../../failpoints';
import { snapshotJob } from '../../flink/job-snapshot';
import { FlinkRestError } from '../../flink/rest-client';
import { PolicyRefusal } from '../../policy';
import { heartbeat } from '../../heartbeat';
import { describeDeployments, type ResolvedCluster } from '../resolve';
import { cancelAndWait, storageDirectoriesOf, retireJob, runSavepointOperation } from '../rest-control';
import type { DeployRequest, FlinkTarget, PreparedVersion, RetireOutcome, SavepointOperation, TargetDeps, TargetEndpoint, UpgradeFacts } from '../seam';
import { applicationUpgradeChecks } from './preflight';
import { rolloutState } from '../../kube/rollout';
import { parseStandaloneJobArgs, withRestoreSettings } from './standalone-args';

/** Set while flinkops has scaled the JobManager to 0 to retire a job it could not cancel: the replicas to restore. */
export const SCALED_DOWN_ANNOTATION = 'flinkops.dev/scaled-down-from';

/**
 * An application-mode cluster: the job is baked into the image of the JobManager Deployment. Deploying sets the
 * image (JobManager and TaskManagers) and the JobManager's standalone-job arguments (job id, savepoint), then
 * waits for Kubernetes' own rollout to finish.
 */
export class ApplicationTarget implements FlinkTarget {
  readonly kind = 'application' as const;
  readonly versionKind = 'image' as const;
  readonly savepointOwner = 'flinkops' as const;
  readonly singleJob = true;
  readonly restUrl: string;
  readonly flink: FlinkTarget['flink'];

  constructor(
    private readonly deps: TargetDeps,
    readonly cluster: ResolvedCluster,
    endpoint: TargetEndpoint,
  ) {
    this.restUrl = endpoint.restUrl;
    this.flink = endpoint.flink;
  }

  get id() {
    return this.cluster.id;
  }

  get ref() {
    return this.cluster.ref;
  }

  deployments() {
    return describeDeployments(this.cluster);
  }

  currentVersion(): VersionSpec | undefined {
    const container = this.cluster.jobManagerContainer;
    const args = parseStandaloneJobArgs(container.args ?? []);
    if (!container.image || !args) return undefined;
    const entryClass = args.options.find((o) => o.flag === '--job-classname' || o.flag === '-j')?.value;
    return { kind: 'image', image: container.image, args: args.jobArgs, ...(entryClass ? { entryClass } : {}) };
  }

  checkJar(jar: string): Promise<string> {
    return Promise.reject(new PolicyRefusal('--jar', `${jar}: an application cluster is upgraded with --image, not a jar`));
  }

  lockScope() {
    return { cluster: this.cluster.id };
  }

  upgradeChecks(facts: UpgradeFacts) {
    const jobManager = this.cluster.jobManager;
    return applicationUpgradeChecks({
      deployment: jobManager.metadata?.name ?? '',
      args: this.cluster.jobManagerContainer.args ?? [],
      strategy: jobManager.spec?.strategy?.type ?? 'RollingUpdate',
      shutdownOnApplicationFinish: facts.config.shutdownOnApplicationFinish,
      mode: facts.mode,
    });
  }

  describeDeploy(timeout: string): string {
    const deployments = [this.cluster.jobManager, ...this.cluster.taskManagers].map((d) => d.metadata?.name).join(', ');
    return `set the image of ${deployments} to {version} and start {restore}; wait for the rollout (timeout ${timeout})`;
  }

  storageDirectories() {
    return storageDirectoriesOf(this.flink);
  }

  jobFacts(jobId: string): Promise<JobSnapshot> {
    return snapshotJob(this.flink, jobId);
  }

  stopWithSavepoint(operation: SavepointOperation) {
    return runSavepointOperation(this.flink, operation, 'stop');
  }

  triggerSavepoint(operation: SavepointOperation) {
    return runSavepointOperation(this.flink, operation, 'savepoint');
  }

  async cancel(jobId: string, timeoutMs: number): Promise<void> {
    await cancelAndWait(this.flink, jobId, timeoutMs);
  }

  /**
   * The job is cancelled through REST when its JobManager answers (so high-availability stores forget it), then the
   * JobManager Deployment is scaled to 0 and the job counts as gone once no JobManager pod is left: a JobManager
   * that restarted, or one of an overlapping rollout, would otherwise start the job again from its arguments.
   * `deploy` scales it back.
   */
  async retire(jobId: string, timeoutMs: number): Promise<RetireOutcome> {
    let cancelled: string;
    try {
      cancelled = (await retireJob(this.flink, jobId, timeoutMs)).detail;
    } catch (error) {
      if (!(error instanceof FlinkRestError)) throw error;
      cancelled = `the JobManager did not answer (${error.message})`;
    }
    const scaled = await this.scaleJobManagerToZero(timeoutMs);
    return scaled.gone ? { gone: true, detail: `${cancelled}; ${scaled.detail}` } : scaled;
  }

  /** Nothing to do ahead: the image is pulled by Kubernetes during the rollout. */
  // eslint-disable-next-line @typescript-eslint/require-await
  async prepare(): Promise<PreparedVersion> {
    return {};
  }

  async discard(): Promise<void> {}

  async deploy(request: DeployRequest): Promise<void> {
    const version = request.version;
    if (version.kind !== 'image') throw ApplicationFailure.nonRetryable(`an application cluster is deployed from an image, not ${version.kind}`, 'InvalidVersion');
    const jobManager = await this.readJobManager();
    const container = jobManager.spec?.template.spec?.containers.find((c) => c.name === this.cluster.jobManagerContainer.name) ?? this.cluster.jobManagerContainer;
    const currentArgs = parseStandaloneJobArgs(container.args ?? []);
    if (!currentArgs) throw ApplicationFailure.nonRetryable(`${jobManager.metadata?.name} does not run standalone-job`, 'UnsupportedDeployment');
    const oldImage = this.cluster.jobManagerContainer.image;
    if (version.entryClass) {
      currentArgs.options = [...currentArgs.options.filter((o) => o.flag !== '--job-classname' && o.flag !== '-j'), { flag: '--job-classname', value: version.entryClass }];
    }
    const args = withRestoreSettings(currentArgs, {
      jobId: request.jobId,
      fromSavepoint: request.restore.path,
      allowNonRestoredState: request.restore.allowNonRestoredState,
      jobArgs: version.args,
    });

    // Declarative strategic-merge patches (containers merge by name): applying the same request twice changes nothing.
    await this.patchContainer(jobManager, container.name, { image: version.image, args }, scaledBackReplicas(jobManager));
    for (const taskManager of this.cluster.taskManagers) {
      for (const tmContainer of taskManager.spec?.template.spec?.containers ?? []) {
        if (tmContainer.image === oldImage || tmContainer.image === version.image) {
          await this.patchContainer(taskManager, tmContainer.name, { image: version.image });
        }
      }
    }
    await failpoint(this.deps.failpoints, 'redeploy.afterPatch');
    await this.waitForRollout(request);
  }

  private async scaleJobManagerToZero(timeoutMs: number): Promise<RetireOutcome> {
    const jobManager = await this.readJobManager();
    const name = jobManager.metadata!.name!;
    const replicas = jobManager.spec?.replicas ?? 1;
    if (replicas > 0) {
      await this.deps.kube.apps.patchNamespacedDeployment(
        {
          name,
          namespace: this.cluster.ref.namespace,
          body: { metadata: { annotations: { [SCALED_DOWN_ANNOTATION]: String(replicas) } }, spec: { replicas: 0 } },
          fieldManager: 'flinkops',
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!(await this.jobManagerPodsExist())) return { gone: true, detail: `scaled ${name} to 0 and no JobManager pod is left` };
      if (Date.now() > deadline) return { gone: false, detail: `scaled ${name} to 0, but its JobManager pods are still there after ${Math.round(timeoutMs / 1000)}s` };
      heartbeat(`waiting for the JobManager pods of ${name} to go`);
      await sleep(1_000);
    }
  }

  private async jobManagerPodsExist(): Promise<boolean> {
    const labels = this.cluster.jobManager.spec?.selector.matchLabels ?? {};
    const labelSelector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = await this.deps.kube.core.listNamespacedPod({ namespace: this.cluster.ref.namespace, labelSelector });
    return pods.items.length > 0;
  }

  private readJobManager(): Promise<V1Deployment> {
    return this.deps.kube.apps.readNamespacedDeployment({ name: this.cluster.jobManager.metadata!.name!, namespace: this.cluster.ref.namespace });
  }

  private async patchContainer(deployment: V1Deployment, containerName: string, fields: { image: string; args?: string[] }, replicas?: number): Promise<void> {
    const scaledBack = replicas !== undefined ? { replicas } : {};
    await this.deps.kube.apps.patchNamespacedDeployment(
      {
        name: deployment.metadata!.name!,
        namespace: deployment.metadata!.namespace!,
        body: {
          ...(replicas !== undefined ? { metadata: { annotations: { [SCALED_DOWN_ANNOTATION]: null } } } : {}),
          spec: { ...scaledBack, template: { spec: { containers: [{ name: containerName, ...fields }] } } },
        },
        fieldManager: 'flinkops',
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }

  private async waitForRollout(request: DeployRequest): Promise<void> {
    const deployments = [this.cluster.jobManager, ...this.cluster.taskManagers].map((d) => d.metadata!.name!);
    const deadline = Date.now() + request.timeoutMs;
    const namespace = this.cluster.ref.namespace;
    for (;;) {
      const states = await Promise.all(deployments.map((name) => rolloutState(this.deps.kube, namespace, name)));
      const failed = states.find((s) => !s.done && s.failed);
      if (failed && !failed.done) throw ApplicationFailure.nonRetryable(`rollout failed: ${failed.failed}`, 'RolloutFailed');
      const pending = states.filter((s): s is Extract<typeof s, { done: false }> => !s.done);
      if (pending.length === 0) return;
      const progress = pending.map((s) => s.progress).join('; ');
      if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`rollout not finished in time: ${progress}`, 'RolloutTimedOut');
      request.heartbeat(progress);
      await sleep(1_000);
    }
  }
}

/** The replicas to restore after a retire scaled the JobManager to 0. */
function scaledBackReplicas(jobManager: V1Deployment): number | undefined {
  const value = jobManager.metadata?.annotations?.[SCALED_DOWN_ANNOTATION];
  const replicas = value === undefined ? undefined : Number(value);
  return replicas !== undefined && Number.isInteger(replicas) && replicas > 0 ? replicas : undefined;
}

export function applicationTarget(deps: TargetDeps, cluster: ResolvedCluster, endpoint: TargetEndpoint): FlinkTarget {
  return new ApplicationTarget(deps, cluster, endpoint);
}
