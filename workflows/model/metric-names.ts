/**
 * flinkops' own Prometheus metrics, served on the worker's metrics endpoint next to the Temporal SDK's
 * (`temporal_*`). Workflow metrics carry the labels temporal_namespace, taskQueue and workflowType; activity metrics
 * temporal_namespace, taskQueue and activityType; domain metrics flink_cluster, k8s_namespace and, about one job,
 * flink_job (model/metric-labels.ts); the labels below come on top. README "Metrics" lists them.
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
  /** gauge (per job): Unix time of the job's newest good savepoint as its record has it, 0 when it has none. */
  lastSavepoint: 'flinkops_savepoint_last_success_timestamp_seconds',
  /** gauge (per job): Unix time of the savepoint run that set the gauges above (the newest run's values win). */
  lastSavepointRun: 'flinkops_savepoint_last_run_timestamp_seconds',
  /** gauge (per job): savepoint disposals that failed and are retried by the next run. */
  pendingDisposals: 'flinkops_savepoint_pending_disposals',
  /** gauge (per job, scheduled runs): the longest gap the job's savepoint schedule leaves between two runs. */
  savepointScheduleInterval: 'flinkops_savepoint_schedule_interval_seconds',
  /** gauge {operation} (worker): flinkops workflows running now in the namespace, by FlinkopsOperation. */
  operationsRunning: 'flinkops_operations_running',
  /** gauge (worker): 1 while the worker polls with Temporal and the Kubernetes API usable (/readyz), else 0. */
  workerReady: 'flinkops_worker_ready',
  /** gauge {version, build_id} (worker): always 1; the labels say which build runs. */
  buildInfo: 'flinkops_build_info',
} as const;

/** Histogram bucket boundaries (the SDK's defaults are milliseconds-sized). */
export const METRIC_BUCKETS: Record<string, number[]> = {
  [METRICS.upgradeDuration]: [10, 30, 60, 120, 300, 600, 1800, 3600, 7200],
  [METRICS.upgradeDowntime]: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
  [METRICS.savepointDuration]: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
  [METRICS.savepointSize]: [2 ** 10, 2 ** 20, 2 ** 23, 2 ** 26, 2 ** 30, 2 ** 33, 2 ** 36, 2 ** 40],
};
