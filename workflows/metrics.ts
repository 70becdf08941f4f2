import { metricMeter } from '@temporalio/workflow';
import { METRICS } from './model/metric-names';
import { targetLabels, type MetricTarget } from './model/metric-labels';

// Emitted from workflow code through the SDK's workflow metric meter: nothing is emitted while a workflow is
// replayed, so a metric counts what happened once, not every time a worker rebuilds the workflow's state. Gauges
// are set to what the job's record says (a value, not an increment), so setting one again is harmless.
// Every metric carries the Flink target (flink_cluster, k8s_namespace, and flink_job where there is one);
// workflows/interceptors.ts moves the Temporal namespace to temporal_namespace.

export function recordUpgrade(result: { outcome: string; kind?: string; durationMs: number; downtimeMs?: number; target: MetricTarget }): void {
  const tags = { outcome: result.outcome, kind: result.kind ?? 'unknown', ...targetLabels(result.target) };
  metricMeter.createCounter(METRICS.upgrades, undefined, 'flinkops upgrades by outcome').add(1, tags);
  metricMeter.createHistogram(METRICS.upgradeDuration, 'float', 's', 'wall time of flinkops upgrades').record(seconds(result.durationMs), tags);
  if (result.downtimeMs !== undefined) {
    metricMeter.createHistogram(METRICS.upgradeDowntime, 'float', 's', 'job downtime during flinkops upgrades').record(seconds(result.downtimeMs), tags);
  }
}

export function recordSavepointRun(result: { outcome: string; trigger: string; durationMs?: number; sizeBytes?: number; target: MetricTarget }): void {
  const target = targetLabels(result.target);
  metricMeter.createCounter(METRICS.savepoints, undefined, 'flinkops savepoint runs by outcome').add(1, { outcome: result.outcome, trigger: result.trigger, ...target });
  if (result.durationMs !== undefined) {
    metricMeter.createHistogram(METRICS.savepointDuration, 'float', 's', 'duration of flinkops savepoints').record(seconds(result.durationMs), { trigger: result.trigger, ...target });
  }
  if (result.sizeBytes !== undefined) {
    metricMeter.createHistogram(METRICS.savepointSize, 'int', 'By', 'size of flinkops savepoints').record(result.sizeBytes, { trigger: result.trigger, ...target });
  }
}

/**
 * What the job's record says after a savepoint run: when its newest good savepoint was taken (0: never), how many
 * disposals are still pending, and (scheduled runs) the longest gap the schedule leaves between two runs.
 */
export function recordSavepointState(state: { target: MetricTarget; lastGoodSavepointAt?: string; pendingDisposals?: number; scheduleIntervalMs?: number }): void {
  const target = targetLabels(state.target);
  const at = state.lastGoodSavepointAt === undefined ? 0 : Date.parse(state.lastGoodSavepointAt);
  metricMeter.createGauge(METRICS.lastSavepoint, 'float', 's', 'time of the newest good savepoint of the job (0: none)').set(Number.isFinite(at) ? at / 1000 : 0, target);
  // Each worker replica keeps the values of the runs it ran: alerts take the values of the replica with the newest run.
  metricMeter.createGauge(METRICS.lastSavepointRun, 'float', 's', 'time of the savepoint run that set these values').set(Date.now() / 1000, target);
  if (state.pendingDisposals !== undefined) {
    metricMeter.createGauge(METRICS.pendingDisposals, 'int', undefined, 'savepoint disposals that failed and wait for a retry').set(state.pendingDisposals, target);
  }
  if (state.scheduleIntervalMs !== undefined) {
    metricMeter.createGauge(METRICS.savepointScheduleInterval, 'float', 's', 'longest gap the savepoint schedule leaves between two runs').set(seconds(state.scheduleIntervalMs), target);
  }
}

/** For the JobManager remediation workflow: one count per remediation, by how it ended. */
export function recordRemediation(result: { outcome: string; target: MetricTarget }): void {
  metricMeter.createCounter(METRICS.remediations, undefined, 'flinkops JobManager remediations by outcome').add(1, { outcome: result.outcome, ...targetLabels(result.target) });
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
