import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { grpc } from '@temporalio/proto';
import { FLINKOPS_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { startDaemon, stopDaemon, type DaemonDirs } from './daemon';
import { waitFor } from './wait';

export const TEMPORAL_CLI_VERSION = '1.5.1';

export interface TemporalServerSpec {
  cacheDir: string;
  dataDir: string;
  ip: string;
  port: number;
  uiPort: number;
}

export const TEMPORAL_DAEMON = 'temporal';

/** The Temporal CLI built by scripts/setup.sh from the Go module proxy. */
export function temporalCliPath(cacheDir: string): string {
  const path = join(cacheDir, 'bin', `temporal-${TEMPORAL_CLI_VERSION}`);
  if (!existsSync(path)) throw new Error(`Temporal CLI not found at ${path}; run scripts/setup.sh first`);
  return path;
}

/** `temporal server start-dev` arguments: SQLite persistence, Web UI, flinkops' search attributes registered. */
export function devServerArgs(spec: Omit<TemporalServerSpec, 'cacheDir'>): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    spec.ip,
    '--port',
    String(spec.port),
    '--ui-port',
    String(spec.uiPort),
    '--db-filename',
    join(spec.dataDir, 'temporal.sqlite'),
    ...searchAttributeArgs(),
  ];
}

export function searchAttributeArgs(): string[] {
  const typeNames: Record<string, string> = { KEYWORD: 'Keyword', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList' };
  return FLINKOPS_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${typeNames[key.type]}`]);
}

export async function startTemporalServer(dirs: DaemonDirs, spec: TemporalServerSpec): Promise<string> {
  mkdirSync(spec.dataDir, { recursive: true });
  startDaemon(dirs, { name: TEMPORAL_DAEMON, command: temporalCliPath(spec.cacheDir), args: devServerArgs(spec) });
  const address = `${spec.ip}:${spec.port}`;
  await waitUntilServing(address, 60_000);
  return address;
}

export async function waitUntilServing(address: string, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        const response = await connection.healthService.check({});
        return response.status === grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
      } finally {
        await connection.close();
      }
    },
    { timeoutMs, intervalMs: 500, description: `Temporal server at ${address}` },
  );
}

export async function stopTemporalServer(dirs: DaemonDirs): Promise<void> {
  await stopDaemon(dirs, TEMPORAL_DAEMON);
}
