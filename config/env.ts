/**
 * Environment variables that override single values of the configuration file. One table, so the loader, the
 * error messages ("temporal.address (from TEMPORAL_ADDRESS): ...") and the README stay in step.
 */
export interface EnvSetting {
  env: string;
  /** Dotted path in the configuration file. */
  path: string;
  kind?: 'list';
  description: string;
}

export const ENV_SETTINGS: readonly EnvSetting[] = [
  { env: 'TEMPORAL_ADDRESS', path: 'temporal.address', description: 'Temporal frontend, host:port' },
  { env: 'TEMPORAL_NAMESPACE', path: 'temporal.namespace', description: 'Temporal namespace' },
  { env: 'FLINKOPS_TASK_QUEUE', path: 'temporal.taskQueue', description: 'task queue of the workers and the CLI' },
  { env: 'TEMPORAL_API_KEY', path: 'temporal.apiKey.value', description: 'Temporal Cloud API key (secret)' },
  { env: 'TEMPORAL_API_KEY_FILE', path: 'temporal.apiKey.file', description: 'file holding the API key (secret)' },
  { env: 'TEMPORAL_TLS', path: 'temporal.tls.enabled', description: 'true/false: TLS to Temporal' },
  { env: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', path: 'temporal.tls.serverCaFile', description: 'CA certificate of the Temporal server (PEM)' },
  { env: 'TEMPORAL_TLS_CLIENT_CERT_PATH', path: 'temporal.tls.clientCertFile', description: 'mTLS client certificate (PEM)' },
  { env: 'TEMPORAL_TLS_CLIENT_KEY_PATH', path: 'temporal.tls.clientKeyFile', description: 'mTLS client key (PEM, secret)' },
  { env: 'TEMPORAL_TLS_SERVER_NAME', path: 'temporal.tls.serverName', description: 'TLS server name (SNI) override' },
  { env: 'KUBECONFIG', path: 'kubernetes.kubeconfig', description: 'kubeconfig file; unset: in-cluster service account' },
  { env: 'FLINKOPS_SERVICE_ADDRESSING', path: 'flink.serviceAddressing', description: 'dns or cluster-ip' },
  { env: 'FLINKOPS_CLUSTER_DOMAIN', path: 'flink.clusterDomain', description: 'cluster DNS domain' },
  { env: 'FLINKOPS_FLINK_SCHEME', path: 'flink.scheme', description: 'http or https for REST URLs found through Services' },
  { env: 'FLINKOPS_FLINK_REQUEST_TIMEOUT', path: 'flink.requestTimeout', description: 'per-request timeout of Flink REST calls' },
  { env: 'FLINKOPS_FLINK_TLS_CA_FILE', path: 'flink.tls.caFile', description: 'CA certificate of the Flink REST endpoints (PEM)' },
  { env: 'FLINKOPS_FLINK_TLS_CLIENT_CERT_FILE', path: 'flink.tls.clientCertFile', description: 'client certificate for Flink REST (PEM)' },
  { env: 'FLINKOPS_FLINK_TLS_CLIENT_KEY_FILE', path: 'flink.tls.clientKeyFile', description: 'client key for Flink REST (PEM, secret)' },
  { env: 'FLINKOPS_FLINK_TLS_INSECURE_SKIP_VERIFY', path: 'flink.tls.insecureSkipVerify', description: 'true: accept any certificate (tests only)' },
  { env: 'FLINKOPS_POD_ADDRESSING', path: 'flink.podAddressing', description: 'pod-ip or api-server-proxy: how one JobManager pod is asked' },
  { env: 'FLINKOPS_ALLOWED_SAVEPOINT_PREFIXES', path: 'savepoints.allowedPrefixes', kind: 'list', description: 'comma-separated allowed savepoint locations' },
  { env: 'FLINKOPS_ALLOWED_JAR_DIRS', path: 'jars.allowedDirectories', kind: 'list', description: 'comma-separated directories jars may be read from' },
  { env: 'FLINKOPS_ALLOWED_JAR_URIS', path: 'jars.allowedUris', kind: 'list', description: 'comma-separated jarURI prefixes for operator session jobs' },
  { env: 'FLINKOPS_JAR_MAX_SIZE_BYTES', path: 'jars.maxSizeBytes', description: 'largest jar the worker uploads' },
  { env: 'FLINKOPS_REST_URL_ALLOWED', path: 'flink.restUrlOverride.allowedUrls', kind: 'list', description: 'comma-separated URL prefixes --rest-url may use' },
  { env: 'FLINKOPS_REST_URL_SEND_HEADERS', path: 'flink.restUrlOverride.sendHeaders', description: 'true: send flink.headers to --rest-url overrides too' },
  { env: 'FLINKOPS_UPGRADE_SAVEPOINT_TIMEOUT', path: 'defaults.upgrade.savepointTimeout', description: 'CLI default of --savepoint-timeout' },
  { env: 'FLINKOPS_UPGRADE_DEPLOY_TIMEOUT', path: 'defaults.upgrade.deployTimeout', description: 'CLI default of --deploy-timeout' },
  { env: 'FLINKOPS_UPGRADE_VERIFY_TIMEOUT', path: 'defaults.upgrade.verifyTimeout', description: 'CLI default of --verify-timeout' },
  { env: 'FLINKOPS_UPGRADE_STABILITY_WINDOW', path: 'defaults.upgrade.stabilityWindow', description: 'CLI default of --stability-window' },
  { env: 'FLINKOPS_UPGRADE_APPROVAL_TIMEOUT', path: 'defaults.upgrade.approvalTimeout', description: 'CLI default of --approval-timeout' },
  { env: 'FLINKOPS_UPGRADE_MAX_CHECKPOINT_AGE', path: 'defaults.upgrade.maxCheckpointAge', description: 'CLI default of --max-checkpoint-age' },
  { env: 'FLINKOPS_SAVEPOINT_TIMEOUT', path: 'defaults.savepoint.timeout', description: 'CLI default of savepoint --timeout' },
  { env: 'FLINKOPS_REMEDIATION_MAX_PER_HOUR', path: 'defaults.remediation.maxRemediationsPerHour', description: 'CLI default of --max-per-hour' },
  { env: 'FLINKOPS_REMEDIATION_POD_DELETION_WINDOW', path: 'defaults.remediation.podDeletionWindow', description: 'CLI default of --pod-deletion-window' },
  { env: 'FLINKOPS_REMEDIATION_HA_RECOVERY_TIMEOUT', path: 'defaults.remediation.haRecoveryTimeout', description: 'CLI default of --ha-recovery-timeout' },
  { env: 'FLINKOPS_REMEDIATION_JOBMANAGER_TIMEOUT', path: 'defaults.remediation.jobManagerTimeout', description: 'CLI default of --jobmanager-timeout' },
  { env: 'FLINKOPS_REMEDIATION_VERIFY_TIMEOUT', path: 'defaults.remediation.verifyTimeout', description: 'CLI default of remediation --verify-timeout' },
  { env: 'FLINKOPS_REMEDIATION_STABILITY_WINDOW', path: 'defaults.remediation.stabilityWindow', description: 'CLI default of remediation --stability-window' },
  { env: 'FLINKOPS_REMEDIATION_ESCALATION_REPEAT', path: 'defaults.remediation.escalationRepeat', description: 'CLI default of --escalation-repeat' },
  { env: 'FLINKOPS_REMEDIATION_LOST_JOB_RECOVERY', path: 'defaults.remediation.lostJobRecovery', description: 'CLI default of --lost-job-recovery' },
  { env: 'FLINKOPS_REMEDIATION_TASKMANAGER_RESTART_WINDOW', path: 'defaults.remediation.taskManagerRestartWindow', description: 'CLI default of --taskmanager-restart-window' },
  { env: 'FLINKOPS_ESCALATION_WEBHOOK_URL', path: 'remediation.escalationWebhookUrl.value', description: 'where remediation escalations are POSTed (secret)' },
  { env: 'FLINKOPS_SHUTDOWN_GRACE_TIME', path: 'worker.shutdownGraceTime', description: 'after SIGTERM, how long activities may finish' },
  { env: 'FLINKOPS_DEPLOYMENT_NAME', path: 'worker.versioning.deploymentName', description: 'Worker Versioning: the worker deployment name' },
  { env: 'FLINKOPS_BUILD_ID', path: 'worker.versioning.buildId', description: 'Worker Versioning: this worker\'s build id' },
  { env: 'FLINKOPS_VERSIONING_BEHAVIOR', path: 'worker.versioning.defaultBehavior', description: 'AUTO_UPGRADE or PINNED' },
  { env: 'FLINKOPS_VERSIONING_PROMOTE', path: 'worker.versioning.promote', description: 'true: a starting worker becomes the current version' },
  { env: 'FLINKOPS_METRICS_BIND_ADDRESS', path: 'metrics.bindAddress', description: 'Prometheus endpoint, host:port or off' },
  { env: 'FLINKOPS_HEALTH_BIND_ADDRESS', path: 'health.bindAddress', description: 'health endpoint, host:port or off' },
  { env: 'FLINKOPS_LOG_LEVEL', path: 'logging.level', description: 'debug, info, warn or error' },
  { env: 'FLINKOPS_LOG_FORMAT', path: 'logging.format', description: 'json or text' },
];

/** FLINKOPS_FLINK_HEADER_<NAME>=value or FLINKOPS_FLINK_HEADER_<NAME>_FILE=path: header NAME (underscores become dashes). */
export const FLINK_HEADER_ENV_PREFIX = 'FLINKOPS_FLINK_HEADER_';

/**
 * Applies the environment on top of the file's content; returns which paths came from which variable, so errors
 * can name the variable the user actually set.
 */
export function overlayEnvironment(base: Record<string, unknown>, env: NodeJS.ProcessEnv): { merged: Record<string, unknown>; origins: Map<string, string> } {
  const merged = structuredClone(base);
  const origins = new Map<string, string>();
  for (const setting of ENV_SETTINGS) {
    const raw = env[setting.env];
    if (raw === undefined || raw === '') continue;
    const value = setting.kind === 'list' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
    setPath(merged, setting.path, value);
    origins.set(setting.path, setting.env);
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(FLINK_HEADER_ENV_PREFIX) || raw === undefined || raw === '') continue;
    const fromFile = name.endsWith('_FILE');
    const header = name.slice(FLINK_HEADER_ENV_PREFIX.length, fromFile ? -'_FILE'.length : undefined).toLowerCase().replace(/_/g, '-');
    const path = `flink.headers.${header}`;
    setPath(merged, path, fromFile ? { file: raw } : { value: raw });
    origins.set(path, name);
  }
  return { merged, origins };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  // A secret given through the environment replaces whatever source the file named.
  if (path.endsWith('.value') || path.endsWith('.file')) {
    delete node.value;
    delete node.file;
    delete node.env;
  }
  node[last] = value;
}
