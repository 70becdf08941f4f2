import { EventEmitter } from 'node:events';
import { CoreV1Api, DiscoveryV1Api, makeInformer, type Informer, type KubeConfig, type ObjectCache, type KubernetesObject, type V1EndpointSlice, type V1Service } from '@kubernetes/client-node';

/**
 * Services and their EndpointSlices as the node sees them, for cluster DNS (hosts files of pod processes) and
 * the service proxy. Emits "change" whenever either changes.
 */
export class ServiceCatalog extends EventEmitter {
  private readonly services: Informer<V1Service> & ObjectCache<V1Service>;
  private readonly slices: Informer<V1EndpointSlice> & ObjectCache<V1EndpointSlice>;

  constructor(kc: KubeConfig, private readonly log: (message: string) => void) {
    super();
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    this.services = makeInformer(kc, '/api/v1/services', () => core.listServiceForAllNamespaces());
    this.slices = makeInformer(kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces());
  }

  async start(): Promise<void> {
    for (const informer of [this.services, this.slices] as Informer<KubernetesObject>[]) {
      for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, () => this.emit('change'));
      informer.on('error', (error: unknown) => {
        this.log(`service catalog watch failed (${String(error)}); restarting`);
        setTimeout(() => void informer.start().catch(() => undefined), 1_000);
      });
      await informer.start();
    }
    this.emit('change');
  }

  async stop(): Promise<void> {
    await Promise.all([this.services.stop(), this.slices.stop()]);
  }

  allServices(): readonly V1Service[] {
    return this.services.list();
  }

  /**
   * Cluster DNS for a pod in `namespace`: every Service's names resolve to its ClusterIP; a headless Service's
   * names resolve to its first ready endpoint (translated by `toLoopback` to the address its process binds).
   */
  hostsFor(namespace: string, toLoopback: (podIp: string) => string = (ip) => ip): Record<string, string> {
    const hosts: Record<string, string> = {};
    for (const service of this.services.list()) {
      const name = service.metadata?.name;
      const ns = service.metadata?.namespace;
      const clusterIp = service.spec?.clusterIP;
      const ip = clusterIp === 'None' && name && ns ? this.firstReadyAddress(ns, name, toLoopback) : clusterIp;
      if (!ip || ip === 'None' || !name || !ns) continue;
      for (const alias of [`${name}.${ns}.svc.cluster.local`, `${name}.${ns}.svc`, `${name}.${ns}`]) hosts[alias] = ip;
      if (ns === namespace) hosts[name] = ip;
    }
    return hosts;
  }

  private firstReadyAddress(namespace: string, serviceName: string, toLoopback: (podIp: string) => string): string | undefined {
    const addresses = this.slices
      .list(namespace)
      .filter((slice) => slice.metadata?.labels?.['kubernetes.io/service-name'] === serviceName)
      .flatMap((slice) => (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses))
      .sort();
    return addresses[0] === undefined ? undefined : toLoopback(addresses[0]);
  }

  /** Ready endpoint addresses (as in the API: pod network addresses) and ports for one port of a Service. */
  readyEndpoints(namespace: string, serviceName: string, portName: string | undefined): { address: string; port: number }[] {
    const endpoints: { address: string; port: number }[] = [];
    for (const slice of this.slices.list(namespace)) {
      if (slice.metadata?.labels?.['kubernetes.io/service-name'] !== serviceName) continue;
      const port = (slice.ports ?? []).find((p) => (p.name ?? '') === (portName ?? ''))?.port;
      if (port === undefined) continue;
      for (const endpoint of slice.endpoints ?? []) {
        if (endpoint.conditions?.ready === false) continue;
        for (const address of endpoint.addresses) endpoints.push({ address, port });
      }
    }
    return endpoints.sort((a, b) => a.address.localeCompare(b.address));
  }
}
