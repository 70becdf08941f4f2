/**
 * flinkops' own Prometheus metrics, served on the worker's metrics endpoint next to the Temporal SDK's
 * (`temporal_*`). Workflow metrics carry the labels namespace, taskQueue and workflowType; activity metrics
 * namespace, taskQueue and activityType; the labels below come on top. README "Metrics" lists them.
 */
export const METRICS = {
  /** counter {outcome, kind}: upgrades by how they ended (succeeded, rolled-back, rollback-failed, nothing-changed, aborted, cancelled, refused, dry-run, failed). */
  upgrades: 'flinkops_upgrades_total',
  /** histogram {outcome, kind}: wall time of an upgrade workflow, approval wait included. */
  upgradeDuration: 'flinkops_upgrade_duration_seconds',
  /** histogram {outcome, kind}: from the start of the stop until the job (new or rolled back) ran with all tasks. */
  upgradeDowntime: 'flinkops_upgrade_downtime_seconds',
  /** counter {outcome, trigger}: savepoint runs (completed, failed, skipped, refused). */
  savepoints: 'flinkops_savepoints_total',
  /** histogram {trigger}: from trigger to completion of a savepoint run's savepoint. */
  savepointDuration: 'flinkops_savepoint_duration_seconds',
  /** histogram {trigger}: size of the completed savepoint (its files, as far as the worker can read them). */
  savepointSize: 'flinkops_savepoint_size_bytes',
  /** counter {outcome}: JobManager remediations by outcome. */
  remediations: 'flinkops_remediations_total',
  /** counter {error} (+ activityType): failed activity attempts by activity and error type. */
  activityFailures: 'flinkops_activity_failures_total',
} as const;

/** Histogram bucket boundaries (the SDK's defaults are milliseconds-sized). */
export const METRIC_BUCKETS: Record<string, number[]> = {
  [METRICS.upgradeDuration]: [10, 30, 60, 120, 300, 600, 1800, 3600, 7200],
  [METRICS.upgradeDowntime]: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
  [METRICS.savepointDuration]: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
  [METRICS.savepointSize]: [2 ** 10, 2 ** 20, 2 ** 23, 2 ** 26, 2 ** 30, 2 ** 33, 2 ** 36, 2 ** 40],
};
