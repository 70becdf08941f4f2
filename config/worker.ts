import type { z } from 'zod';
import type { ConfigFile, ServiceAddressingSchema } from './schema';
import type { Secret } from './secret';
import { describeTemporal, type TemporalSettings } from './temporal';

import { loadWorkerSettings } from './load';

export { loadWorkerSettings, ConfigError } from './load';

/** The settings from the environment alone (no configuration file unless FLINKOPS_CONFIG names one). */
export function workerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  return loadWorkerSettings({ env });
}

/** The worker's settings, validated and with every referenced file and secret read (config/load.ts). */
export interface WorkerSettings {
  configFile?: string;
  temporal: TemporalSettings;
  kube: {
    /** A kubeconfig file; without one the worker uses its in-cluster service account. */
    kubeconfig?: string;
  };
  flink: FlinkSettings;
  savepoints: {
    /** Normalised savepoint location prefixes; empty: each cluster's own savepoint and checkpoint directories. */
    allowedPrefixes: string[];
  };
  jars: { allowedDirectories: string[]; maxSizeBytes: number; allowedUris: string[] };
  remediation: {
    /** Where "needs a human" escalations are POSTed; only the activity that sends them reads it. */
    escalationWebhookUrl?: Secret;
  };
  defaults: ConfigFile['defaults'];
  worker: {
    shutdownGraceTimeMs: number;
    maxConcurrentActivities?: number;
    versioning?: { deploymentName: string; buildId: string; defaultBehavior: 'AUTO_UPGRADE' | 'PINNED'; promote: boolean };
  };
  metrics: { bindAddress?: string };
  health: { bindAddress?: string };
  logging: ConfigFile['logging'];
}

export interface FlinkSettings {
  serviceAddressing: z.infer<typeof ServiceAddressingSchema>;
  podAddressing: 'pod-ip' | 'api-server-proxy';
  clusterDomain: string;
  scheme: 'http' | 'https';
  requestTimeoutMs: number;
  tls?: { caFile?: string; ca?: string; clientCertFile?: string; clientCert?: string; clientKey?: Secret; rejectUnauthorized: boolean };
  /** `--rest-url` overrides: allowed URL prefixes (none: off), and whether flink.headers go there too. */
  restUrlOverride: { allowedUrls: string[]; sendHeaders: boolean };
  /** Header name -> value, on every Flink REST request to a cluster's own endpoint. */
  headers: Record<string, Secret>;
}

/** Every secret the worker holds, for the log redactor. */
export function workerSecrets(settings: WorkerSettings): Secret[] {
  return [settings.temporal.apiKey, settings.temporal.tls?.clientKey, settings.flink.tls?.clientKey, ...Object.values(settings.flink.headers), settings.remediation.escalationWebhookUrl].filter(
    (s): s is Secret => s !== undefined,
  );
}

/** The settings for the start-up log line: file paths and secret sources, never secret values or file contents. */
export function describeWorkerSettings(settings: WorkerSettings): Record<string, unknown> {
  const { flink } = settings;
  return {
    configFile: settings.configFile,
    temporal: describeTemporal(settings.temporal),
    kubernetes: { kubeconfig: settings.kube.kubeconfig ?? 'in-cluster service account' },
    flink: {
      serviceAddressing: flink.serviceAddressing,
      podAddressing: flink.podAddressing,
      clusterDomain: flink.clusterDomain,
      scheme: flink.scheme,
      requestTimeoutMs: flink.requestTimeoutMs,
      restUrlOverride: flink.restUrlOverride,
      tls: flink.tls && { caFile: flink.tls.caFile, clientCertFile: flink.tls.clientCertFile, clientKey: flink.tls.clientKey ? `[redacted] from ${flink.tls.clientKey.source}` : undefined, rejectUnauthorized: flink.tls.rejectUnauthorized },
      headers: Object.fromEntries(Object.entries(flink.headers).map(([name, secret]) => [name, `[redacted] from ${secret.source}`])),
    },
    savepoints: settings.savepoints,
    jars: settings.jars,
    remediation: { escalationWebhook: settings.remediation.escalationWebhookUrl ? `[redacted] from ${settings.remediation.escalationWebhookUrl.source}` : 'off' },
    worker: settings.worker,
    metrics: settings.metrics.bindAddress ?? 'off',
    health: settings.health.bindAddress ?? 'off',
    logging: settings.logging,
  };
}
