import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { KubeClients } from './clients';

/** Container waiting reasons that mean a rollout will not make progress on its own. */
const STUCK_REASONS = ['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'InvalidImageName', 'RunContainerError'];

export type RolloutState = { done: true } | { done: false; failed?: string; progress: string };

/**
 * Kubernetes' own rollout status (as `kubectl rollout status` reads it), plus pods of the new revision that are
 * stuck (crash looping, image not pullable): waiting for those would only run into the timeout.
 */
export async function rolloutState(kube: KubeClients, namespace: string, name: string): Promise<RolloutState> {
  const deployment = await kube.apps.readNamespacedDeployment({ name, namespace });
  const status = deployment.status ?? {};
  const desired = deployment.spec?.replicas ?? 1;
  const generation = deployment.metadata?.generation ?? 0;
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, failed: `${name}: ${progressing.message ?? 'progress deadline exceeded'}`, progress: '' };
  const stuck = await stuckPodsOfNewRevision(kube, deployment);
  if (stuck) return { done: false, failed: `${name}: ${stuck}`, progress: '' };
  const progress = `${name}: ${status.updatedReplicas ?? 0}/${desired} updated, ${status.availableReplicas ?? 0} available, ${status.replicas ?? 0} total`;
  const done =
    (status.observedGeneration ?? 0) >= generation &&
    (status.updatedReplicas ?? 0) === desired &&
    (status.replicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired;
  return done ? { done: true } : { done: false, progress };
}

/** The label selector of a Deployment's pods, and the pod-template-hash of its current revision (when it has one). */
async function currentRevision(kube: KubeClients, deployment: V1Deployment): Promise<{ selector: string; hash?: string }> {
  const namespace = deployment.metadata!.namespace!;
  const selector = Object.entries(deployment.spec?.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
  const replicaSets = (await kube.apps.listNamespacedReplicaSet({ namespace, labelSelector: selector })).items;
  const current = replicaSets.find((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision);
  return { selector, hash: current?.metadata?.labels?.['pod-template-hash'] };
}

/**
 * The pods of a Deployment that belong to another revision than its current one, terminating ones included (a
 * finished rollout no longer counts those, but their containers may still run).
 */
export async function podsOfOtherRevisions(kube: KubeClients, namespace: string, name: string): Promise<string[]> {
  const deployment = await kube.apps.readNamespacedDeployment({ name, namespace });
  const { selector, hash } = await currentRevision(kube, deployment);
  if (!hash || !selector) return [];
  const pods = (await kube.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  return pods.filter((p) => p.metadata?.labels?.['pod-template-hash'] !== hash && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').map((p) => p.metadata!.name!);
}

async function stuckPodsOfNewRevision(kube: KubeClients, deployment: V1Deployment): Promise<string | undefined> {
  const namespace = deployment.metadata!.namespace!;
  const { selector, hash } = await currentRevision(kube, deployment);
  if (!hash) return undefined;
  const pods = (await kube.core.listNamespacedPod({ namespace, labelSelector: `${selector},pod-template-hash=${hash}` })).items;
  for (const pod of pods) {
    const problem = stuckReason(pod);
    if (problem) return `pod ${pod.metadata?.name} ${problem}`;
  }
  return undefined;
}

export function stuckReason(pod: V1Pod): string | undefined {
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && STUCK_REASONS.includes(waiting.reason)) {
      return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}${status.restartCount ? ` (${status.restartCount} restarts)` : ''}`;
    }
  }
  return undefined;
}
