/**
 * Pod addresses. The API server refuses loopback addresses in EndpointSlices, so pods get addresses from a
 * private range (e.g. 10.245.0.0/16) in their status, while their processes bind the loopback twin of that
 * address (127.245.x.y), which needs no network setup. Everything that connects to a pod (the service proxy,
 * other pods) translates the status address to its twin.
 */
export interface PodNetworkSpec {
  /** First two octets of pod addresses as the API sees them, e.g. "10.245". */
  podPrefix: string;
  /** First two octets of the loopback twins, e.g. "127.245". */
  loopbackPrefix: string;
}

export class PodNetwork {
  private readonly inUse = new Set<string>();
  private next = 2;

  constructor(readonly spec: PodNetworkSpec) {}

  /** The loopback address a process of the pod with this status address binds. */
  toLoopback(podIp: string): string {
    return podIp.startsWith(`${this.spec.podPrefix}.`) ? `${this.spec.loopbackPrefix}${podIp.slice(this.spec.podPrefix.length)}` : podIp;
  }

  /** Marks an address as taken (a pod that already had one when the node agent started). */
  claim(podIp: string): void {
    this.inUse.add(podIp);
  }

  allocate(): string {
    for (let attempts = 0; attempts < 65_000; attempts++) {
      const index = this.next;
      this.next = this.next >= 65_000 ? 2 : this.next + 1;
      const ip = `${this.spec.podPrefix}.${Math.floor(index / 256)}.${index % 256}`;
      if (index % 256 === 0 || index % 256 === 255 || this.inUse.has(ip)) continue;
      this.inUse.add(ip);
      return ip;
    }
    throw new Error('pod network exhausted');
  }

  release(podIp: string): void {
    this.inUse.delete(podIp);
  }
}
