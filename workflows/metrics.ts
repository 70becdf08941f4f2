import { metricMeter } from '@temporalio/workflow';
import { METRICS } from './model/metric-names';

// Emitted from workflow code through the SDK's workflow metric meter: nothing is emitted while a workflow is
// replayed, so a metric counts what happened once, not every time a worker rebuilds the workflow's state.

export function recordUpgrade(result: { outcome: string; kind?: string; durationMs: number; downtimeMs?: number }): void {
  const tags = { outcome: result.outcome, kind: result.kind ?? 'unknown' };
  metricMeter.createCounter(METRICS.upgrades, undefined, 'flinkops upgrades by outcome').add(1, tags);
  metricMeter.createHistogram(METRICS.upgradeDuration, 'float', 's', 'wall time of flinkops upgrades').record(seconds(result.durationMs), tags);
  if (result.downtimeMs !== undefined) {
    metricMeter.createHistogram(METRICS.upgradeDowntime, 'float', 's', 'job downtime during flinkops upgrades').record(seconds(result.downtimeMs), tags);
  }
}

export function recordSavepointRun(result: { outcome: string; trigger: string; durationMs?: number; sizeBytes?: number }): void {
  metricMeter.createCounter(METRICS.savepoints, undefined, 'flinkops savepoint runs by outcome').add(1, { outcome: result.outcome, trigger: result.trigger });
  if (result.durationMs !== undefined) {
    metricMeter.createHistogram(METRICS.savepointDuration, 'float', 's', 'duration of flinkops savepoints').record(seconds(result.durationMs), { trigger: result.trigger });
  }
  if (result.sizeBytes !== undefined) {
    metricMeter.createHistogram(METRICS.savepointSize, 'int', 'By', 'size of flinkops savepoints').record(result.sizeBytes, { trigger: result.trigger });
  }
}

/** For the JobManager remediation workflow: one count per remediation, by how it ended. */
export function recordRemediation(result: { outcome: string }): void {
  metricMeter.createCounter(METRICS.remediations, undefined, 'flinkops JobManager remediations by outcome').add(1, { outcome: result.outcome });
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
