import { join } from 'node:path';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import type { OperationHarness } from './harness';
import { perRequestConnectionClient, serviceUrl, sessionClusterVariables, waitForReadyPods } from './kube/helpers';
import { applyObjects, renderManifest } from './kube/manifests';
import { waitFor } from './wait';

export interface ZooKeeperClusterOptions {
  jobManagers?: number;
  taskManagers?: number;
  slots?: number;
  image?: string;
  /** high-availability.cluster-id; undefined leaves it out, so Flink's default /default applies. */
  clusterId?: string;
  /** high-availability.zookeeper.path.root; by default one per test namespace, so runs never meet in ZooKeeper. */
  root?: string;
}

export const jobManagerSelector = (name: string) => `app.kubernetes.io/instance=${name},app.kubernetes.io/component=jobmanager`;

/**
 * A session cluster with ZooKeeper HA (test/fixtures/k8s/session-cluster-zookeeper.yaml) on the stack's ZooKeeper;
 * waits for its JobManagers, and for its task slots when it has TaskManagers. Returns a REST client through its Service.
 */
export async function zooKeeperSessionCluster(h: OperationHarness, name: string, options: ZooKeeperClusterOptions = {}): Promise<FlinkRestClient> {
  const jobManagers = options.jobManagers ?? 2;
  const taskManagers = options.taskManagers ?? 1;
  const slots = options.slots ?? 2;
  const objects = renderManifest(
    'session-cluster-zookeeper.yaml',
    sessionClusterVariables(h.namespace, join(h.dataDir, name), {
      NAME: name,
      IMAGE: options.image ?? 'flink:1.20',
      JOBMANAGER_REPLICAS: jobManagers,
      TASKMANAGER_REPLICAS: taskManagers,
      TASK_SLOTS: slots,
      ZOOKEEPER_QUORUM: h.stack.state.zookeeper.quorum,
      ZOOKEEPER_ROOT: options.root ?? `/${h.namespace}`,
      CLUSTER_ID: options.clusterId ?? '/unset',
    }),
  );
  if (options.clusterId === undefined) {
    for (const object of objects as { kind?: string; data?: Record<string, string> }[]) {
      if (object.kind === 'ConfigMap') object.data!['config.yaml'] = object.data!['config.yaml']!.replace(/^\s*high-availability\.cluster-id: .*\n/m, '');
    }
  }
  await applyObjects(h.kube.kc, objects);
  await waitForReadyPods(h.kube, h.namespace, jobManagerSelector(name), jobManagers, 180_000);
  const flink = perRequestConnectionClient(await serviceUrl(h.kube, h.namespace, `${name}-jobmanager`));
  if (taskManagers > 0) await waitFor(async () => (await flink.overview())['slots-total'] >= slots * taskManagers, { timeoutMs: 120_000, description: `task slots of ${name}` });
  return flink;
}

/** Deletes the cluster's Deployments and waits until their pods (and Flink processes) are gone. */
export async function deleteZooKeeperCluster(h: OperationHarness, name: string): Promise<void> {
  for (const component of ['jobmanager', 'taskmanager']) {
    await h.kube.apps.deleteNamespacedDeployment({ name: `${name}-${component}`, namespace: h.namespace }).catch(() => undefined);
  }
  await waitFor(async () => (await h.kube.core.listNamespacedPod({ namespace: h.namespace, labelSelector: `app.kubernetes.io/instance=${name}` })).items.length === 0, {
    timeoutMs: 90_000,
    description: `the pods of ${name} to go`,
  });
}
