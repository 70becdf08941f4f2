import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { VersionSpec } from '../../workflows/model/target';
import { failpoint, type FailpointName } from '../failpoints';
import type { KubeClients } from '../kube/clients';
import type { DeployRequest, PreparedVersion, TargetAdapter } from './adapter';
import type { ResolvedCluster } from './resolve';
import { rolloutState } from './rollout';
import { parseStandaloneJobArgs, withRestoreSettings } from './standalone-args';

/**
 * An application-mode cluster: the job is baked into the image of the JobManager Deployment. Deploying sets the
 * image (JobManager and TaskManagers) and the JobManager's standalone-job arguments (job id, savepoint), then
 * waits for Kubernetes' own rollout to finish.
 */
export class ApplicationAdapter implements TargetAdapter {
  readonly kind = 'application' as const;

  constructor(
    private readonly kube: KubeClients,
    private readonly cluster: ResolvedCluster,
    private readonly failpoints: Partial<Record<FailpointName, number>> = {},
  ) {}

  currentVersion(): VersionSpec | undefined {
    const container = this.cluster.jobManagerContainer;
    const args = parseStandaloneJobArgs(container.args ?? []);
    if (!container.image || !args) return undefined;
    return { kind: 'image', image: container.image, args: args.jobArgs };
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
    const container = this.cluster.jobManagerContainer;
    const currentArgs = parseStandaloneJobArgs(container.args ?? []);
    if (!currentArgs) throw ApplicationFailure.nonRetryable(`${this.cluster.jobManager.metadata?.name} does not run standalone-job`, 'UnsupportedDeployment');
    const oldImage = container.image;
    const args = withRestoreSettings(currentArgs, {
      jobId: request.jobId,
      fromSavepoint: request.restore.path,
      allowNonRestoredState: request.restore.allowNonRestoredState,
      jobArgs: version.args,
    });

    // Declarative strategic-merge patches (containers merge by name): applying the same request twice changes nothing.
    await this.patchContainer(this.cluster.jobManager, container.name, { image: version.image, args });
    for (const taskManager of this.cluster.taskManagers) {
      for (const tmContainer of taskManager.spec?.template.spec?.containers ?? []) {
        if (tmContainer.image === oldImage || tmContainer.image === version.image) {
          await this.patchContainer(taskManager, tmContainer.name, { image: version.image });
        }
      }
    }
    await failpoint(this.failpoints, 'redeploy.afterPatch');
    await this.waitForRollout(request);
  }

  private async patchContainer(deployment: V1Deployment, containerName: string, fields: { image: string; args?: string[] }): Promise<void> {
    await this.kube.apps.patchNamespacedDeployment(
      {
        name: deployment.metadata!.name!,
        namespace: deployment.metadata!.namespace!,
        body: { spec: { template: { spec: { containers: [{ name: containerName, ...fields }] } } } },
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
      const states = await Promise.all(deployments.map((name) => rolloutState(this.kube, namespace, name)));
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
