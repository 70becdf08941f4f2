import type { NativeConnection } from '@temporalio/worker';
import type { MetricMeter } from '@temporalio/common';
import { buildInfo } from '../config/build-info';
import { METRICS } from '../workflows/model/metric-names';

/** The FlinkopsOperation values of operations that change something (not status, doctor, register). */
export const COUNTED_OPERATIONS = ['upgrade', 'savepoint', 'fleet-savepoint', 'remediation'] as const;

/**
 * Metrics the worker process itself sets (not workflows): which build runs, whether it is ready (what /readyz says),
 * and how many flinkops operations run now in its namespace (a visibility count, the same for every replica: use
 * max() across pods). They go through the runtime's meter, which adds no `namespace` label of its own.
 */
export class WorkerMetrics {
  private timer?: NodeJS.Timeout;
  private readyTimer?: NodeJS.Timeout;

  constructor(
    private readonly meter: MetricMeter,
    private readonly connection: Pick<NativeConnection, 'workflowService'>,
    private readonly settings: { namespace: string; taskQueue: string; buildId?: string },
    private readonly log: (message: string, meta: Record<string, unknown>) => void,
  ) {}

  start(ready: () => boolean, intervalMs = 30_000): void {
    const labels = { temporal_namespace: this.settings.namespace, task_queue: this.settings.taskQueue };
    this.meter.createGauge(METRICS.buildInfo, 'int', undefined, 'the flinkops build that runs (always 1)').set(1, {
      ...labels,
      version: buildInfo().version,
      build_id: this.settings.buildId ?? '',
      node_version: buildInfo().node,
    });
    const readyGauge = this.meter.createGauge(METRICS.workerReady, 'int', undefined, '1 while the worker polls and its dependencies answer (/readyz)');
    const running = this.meter.createGauge(METRICS.operationsRunning, 'int', undefined, 'flinkops operations running now, by FlinkopsOperation');
    let failing = false;
    const tick = async () => {
      readyGauge.set(ready() ? 1 : 0, labels);
      try {
        for (const operation of COUNTED_OPERATIONS) {
          const { count } = await this.connection.workflowService.countWorkflowExecutions({
            namespace: this.settings.namespace,
            query: `ExecutionStatus = "Running" AND FlinkopsOperation = "${operation}" AND TaskQueue = "${this.settings.taskQueue}"`,
          });
          running.set(Number(count ?? 0), { ...labels, operation });
        }
        if (failing) this.log('counting running operations works again', {});
        failing = false;
      } catch (error) {
        if (!failing) this.log(`cannot count running operations: ${(error as Error).message.split('\n')[0]}`, { metric: METRICS.operationsRunning });
        failing = true;
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), intervalMs);
    this.timer.unref();
    // Readiness costs nothing to read: kept current every 2 s, so a scrape sees what /readyz would answer.
    this.readyTimer = setInterval(() => readyGauge.set(ready() ? 1 : 0, labels), 2_000);
    this.readyTimer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.readyTimer);
  }
}
