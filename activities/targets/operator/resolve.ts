import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ClusterRef } from '../../../workflows/model/target';
import type { KubeClients } from '../../kube/clients';
import { listFlinkResources, readFlinkResource, type FlinkPlural, type FlinkResource } from '../../kube/flink-resources';
import { pendingRecreation } from './recreation';

/** A resource of the Flink Kubernetes Operator that flinkops operates, with the cluster it runs on. */
export interface OperatorResource {
  kind: 'operator-session-job' | 'operator-deployment';
  ref: ClusterRef;
  /** What records and locks are keyed by: the FlinkSessionJob, or the application FlinkDeployment. */
  id: ClusterRef;
  resource: FlinkResource;
  /** The FlinkDeployment running it: the session cluster of a FlinkSessionJob, or the application itself. */
  deployment: FlinkResource;
  restService?: V1Service;
}

export const OWNED_BY_FLINK_DEPLOYMENT = 'FlinkDeployment';

/**
 * The operator resource a name stands for: a FlinkSessionJob of that name; an application FlinkDeployment; a session
 * FlinkDeployment together with one of its FlinkSessionJobs (by resource name or job name, `job`); or the JobManager
 * Deployment the operator created for a FlinkDeployment. Undefined when the name is none of these (a plain
 * Deployment, or no operator installed); `problem` when it is one but cannot be operated as asked.
 */
export async function resolveOperatorResource(kube: KubeClients, ref: ClusterRef, job?: string, jobManager?: V1Deployment): Promise<OperatorResource | { problem: string } | undefined> {
  const owner = jobManager?.metadata?.ownerReferences?.find((o) => o.kind === OWNED_BY_FLINK_DEPLOYMENT);
  if (jobManager && !owner) return undefined;
  const name = owner?.name ?? ref.name;
  if (!owner) {
    const sessionJob = await readOrPending(kube, 'flinksessionjobs', ref.namespace, name);
    if (sessionJob) return sessionJobTarget(kube, ref, sessionJob);
  }
  const deployment = await readOrPending(kube, 'flinkdeployments', ref.namespace, name);
  if (!deployment) return undefined;
  if (deployment.spec.job) return { kind: 'operator-deployment', ref, id: { namespace: ref.namespace, name }, resource: deployment, deployment, restService: await restServiceOf(kube, deployment) };
  const jobs = (await listFlinkResources(kube, 'flinksessionjobs', ref.namespace)).filter((j) => j.spec.deploymentName === name);
  if (!job) {
    return { problem: `${ref.namespace}/${name} is a session FlinkDeployment: name one of its FlinkSessionJobs with --job (${jobs.map((j) => j.metadata.name).join(', ') || 'it has none'}), or the FlinkSessionJob itself` };
  }
  const chosen = jobs.find((j) => j.metadata.name === job) ?? jobs.find((j) => j.status?.jobStatus?.jobName === job || j.status?.jobStatus?.jobId === job);
  if (!chosen) return { problem: `no FlinkSessionJob "${job}" runs on the session FlinkDeployment ${ref.namespace}/${name} (${jobs.map((j) => j.metadata.name).join(', ') || 'none'})` };
  return sessionJobTarget(kube, ref, chosen);
}

async function sessionJobTarget(kube: KubeClients, ref: ClusterRef, sessionJob: FlinkResource): Promise<OperatorResource | { problem: string }> {
  const deploymentName = sessionJob.spec.deploymentName;
  const deployment = deploymentName ? await readFlinkResource(kube, 'flinkdeployments', ref.namespace, deploymentName) : undefined;
  if (!deployment) return { problem: `FlinkSessionJob ${ref.namespace}/${sessionJob.metadata.name} names the session FlinkDeployment "${deploymentName ?? ''}", which does not exist` };
  return { kind: 'operator-session-job', ref, id: { namespace: ref.namespace, name: sessionJob.metadata.name }, resource: sessionJob, deployment, restService: await restServiceOf(kube, deployment) };
}

/** The resource, or the one a recreation deleted and has yet to create (its worker died in between). */
async function readOrPending(kube: KubeClients, plural: FlinkPlural, namespace: string, name: string): Promise<FlinkResource | undefined> {
  return (await readFlinkResource(kube, plural, namespace, name)) ?? (await pendingRecreation(kube, plural, namespace, name))?.resource;
}

/** The operator's REST Service of a FlinkDeployment: <name>-rest. */
async function restServiceOf(kube: KubeClients, deployment: FlinkResource): Promise<V1Service | undefined> {
  const services = await kube.core.listNamespacedService({ namespace: deployment.metadata.namespace });
  return services.items.find((s) => s.metadata?.name === `${deployment.metadata.name}-rest`);
}
