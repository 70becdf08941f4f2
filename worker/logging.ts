import { DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';
import type { WorkerSettings } from '../config/worker';

const SDK_LEVELS: Record<WorkerSettings['logging']['level'], LogLevel> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

// Attributes the SDK adds that say nothing to an operator (the task token is an opaque blob).
const DROPPED = new Set(['taskToken', 'sdkComponent']);

/**
 * The worker's one logger: the SDK's own messages, workflow and activity logs (with workflowId, activityType,
 * cluster, job) and flinkops' start-up and shutdown lines, one JSON object per line on stdout. Every line goes
 * through `redact`, which blanks out the worker's secrets should one ever reach a message.
 */
export function createLogger(logging: WorkerSettings['logging'], redact: (text: string) => string, write: (line: string) => void = (l) => process.stdout.write(l)): DefaultLogger {
  const format = logging.format === 'json' ? jsonLine : textLine;
  return new DefaultLogger(SDK_LEVELS[logging.level], (entry) => write(`${redact(format(entry))}\n`));
}

export function logRecord(entry: LogEntry): Record<string, unknown> {
  const meta = entry.meta ?? {};
  const record: Record<string, unknown> = {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level.toLowerCase(),
    msg: entry.message,
  };
  if (typeof meta.sdkComponent === 'string') record.component = meta.sdkComponent;
  for (const [key, value] of Object.entries(meta)) {
    if (DROPPED.has(key) || value === undefined) continue;
    record[key] = key === 'error' || value instanceof Error ? describeError(value) : value;
  }
  return record;
}

function jsonLine(entry: LogEntry): string {
  return JSON.stringify(logRecord(entry), (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

function textLine(entry: LogEntry): string {
  const { time, level, msg, component, ...rest } = logRecord(entry);
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [time, String(level).toUpperCase().padEnd(5), typeof component === 'string' ? `[${component}]` : '', msg, ...fields].filter(Boolean).join(' ');
}

/** Errors have no enumerable fields: JSON.stringify would print {}. Duck-typed, as errors may come from another realm. */
export function describeError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const e = error as { name?: string; message?: string; type?: string; cause?: unknown; stack?: string };
  if (e.message === undefined) return error;
  return {
    name: e.name,
    message: e.message,
    ...(e.type ? { type: e.type } : {}),
    ...(e.cause ? { cause: describeError(e.cause) } : {}),
  };
}
