import { renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CoreV1Api, KubeConfig, makeInformer, type V1Service } from '@kubernetes/client-node';

/**
 * The Flink Kubernetes Operator's name resolution on the local stack: a JVM hosts file (-Djdk.net.hosts.file) mapping
 * every ClusterIP Service's DNS names (<svc>.<ns>, .svc, .svc.cluster.local) to its ClusterIP (a loopback address the
 * local node proxies), rewritten atomically on every Service change. Runs as a daemon beside the operator.
 *
 *   KUBECONFIG=... node dist/test/stack/operator/hosts-sync.js HOSTS_FILE
 */
export function hostsFileText(services: readonly V1Service[], self: string): string {
  const lines = ['127.0.0.1 localhost', `127.0.0.1 ${self}`];
  for (const service of services) {
    const ip = service.spec?.clusterIP;
    const { name, namespace } = service.metadata ?? {};
    if (!ip || ip === 'None' || !name || !namespace) continue;
    lines.push(`${ip} ${name}.${namespace} ${name}.${namespace}.svc ${name}.${namespace}.svc.cluster.local`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(target: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer(kc, '/api/v1/services', () => core.listServiceForAllNamespaces());
  let last = '';
  const write = () => {
    const text = hostsFileText(informer.list(), hostname());
    if (text === last) return;
    writeFileSync(`${target}.tmp`, text);
    renameSync(`${target}.tmp`, target);
    last = text;
  };
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, write);
  informer.on('error', (error: unknown) => {
    console.error(`${new Date().toISOString()} service watch failed (${String(error)}); restarting`);
    setTimeout(() => void informer.start().catch(() => undefined), 1_000);
  });
  await informer.start();
  write();
}

if (require.main === module) {
  main(process.argv[2] ?? '').catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
