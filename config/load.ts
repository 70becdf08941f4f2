import { existsSync, readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { canonicalLocation } from '../workflows/model/locations';
import { overlayEnvironment } from './env';
import { ConfigFileSchema, type ConfigFile, type SecretSource } from './schema';
import { Secret } from './secret';
import type { TemporalSettings } from './temporal';
import type { WorkerSettings } from './worker';

/** Invalid configuration: every problem on its own line, each naming the field ("config: temporal.address: ..."). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: string[]) {
    super(problems.map((p) => `config: ${p}`).join('\n'));
  }
}

export interface ConfigSources {
  /** The configuration file (YAML or JSON); FLINKOPS_CONFIG when not given. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** The worker's settings: file, then environment, validated, with every referenced file and secret read. */
export function loadWorkerSettings(sources: ConfigSources = {}): WorkerSettings {
  const { config, file, origins } = loadConfigFile(sources);
  const reader = new SourceReader(sources.env ?? process.env, origins);
  const settings: WorkerSettings = {
    configFile: file,
    temporal: resolveTemporal(config, reader),
    kube: { kubeconfig: reader.existingFile('kubernetes.kubeconfig', config.kubernetes.kubeconfig) },
    flink: {
      serviceAddressing: config.flink.serviceAddressing,
      podAddressing: config.flink.podAddressing,
      clusterDomain: config.flink.clusterDomain,
      scheme: config.flink.scheme,
      requestTimeoutMs: config.flink.requestTimeout,
      tls: config.flink.tls && {
        caFile: config.flink.tls.caFile,
        ca: reader.text('flink.tls.caFile', config.flink.tls.caFile),
        clientCertFile: config.flink.tls.clientCertFile,
        clientCert: reader.text('flink.tls.clientCertFile', config.flink.tls.clientCertFile),
        clientKey: reader.secretFile('flink.tls.clientKeyFile', config.flink.tls.clientKeyFile),
        rejectUnauthorized: !config.flink.tls.insecureSkipVerify,
      },
      restUrlOverride: config.flink.restUrlOverride,
      headers: Object.fromEntries(
        Object.entries(config.flink.headers).flatMap(([name, source]) => {
          const secret = reader.secret(`flink.headers.${name}`, source, { trim: true });
          return secret ? [[name, secret]] : [];
        }),
      ),
    },
    savepoints: { allowedPrefixes: config.savepoints.allowedPrefixes.map(canonicalLocation) },
    jars: config.jars,
    remediation: { escalationWebhookUrl: webhookUrl(reader, config.remediation.escalationWebhookUrl) },
    defaults: config.defaults,
    worker: { shutdownGraceTimeMs: config.worker.shutdownGraceTime, maxConcurrentActivities: config.worker.maxConcurrentActivities, versioning: config.worker.versioning },
    metrics: { bindAddress: config.metrics.bindAddress || undefined },
    health: { bindAddress: config.health.bindAddress || undefined },
    logging: config.logging,
  };
  reader.throwIfProblems();
  return settings;
}

/** What the CLI needs: how to reach Temporal, and the defaults it fills into requests. */
export function loadCliSettings(sources: ConfigSources = {}): { temporal: TemporalSettings; defaults: ConfigFile['defaults']; configFile?: string } {
  const { config, file, origins } = loadConfigFile(sources);
  const reader = new SourceReader(sources.env ?? process.env, origins);
  const temporal = resolveTemporal(config, reader);
  reader.throwIfProblems();
  return { temporal, defaults: config.defaults, configFile: file };
}

/** The file (if any) with the environment on top, validated against the schema. Reads no referenced files. */
export function loadConfigFile(sources: ConfigSources = {}): { config: ConfigFile; file?: string; origins: Map<string, string> } {
  const env = sources.env ?? process.env;
  const file = sources.file ?? (env.FLINKOPS_CONFIG || undefined);
  const base = file ? readConfigDocument(file) : {};
  const { merged, origins } = overlayEnvironment(base, env);
  const parsed = ConfigFileSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(describeConfigIssues(parsed.error, origins));
  return { config: parsed.data, file, origins };
}

function readConfigDocument(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ConfigError([`file ${file} does not exist (FLINKOPS_CONFIG or --config)`]);
  let document: unknown;
  try {
    // YAML 1.2 is a superset of JSON: one parser reads both.
    document = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([`${file}: not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) throw new ConfigError([`${file}: must be a mapping of sections (temporal, kubernetes, flink, ...)`]);
  return document as Record<string, unknown>;
}

/** "temporal.address (from TEMPORAL_ADDRESS): must be host:port ..." — one line per problem, unknown keys by name. */
export function describeConfigIssues(error: z.ZodError, origins: Map<string, string> = new Map()): string[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${path ? `${path}.` : ''}${key}: unknown key`);
    }
    return [`${path || '(root)'}${originOf(path, origins)}: ${issue.message}`];
  });
}

function originOf(path: string, origins: Map<string, string>): string {
  for (const [originPath, env] of origins) {
    if (originPath === path || originPath.startsWith(`${path}.`) || path.startsWith(`${originPath}.`)) return ` (from ${env})`;
  }
  return '';
}

function resolveTemporal(config: ConfigFile, reader: SourceReader): TemporalSettings {
  const { tls } = config.temporal;
  const apiKey = config.temporal.apiKey ? reader.secret('temporal.apiKey', config.temporal.apiKey, { trim: true }) : undefined;
  const tlsEnabled = tls.enabled ?? (apiKey !== undefined || tls.clientCertFile !== undefined || tls.serverCaFile !== undefined);
  return {
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    apiKey,
    tls: tlsEnabled
      ? {
          serverCaFile: tls.serverCaFile,
          serverCa: reader.text('temporal.tls.serverCaFile', tls.serverCaFile),
          clientCertFile: tls.clientCertFile,
          clientCert: reader.text('temporal.tls.clientCertFile', tls.clientCertFile),
          clientKey: reader.secretFile('temporal.tls.clientKeyFile', tls.clientKeyFile),
          serverName: tls.serverName,
        }
      : undefined,
  };
}

function webhookUrl(reader: SourceReader, source: SecretSource | undefined): Secret | undefined {
  const field = 'remediation.escalationWebhookUrl';
  const secret = source ? reader.secret(field, source, { trim: true }) : undefined;
  if (!secret) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(secret.reveal());
  } catch {
    url = undefined;
  }
  // The message must not repeat the value: it is a secret.
  if (url?.protocol === 'http:' || url?.protocol === 'https:') return secret;
  reader.problem(field, 'must be an http(s) URL');
  return undefined;
}

/** Reads the files and secrets the configuration points at, collecting every problem before failing. */
class SourceReader {
  private readonly problems: string[] = [];

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly origins: Map<string, string>,
  ) {}

  existingFile(field: string, path: string | undefined): string | undefined {
    if (path === undefined) return undefined;
    return this.check(field, path) ? path : undefined;
  }

  text(field: string, path: string | undefined): string | undefined {
    if (path === undefined || !this.check(field, path)) return undefined;
    return readFileSync(path, 'utf8');
  }

  secretFile(field: string, path: string | undefined): Secret | undefined {
    const text = this.text(field, path);
    return text === undefined ? undefined : new Secret(text, `file ${path}`);
  }

  secret(field: string, source: SecretSource, options: { trim: boolean }): Secret | undefined {
    const clean = (value: string) => (options.trim ? value.trim() : value);
    if (source.value !== undefined) return new Secret(clean(source.value), this.origins.has(`${field}.value`) ? `env ${this.origins.get(`${field}.value`)}` : 'config file');
    if (source.env !== undefined) {
      const value = this.env[source.env];
      if (!value) {
        this.problem(`${field}.env`, `environment variable ${source.env} is not set`);
        return undefined;
      }
      return new Secret(clean(value), `env ${source.env}`);
    }
    const text = this.text(`${field}.file`, source.file);
    if (text === undefined) return undefined;
    if (clean(text) === '') {
      this.problem(`${field}.file`, `file ${source.file} is empty`);
      return undefined;
    }
    return new Secret(clean(text), `file ${source.file}`);
  }

  throwIfProblems(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  private check(field: string, path: string): boolean {
    if (!existsSync(path)) return this.problem(field, `file ${path} does not exist`);
    try {
      if (!statSync(path).isFile()) return this.problem(field, `${path} is not a file`);
      readFileSync(path);
    } catch (error) {
      return this.problem(field, `file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return true;
  }

  problem(field: string, message: string): false {
    this.problems.push(`${field}${originOf(field, this.origins)}: ${message}`);
    return false;
  }
}
