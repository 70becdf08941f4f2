import { connect } from 'node:net';
import type { V1Probe } from '@kubernetes/client-node';

/** Runs one httpGet or tcpSocket probe against the pod's address, like the kubelet's prober. */
export async function runProbe(probe: V1Probe, address: string, namedPorts: Record<string, number>): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  const portOf = (port: number | string | undefined) => (typeof port === 'number' ? port : namedPorts[String(port)] ?? Number(port));
  if (probe.httpGet) {
    const port = portOf(probe.httpGet.port);
    const path = probe.httpGet.path ?? '/';
    try {
      const response = await fetch(`http://${address}:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      return response.status >= 200 && response.status < 400;
    } catch {
      return false;
    }
  }
  if (probe.tcpSocket) {
    const port = portOf(probe.tcpSocket.port);
    return new Promise((resolve) => {
      const socket = connect({ host: address, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(false));
    });
  }
  // exec probes need a container runtime; treat them as passing rather than failing pods for it.
  return true;
}

/** Tracks consecutive results against the probe's thresholds. */
export class ProbeState {
  private successes = 0;
  private failures = 0;
  private lastRunMs = 0;
  passing: boolean;

  constructor(
    readonly probe: V1Probe,
    initiallyPassing: boolean,
    private readonly startedAtMs: number,
  ) {
    this.passing = initiallyPassing;
  }

  due(nowMs: number): boolean {
    if (nowMs - this.startedAtMs < (this.probe.initialDelaySeconds ?? 0) * 1000) return false;
    return nowMs - this.lastRunMs >= (this.probe.periodSeconds ?? 10) * 1000;
  }

  record(result: boolean, nowMs: number): void {
    this.lastRunMs = nowMs;
    if (result) {
      this.failures = 0;
      this.successes++;
      if (this.successes >= (this.probe.successThreshold ?? 1)) this.passing = true;
    } else {
      this.successes = 0;
      this.failures++;
      if (this.failures >= (this.probe.failureThreshold ?? 3)) this.passing = false;
    }
  }
}
