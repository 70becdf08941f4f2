import type { V1Container, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ContainerSnapshot } from '../../workflows/model/snapshot';
import type { ClusterRef, TargetKind } from '../../workflows/model/target';
import { isNotFound, type KubeClients } from '../kube/clients';

/** A Flink cluster found in Kubernetes: its JobManager Deployment, TaskManager Deployments and REST Service. */
export interface ResolvedCluster {
  /** The name the cluster was asked for by (a Deployment or a release name). */
  ref: ClusterRef;
  /** The name flinkops keys records and locks by, whatever name was asked for: the JobManager Deployment's. */
  id: ClusterRef;
  kind: TargetKind;
  jobManager: V1Deployment;
  jobManagerContainer: V1Container;
  taskManagers: V1Deployment[];
  restService: V1Service;
  restPort: number;
}

export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
const REST_PORT_NAMES = ['rest', 'http', 'webui', 'web', 'ui'];

/**
 * Finds a cluster by the name of its JobManager Deployment, or by the instance label of a chart release
 * (app.kubernetes.io/instance=<name>, component=jobmanager).
 */
export async function resolveCluster(kube: KubeClients, ref: ClusterRef): Promise<ResolvedCluster | { problem: string }> {
  const jobManager = await findJobManager(kube, ref);
  if (!jobManager) {
    return { problem: `no JobManager Deployment "${ref.name}" (or release with app.kubernetes.io/instance=${ref.name}) in namespace ${ref.namespace}` };
  }
  const container = jobManagerContainer(jobManager);
  if (!container) return { problem: `Deployment ${ref.namespace}/${jobManager.metadata?.name} has no containers` };

  const podLabels = jobManager.spec?.template.metadata?.labels ?? {};
  const services = (await kube.core.listNamespacedService({ namespace: ref.namespace })).items;
  const rest = services
    .filter((s) => s.spec?.selector && Object.entries(s.spec.selector).every(([k, v]) => podLabels[k] === v))
    .map((s) => ({ service: s, port: restPortOf(s) }))
    .find((candidate) => candidate.port !== undefined);
  if (!rest) return { problem: `no Service in ${ref.namespace} selects the pods of ${jobManager.metadata?.name} with a REST port (8081 or named rest/http/webui)` };

  const instance = jobManager.metadata?.labels?.[INSTANCE_LABEL];
  const taskManagers = instance
    ? (await kube.apps.listNamespacedDeployment({ namespace: ref.namespace, labelSelector: `${INSTANCE_LABEL}=${instance},${COMPONENT_LABEL}=taskmanager` })).items
    : [];
  return {
    ref,
    id: { namespace: ref.namespace, name: jobManager.metadata!.name! },
    kind: container.args?.[0] === 'standalone-job' ? 'application' : 'session-job',
    jobManager,
    jobManagerContainer: container,
    taskManagers,
    restService: rest.service,
    restPort: rest.port!,
  };
}

async function findJobManager(kube: KubeClients, ref: ClusterRef): Promise<V1Deployment | undefined> {
  try {
    return await kube.apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const byInstance = await kube.apps.listNamespacedDeployment({
    namespace: ref.namespace,
    labelSelector: `${INSTANCE_LABEL}=${ref.name},${COMPONENT_LABEL}=jobmanager`,
  });
  return byInstance.items.length === 1 ? byInstance.items[0] : undefined;
}

export function jobManagerContainer(deployment: V1Deployment): V1Container | undefined {
  const containers = deployment.spec?.template.spec?.containers ?? [];
  return containers.find((c) => c.name === 'jobmanager') ?? containers[0];
}

function restPortOf(service: V1Service): number | undefined {
  const ports = service.spec?.ports ?? [];
  return (ports.find((p) => REST_PORT_NAMES.includes(p.name ?? '')) ?? ports.find((p) => p.port === 8081))?.port;
}

/** The JobManager and TaskManager Deployments of a cluster, as status and plans show them. */
export function describeDeployments(cluster: ResolvedCluster): { jobManager: ContainerSnapshot & { replicas: number; strategy: string }; taskManagers: ContainerSnapshot[] } {
  return {
    jobManager: {
      deployment: cluster.jobManager.metadata!.name!,
      container: cluster.jobManagerContainer.name,
      image: cluster.jobManagerContainer.image ?? '',
      args: cluster.jobManagerContainer.args ?? [],
      replicas: cluster.jobManager.spec?.replicas ?? 1,
      strategy: cluster.jobManager.spec?.strategy?.type ?? 'RollingUpdate',
    },
    taskManagers: cluster.taskManagers.map((d) => {
      const container = d.spec?.template.spec?.containers[0];
      return { deployment: d.metadata!.name!, container: container?.name ?? '', image: container?.image ?? '', args: container?.args ?? [] };
    }),
  };
}
