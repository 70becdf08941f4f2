import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { FlinkRestClient } from '../../../activities/flink/rest-client';
import { applyObjects, renderManifest } from './manifests';
import type { StackState } from '../stack';
import { waitFor } from '../wait';

export interface KubeTestClients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
}

export function kubeClients(state: StackState): KubeTestClients {
  const kc = new KubeConfig();
  kc.loadFromFile(state.kube.kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

export async function createNamespace(clients: KubeTestClients, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await clients.core.createNamespace({ body: { metadata: { name, labels: { 'flinkops.dev/test': 'true' } } } });
  await waitFor(
    async () => (await clients.core.readNamespacedServiceAccount({ name: 'default', namespace: name })).metadata?.name,
    { timeoutMs: 30_000, description: `default service account in ${name}` },
  );
  return name;
}

/** Deletes the namespace and waits until its pods are gone (the local node has stopped their processes). */
export async function deleteNamespace(clients: KubeTestClients, namespace: string): Promise<void> {
  await clients.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await waitFor(async () => (await clients.core.listNamespacedPod({ namespace })).items.length === 0, {
    timeoutMs: 90_000,
    description: `pods of ${namespace} to be deleted`,
  });
}

export async function applyManifest(clients: KubeTestClients, file: string, variables: Record<string, string | number>): Promise<void> {
  await applyObjects(clients.kc, renderManifest(file, variables));
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export async function waitForReadyPods(clients: KubeTestClients, namespace: string, labelSelector: string, count: number, timeoutMs = 120_000): Promise<V1Pod[]> {
  return waitFor(
    async () => {
      const pods = (await clients.core.listNamespacedPod({ namespace, labelSelector })).items.filter((p) => !p.metadata?.deletionTimestamp);
      return pods.length === count && pods.every(isPodReady) ? pods : undefined;
    },
    { timeoutMs, intervalMs: 500, description: `${count} ready pods matching ${labelSelector} in ${namespace}` },
  );
}

/** The Service's REST endpoint as an in-cluster client sees it: its ClusterIP, served by the local node's proxy. */
export async function serviceUrl(clients: KubeTestClients, namespace: string, service: string, portName = 'http'): Promise<string> {
  const svc = await clients.core.readNamespacedService({ name: service, namespace });
  const port = svc.spec?.ports?.find((p) => p.name === portName)?.port;
  if (!svc.spec?.clusterIP || port === undefined) throw new Error(`service ${namespace}/${service} has no port ${portName}`);
  return `http://${svc.spec.clusterIP}:${port}`;
}

/** A Flink REST client that opens a new connection per request, so each one is balanced by the service proxy. */
export function perRequestConnectionClient(baseUrl: string): FlinkRestClient {
  return new FlinkRestClient({ baseUrl, headers: { Connection: 'close' } });
}

/** Default variables of the session-cluster fixtures. */
export function sessionClusterVariables(namespace: string, dataDir: string, overrides: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    NAME: 'flink',
    NAMESPACE: namespace,
    IMAGE: 'flink:1.20',
    JOBMANAGER_REPLICAS: 1,
    TASKMANAGER_REPLICAS: 1,
    TASK_SLOTS: 4,
    DATA_DIR: dataDir,
    ...overrides,
  };
}
