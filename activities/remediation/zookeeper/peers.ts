import type { V1Deployment } from '@kubernetes/client-node';
import type { ZooKeeperPeer } from '../../../workflows/model/zookeeper';
import type { ActivityContext } from '../../context';
import { COMPONENT_LABEL, jobManagerContainer } from '../../targets/resolve';
import { flinkConfigFromKubernetes, highAvailabilityOf } from '../flink-config';
import { sameEnsemble, zooKeeperHaSettings, type ZooKeeperHaSettings } from './settings';

/** Deployments looked at, at most (each costs a ConfigMap read). */
const MAX_DEPLOYMENTS = 100;
const FLINK_CONF_DIR = '/opt/flink/conf';

/**
 * Other Flink clusters in the namespace whose configuration (as Kubernetes has it) names the same ZooKeeper ensemble
 * and the same <path.root>/<cluster-id>: their JobManagers take part in this cluster's leader election and share its
 * job graphs. Reads Deployments and their ConfigMaps only.
 */
export async function clustersSharingPath(ctx: ActivityContext, namespace: string, own: string, settings: ZooKeeperHaSettings): Promise<ZooKeeperPeer[]> {
  const deployments = (await ctx.kube.apps.listNamespacedDeployment({ namespace })).items.slice(0, MAX_DEPLOYMENTS);
  const peers: ZooKeeperPeer[] = [];
  for (const deployment of deployments.filter((d) => d.metadata?.name !== own && isJobManager(d))) {
    const container = jobManagerContainer(deployment)!;
    const config = await flinkConfigFromKubernetes(ctx.kube, deployment, container);
    if (highAvailabilityOf(config).mode !== 'zookeeper') continue;
    const theirs = zooKeeperHaSettings(config);
    if ('problem' in theirs || theirs.path !== settings.path || !sameEnsemble(theirs.servers, settings.servers)) continue;
    const configMap = configMapOf(deployment);
    peers.push({ deployment: deployment.metadata!.name!, ...(configMap ? { configMap } : {}), clusterIdDefaulted: theirs.clusterIdDefaulted });
  }
  return peers;
}

/** A Flink JobManager's Deployment: labelled so, or started as one (the official image's `jobmanager`/`standalone-job`). */
function isJobManager(deployment: V1Deployment): boolean {
  const label = deployment.metadata?.labels?.[COMPONENT_LABEL] ?? deployment.spec?.template.metadata?.labels?.[COMPONENT_LABEL];
  if (label) return label === 'jobmanager';
  const mode = jobManagerContainer(deployment)?.args?.[0];
  return mode === 'jobmanager' || mode === 'standalone-job';
}

export function configMapOf(deployment: V1Deployment): string | undefined {
  const container = jobManagerContainer(deployment);
  const mount = (container?.volumeMounts ?? []).find((m) => m.mountPath.replace(/\/+$/, '') === FLINK_CONF_DIR);
  return mount ? deployment.spec?.template.spec?.volumes?.find((v) => v.name === mount.name)?.configMap?.name : undefined;
}
