import { connect, createServer, type Server, type Socket } from 'node:net';
import type { PodNetwork } from './pod-network';
import type { ServiceCatalog } from './services';

/**
 * kube-proxy's job for ClusterIP Services: a TCP listener on every ClusterIP:port (loopback addresses), each
 * connection forwarded to the next ready endpoint in round-robin order. Without ready endpoints the connection
 * is refused, as with kube-proxy's reject rule.
 */
export class ServiceProxy {
  private readonly listeners = new Map<string, { server: Server; namespace: string; service: string; portName: string | undefined }>();
  private readonly nextEndpoint = new Map<string, number>();

  constructor(
    private readonly catalog: ServiceCatalog,
    private readonly network: PodNetwork,
    private readonly log: (message: string) => void,
  ) {}

  /** Opens listeners for new Service ports and closes those of deleted ones. */
  sync(): void {
    const wanted = new Map<string, { namespace: string; service: string; portName: string | undefined; ip: string; port: number }>();
    for (const svc of this.catalog.allServices()) {
      const ip = svc.spec?.clusterIP;
      if (!ip || ip === 'None' || !ip.startsWith('127.')) continue;
      for (const port of svc.spec?.ports ?? []) {
        if ((port.protocol ?? 'TCP') !== 'TCP') continue;
        wanted.set(`${ip}:${port.port}`, { namespace: svc.metadata!.namespace!, service: svc.metadata!.name!, portName: port.name, ip, port: port.port });
      }
    }
    for (const [key, listener] of this.listeners) {
      if (!wanted.has(key)) {
        listener.server.close();
        this.listeners.delete(key);
      }
    }
    for (const [key, target] of wanted) {
      if (this.listeners.has(key)) continue;
      const server = createServer((socket) => this.forward(key, socket));
      server.on('error', (error) => this.log(`service proxy cannot listen on ${key}: ${error.message}`));
      server.listen(target.port, target.ip);
      this.listeners.set(key, { server, namespace: target.namespace, service: target.service, portName: target.portName });
    }
  }

  private forward(key: string, client: Socket): void {
    const listener = this.listeners.get(key);
    const endpoints = listener ? this.catalog.readyEndpoints(listener.namespace, listener.service, listener.portName) : [];
    if (!listener || endpoints.length === 0) {
      client.resetAndDestroy();
      return;
    }
    const index = (this.nextEndpoint.get(key) ?? 0) % endpoints.length;
    this.nextEndpoint.set(key, index + 1);
    const endpoint = endpoints[index]!;
    const upstream = connect({ host: this.network.toLoopback(endpoint.address), port: endpoint.port });
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  }

  close(): void {
    for (const { server } of this.listeners.values()) server.close();
    this.listeners.clear();
  }
}
