import { join } from 'node:path';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import { TERMINAL_JOB_STATES } from '../../activities/flink/schemas';
import { startFaultProxy, startKubeFaultProxy, type FaultProxy } from '../stack/fault-proxy';
import { serviceUrl } from '../stack/kube/helpers';
import { OperationHarness } from '../stack/harness';

/**
 * The correctness promise under faults (faults-*.test.ts): a fault-injecting proxy in front of the Flink REST API (20%
 * 5xx, 10% resets before or after Flink answered, slow answers) and one in front of the Kubernetes API server (409, 429,
 * 5xx), with the worker sent through the latter. Each file gets its own session cluster, proxies and worker.
 */
export class FaultHarness {
  readonly h: OperationHarness;
  flink!: FlinkRestClient;
  flinkFaults!: FaultProxy;
  kubeFaults!: FaultProxy;
  readonly outcomes: Record<string, number> = {};

  constructor(name: string) {
    this.h = new OperationHarness(name);
  }

  async setUp(seed: number): Promise<void> {
    await this.h.setUp();
    this.flink = await this.h.sessionCluster('flink', 8);
    this.flinkFaults = await startFaultProxy({ url: await serviceUrl(this.h.kube, this.h.namespace, 'flink-jobmanager') }, { error: 0.2, resetBefore: 0.05, resetAfter: 0.05, slow: 0.05, slowMs: 1_500 }, seed);
    const kube = await startKubeFaultProxy(this.h.stack.state.kube.kubeconfig, { error: 0.05, errorStatus: 503, conflictOnWrite: 0.1, tooManyRequests: 0.05 }, join(this.h.dataDir, 'faulty.kubeconfig'), seed + 1);
    this.kubeFaults = kube.proxy;
    await this.h.restartWorker({ KUBECONFIG: kube.kubeconfig });
  }

  async tearDown(): Promise<void> {
    console.log(`faults injected: Flink REST ${JSON.stringify(this.flinkFaults?.counts)}; Kubernetes API ${JSON.stringify(this.kubeFaults?.counts)}; outcomes ${JSON.stringify(this.outcomes)}`);
    await this.flinkFaults?.close();
    await this.kubeFaults?.close();
    await this.h.tearDown();
  }

  count(outcome: string): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
  }

  /** Non-terminal jobs of that name, asked of Flink directly (not through the faulty proxy). */
  async activeJobs(name: string): Promise<string[]> {
    return (await this.flink.listJobs()).filter((j) => j.name === name && !TERMINAL_JOB_STATES.includes(j.state)).map((j) => j.jid);
  }

  /** Watches a job name while `during` runs: the most jobs of that name ever active at once. */
  async maxConcurrent(name: string, during: () => Promise<unknown>): Promise<number> {
    let max = 0;
    let done = false;
    const watcher = (async () => {
      while (!done) {
        max = Math.max(max, (await this.activeJobs(name).catch(() => [])).length);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    try {
      await during();
    } finally {
      done = true;
      await watcher;
    }
    return max;
  }

}
