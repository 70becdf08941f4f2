import { CustomObjectsApi } from '@kubernetes/client-node';
import { FlinkResourceSchema, flinkResource, type FlinkPlural, type FlinkResource } from '../../../activities/kube/flink-resources';
import type { KubeTestClients } from '../kube/helpers';
import { waitFor } from '../wait';

/** Reading and deleting the Flink Kubernetes Operator's resources from tests, as an administrator would with kubectl. */
export class OperatorResources {
  private readonly api: CustomObjectsApi;

  constructor(
    kube: KubeTestClients,
    private readonly namespace: string,
  ) {
    this.api = kube.kc.makeApiClient(CustomObjectsApi);
  }

  async read(plural: FlinkPlural, name: string): Promise<FlinkResource> {
    return FlinkResourceSchema.parse(await this.api.getNamespacedCustomObject({ ...flinkResource(plural), namespace: this.namespace, name }));
  }

  async list(plural: FlinkPlural): Promise<Array<Record<string, unknown> & { metadata: { name: string }; spec: Record<string, unknown> }>> {
    const list = (await this.api.listNamespacedCustomObject({ ...flinkResource(plural), namespace: this.namespace })) as { items: Array<Record<string, unknown> & { metadata: { name: string }; spec: Record<string, unknown> }> };
    return list.items;
  }

  /** Waits until the operator reports the resource's job RUNNING, and returns the resource. */
  waitForRunningJob(plural: FlinkPlural, name: string, timeoutMs = 180_000): Promise<FlinkResource> {
    return waitFor(
      async () => {
        const resource = await this.read(plural, name);
        return resource.status?.jobStatus?.state === 'RUNNING' && resource.status.jobStatus.jobId ? resource : undefined;
      },
      { timeoutMs, intervalMs: 1_000, description: `${plural} ${this.namespace}/${name} to run its job` },
    );
  }

  /** Deletes every FlinkSessionJob, then every FlinkDeployment, and waits until the operator has removed them. */
  async deleteAll(timeoutMs = 180_000): Promise<void> {
    for (const plural of ['flinksessionjobs', 'flinkdeployments'] as const) {
      for (const item of await this.list(plural)) {
        await this.api.deleteNamespacedCustomObject({ ...flinkResource(plural), namespace: this.namespace, name: item.metadata.name });
      }
      await waitFor(async () => (await this.list(plural)).length === 0, { timeoutMs, intervalMs: 1_000, description: `the operator to remove the ${plural} in ${this.namespace}` });
    }
  }
}
