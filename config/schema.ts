import { z } from 'zod';
import { DurationSchema as Duration } from '../workflows/model/validation';
import { normalizeLocation } from '../workflows/model/locations';
import { LOST_JOB_RECOVERY } from '../workflows/remediation/request';

/**
 * The flinkops configuration file (YAML or JSON; FLINKOPS_CONFIG or --config), the same one for the worker and
 * the CLI. Every object is strict: a misspelt key is an error naming it, not a setting silently ignored.
 * Environment variables (config/env.ts) override single values. See README "Configuration reference".
 */

const PositiveDuration = Duration.refine((ms) => ms > 0, 'must be longer than 0');

/** A savepoint location prefix, checked with the same normalisation every location goes through. */
const LocationPrefix = z.string().superRefine((value, ctx) => {
  const normalized = normalizeLocation(value);
  if (!normalized.ok) ctx.addIssue({ code: 'custom', message: normalized.problem });
  else if (normalized.location === 'file:///') ctx.addIssue({ code: 'custom', message: 'must name a directory, not the whole file system' });
});

const Flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');

/** host:port, where host is a DNS name, an IPv4 address or a bracketed IPv6 address. */
export const HostPort = z.string().refine((value) => parseHostPort(value) !== undefined, {
  message: 'must be host:port (e.g. temporal.example.com:7233), with a port from 1 to 65535',
});

/** A listen address (host:port), or "off" to turn the endpoint off (false: zod would replace undefined by the default). */
const ListenAddress = z.union([z.literal('off'), z.literal(false), HostPort]).transform((v) => (v === 'off' || v === false ? (false as const) : v));

export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(value.trim());
  if (!match) return undefined;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? { host: match[1]!, port } : undefined;
}

/** A secret's source: inline (discouraged outside tests), a file (a mounted Kubernetes Secret), or an env variable. */
export const SecretSourceSchema = z
  .strictObject({
    value: z.string().min(1).optional(),
    file: z.string().min(1).optional(),
    env: z.string().min(1).optional(),
  })
  .refine((s) => [s.value, s.file, s.env].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of value, file, env' });
export type SecretSource = z.infer<typeof SecretSourceSchema>;

const TemporalSchema = z.strictObject({
  address: HostPort.default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  taskQueue: z.string().min(1).default('flinkops'),
  /** Temporal Cloud API key (sent as a bearer token; turns TLS on unless tls.enabled is false). */
  apiKey: SecretSourceSchema.optional(),
  tls: z
    .strictObject({
      /** Default: on when an API key, a client certificate or a server CA is configured. */
      enabled: Flag.optional(),
      serverCaFile: z.string().min(1).optional(),
      clientCertFile: z.string().min(1).optional(),
      clientKeyFile: z.string().min(1).optional(),
      serverName: z.string().min(1).optional(),
    })
    .refine((t) => (t.clientCertFile === undefined) === (t.clientKeyFile === undefined), {
      message: 'clientCertFile and clientKeyFile go together (mTLS needs both)',
    })
    .prefault({}),
});

const KubernetesSchema = z.strictObject({
  /** A kubeconfig file; without one the worker uses its in-cluster service account. */
  kubeconfig: z.string().min(1).optional(),
});

export const ServiceAddressingSchema = z.enum(['dns', 'cluster-ip']);

const FlinkSchema = z.strictObject({
  /**
   * `dns`: http(s)://<service>.<namespace>.svc.<clusterDomain>:<port> (an in-cluster worker);
   * `cluster-ip`: the Service's ClusterIP (a worker that reaches ClusterIPs but has no cluster DNS).
   */
  serviceAddressing: ServiceAddressingSchema.default('dns'),
  /**
   * How the worker asks one JobManager pod (not the Service): `pod-ip` (a worker in the cluster network) or
   * `api-server-proxy` (through the API server's pod proxy; needs pods/proxy get).
   */
  podAddressing: z.enum(['pod-ip', 'api-server-proxy']).default('pod-ip'),
  clusterDomain: z.string().min(1).default('cluster.local'),
  /** Scheme of REST URLs found through Services: https when the JobManagers serve REST over TLS. */
  scheme: z.enum(['http', 'https']).default('http'),
  requestTimeout: PositiveDuration.default(15_000),
  tls: z
    .strictObject({
      caFile: z.string().min(1).optional(),
      clientCertFile: z.string().min(1).optional(),
      clientKeyFile: z.string().min(1).optional(),
      /** Accept any server certificate: for a first test only, never in production. */
      insecureSkipVerify: Flag.default(false),
    })
    .refine((t) => (t.clientCertFile === undefined) === (t.clientKeyFile === undefined), {
      message: 'clientCertFile and clientKeyFile go together (mTLS needs both)',
    })
    .optional(),
  /**
   * `--rest-url` overrides: off unless URL prefixes are listed. Link-local and metadata addresses are refused
   * whatever the list says. flink.headers (credentials) go only to the cluster's own Service endpoint unless
   * sendHeaders is true.
   */
  restUrlOverride: z
    .strictObject({
      allowedUrls: z
        .array(z.string().regex(/^https?:\/\/[^/?#@\s]+(\/[^?#\s]*)?$/i, 'must be an http(s) URL prefix (scheme://host[:port][/path]; port * for any)'))
        .default([]),
      sendHeaders: Flag.default(false),
    })
    .prefault({}),
  /** Headers on every Flink REST request (authentication at a proxy in front of the JobManager). Values are secrets. */
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'is not a valid HTTP header name'), SecretSourceSchema)
    .default({}),
});

const SavepointsSchema = z.strictObject({
  /**
   * Savepoint and checkpoint locations flinkops may write to, restore from or dispose of (URI prefixes such as
   * s3://bucket/flink or file:///data). Empty: only each cluster's own configured savepoint and checkpoint
   * directories, and no local deletion.
   */
  allowedPrefixes: z.array(LocationPrefix).default([]),
});

/** Jars the worker may read and upload for session-job upgrades and registrations. */
const JarsSchema = z.strictObject({
  /** Directories on the worker (symbolic links resolved); empty allows no jar at all. */
  allowedDirectories: z.array(z.string().refine((p) => p.startsWith('/'), 'must be an absolute directory')).default([]),
  maxSizeBytes: z.coerce.number().int().positive().default(512 * 1024 * 1024),
  /** URI prefixes a FlinkSessionJob's jarURI may start with (file:///..., https://...); the operator fetches them. */
  allowedUris: z.array(z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/i, 'must be a URI prefix such as https://artifacts.example.com/flink/')).default([]),
});

/** What the CLI puts into requests when a flag is not given; unset means the workflow's own default. */
const DefaultsSchema = z.strictObject({
  upgrade: z
    .strictObject({
      savepointTimeout: PositiveDuration.optional(),
      deployTimeout: PositiveDuration.optional(),
      verifyTimeout: PositiveDuration.optional(),
      stabilityWindow: Duration.optional(),
      approvalTimeout: PositiveDuration.optional(),
      maxCheckpointAge: PositiveDuration.optional(),
    })
    .prefault({}),
  savepoint: z.strictObject({ timeout: PositiveDuration.optional() }).prefault({}),
  /** Limits of `remediate`, `doctor` and new watch schedules (names as in the request; flags win). */
  remediation: z
    .strictObject({
      maxRemediationsPerHour: z.coerce.number().int('must be a whole number').min(1, 'must allow at least 1').max(60).optional(),
      podDeletionWindow: PositiveDuration.optional(),
      haRecoveryTimeout: PositiveDuration.optional(),
      jobManagerTimeout: PositiveDuration.optional(),
      verifyTimeout: PositiveDuration.optional(),
      stabilityWindow: Duration.optional(),
      escalationRepeat: PositiveDuration.optional(),
      lostJobRecovery: z.enum(LOST_JOB_RECOVERY).optional(),
      taskManagerRestartWindow: PositiveDuration.optional(),
    })
    .prefault({}),
});

const RemediationSchema = z.strictObject({
  /**
   * Where remediation POSTs "needs a human" escalations as JSON. A secret (webhook URLs often carry their token):
   * the worker reads it, it never appears in workflow input or history.
   */
  escalationWebhookUrl: SecretSourceSchema.optional(),
});

const WorkerSchema = z.strictObject({
  /** After SIGTERM: how long in-flight activities may run on before they are cancelled (heartbeating ones see it). */
  shutdownGraceTime: Duration.default(30_000),
  maxConcurrentActivities: z.number().int().positive().optional(),
  /**
   * Worker Versioning: the worker polls as version `buildId` of deployment `deploymentName`. Running workflows move to
   * a new version (AUTO_UPGRADE; flinkops keeps its running workflows replay-compatible with patched()), or stay on
   * the one they started on (PINNED: needs the old workers running until they finish). With `promote`, a starting
   * worker makes its version the deployment's current one, so a rolling update of the worker moves the work over.
   */
  versioning: z
    .strictObject({
      deploymentName: z.string().min(1).max(255),
      buildId: z.string().min(1).max(255),
      defaultBehavior: z.enum(['AUTO_UPGRADE', 'PINNED']).default('AUTO_UPGRADE'),
      promote: Flag.default(true),
    })
    .optional(),
});

export const LogLevelSchema = z.enum(['debug', 'info', 'warn', 'error']);

export const ConfigFileSchema = z.strictObject({
  temporal: TemporalSchema.prefault({}),
  kubernetes: KubernetesSchema.prefault({}),
  flink: FlinkSchema.prefault({}),
  savepoints: SavepointsSchema.prefault({}),
  jars: JarsSchema.prefault({}),
  defaults: DefaultsSchema.prefault({}),
  remediation: RemediationSchema.prefault({}),
  worker: WorkerSchema.prefault({}),
  /** Prometheus endpoint (/metrics) with the Temporal SDK's metrics and flinkops' own. */
  metrics: z.strictObject({ bindAddress: ListenAddress.default('0.0.0.0:9464') }).prefault({}),
  /** /healthz (liveness) and /readyz (readiness: the worker is polling) for probes. */
  health: z.strictObject({ bindAddress: ListenAddress.default('0.0.0.0:9465') }).prefault({}),
  logging: z
    .strictObject({ level: LogLevelSchema.default('info'), format: z.enum(['json', 'text']).default('json') })
    .prefault({}),
});
export type ConfigFile = z.output<typeof ConfigFileSchema>;
export type ConfigFileInput = z.input<typeof ConfigFileSchema>;
