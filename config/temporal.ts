import type { TLSConfig } from '@temporalio/client';
import { loadCliSettings } from './load';
import type { Secret } from './secret';

/** How the worker and the CLI reach Temporal (config file section `temporal`, or TEMPORAL_* variables). */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Temporal Cloud API key. */
  apiKey?: Secret;
  /** Undefined: plaintext. */
  tls?: TemporalTlsSettings;
}

export interface TemporalTlsSettings {
  serverCaFile?: string;
  serverCa?: string;
  clientCertFile?: string;
  clientCert?: string;
  clientKey?: Secret;
  serverName?: string;
}

/** The `tls` and `apiKey` options of Connection.connect (CLI) and NativeConnection.connect (worker). */
export function temporalConnectionOptions(settings: TemporalSettings): { address: string; tls: TLSConfig | false; apiKey?: string } {
  const tls = settings.tls;
  return {
    address: settings.address,
    // Explicitly false without TLS: the SDK would otherwise turn TLS on by itself when an API key is set.
    tls: tls
      ? {
          serverNameOverride: tls.serverName,
          serverRootCACertificate: tls.serverCa ? Buffer.from(tls.serverCa) : undefined,
          clientCertPair: tls.clientCert && tls.clientKey ? { crt: Buffer.from(tls.clientCert), key: Buffer.from(tls.clientKey.reveal()) } : undefined,
        }
      : false,
    apiKey: settings.apiKey?.reveal(),
  };
}

/** The Temporal settings as the start-up log shows them: files by path, secrets by source only. */
export function describeTemporal(settings: TemporalSettings): Record<string, unknown> {
  return {
    address: settings.address,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    apiKey: settings.apiKey ? `[redacted] from ${settings.apiKey.source}` : undefined,
    tls: settings.tls
      ? { serverCaFile: settings.tls.serverCaFile, clientCertFile: settings.tls.clientCertFile, clientKey: settings.tls.clientKey ? `[redacted] from ${settings.tls.clientKey.source}` : undefined, serverName: settings.tls.serverName }
      : false,
  };
}

/** The Temporal settings from the environment (and FLINKOPS_CONFIG, if set), as the CLI reads them. */
export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  return loadCliSettings({ env }).temporal;
}
