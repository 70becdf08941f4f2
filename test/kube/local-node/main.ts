import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { LocalKubelet } from './kubelet';
import { PodNetwork, type PodNetworkSpec } from './pod-network';
import { startPodEgress } from './pod-egress';
import { ServiceProxy } from './service-proxy';
import { ServiceCatalog } from './services';

/**
 * The local node: kubelet, scheduler and kube-proxy for the test control plane, in one process. Pods become
 * local Flink processes on their own loopback addresses. Started by the stack as the daemon "local-node".
 *
 *   node dist/test/kube/local-node/main.js CONFIG.json
 */
export interface LocalNodeConfig {
  kubeconfig: string;
  nodeName: string;
  cacheDir: string;
  podsDir: string;
  apiServer: string;
  caFile: string;
  network: PodNetworkSpec;
  backoffBaseMs: number;
  /** The HTTP CONNECT proxy the API server reaches pods through (pods/proxy). */
  podEgressSocket?: string;
}

function log(message: string): void {
  console.log(`${new Date().toISOString()} ${message}`);
}

async function main(configPath: string): Promise<void> {
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as LocalNodeConfig;
  const kc = new KubeConfig();
  kc.loadFromFile(config.kubeconfig);
  const network = new PodNetwork(config.network);
  const catalog = new ServiceCatalog(kc, log);
  const proxy = new ServiceProxy(catalog, network, log);
  const kubelet = new LocalKubelet(kc, network, catalog, { ...config, log });
  const egress = config.podEgressSocket ? startPodEgress(config.podEgressSocket, network, log) : undefined;

  catalog.on('change', () => {
    proxy.sync();
    kubelet.refreshHosts();
  });
  await catalog.start();
  await kubelet.start();
  log(`local node ${config.nodeName} ready`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping pods`);
    await kubelet.stop();
    proxy.close();
    egress?.close();
    await catalog.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main(process.argv[2] ?? '').catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
