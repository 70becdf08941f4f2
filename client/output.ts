import { Option, type Command } from 'commander';
import { stringify } from 'yaml';

/**
 * Output of every command that prints: human text (tables with headers, ages such as "5m ago"), `-o wide` (more
 * columns), or machine output (`-o json`, `-o yaml`; `--json` is kept as an alias) in which every timestamp is one
 * format: an RFC 3339 UTC string (2026-12-02T02:00:00.000Z), whether the data held a Date or epoch milliseconds.
 */
export type OutputFormat = 'human' | 'wide' | 'json' | 'yaml';

export const OUTPUT_FORMATS = ['json', 'yaml', 'wide'] as const;

let current: OutputFormat = 'human';
/** Documents formatData produced (printed as they are) and whether one was printed. */
const documents = new Set<string>();
let printedData = false;
const messages: string[] = [];

export function withOutputOptions(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'output format: json, yaml (machine-readable, RFC 3339 UTC timestamps) or wide (more columns)').choices([...OUTPUT_FORMATS]))
    .addOption(new Option('--json', 'same as -o json'));
}

/** Called before a command runs, with its options. */
export function selectOutput(options: { output?: string; json?: boolean }): void {
  current = options.json ? 'json' : ((options.output as OutputFormat | undefined) ?? 'human');
  documents.clear();
  printedData = false;
  messages.length = 0;
}

export function outputFormat(): OutputFormat {
  return current;
}

export function isMachineOutput(): boolean {
  return current === 'json' || current === 'yaml';
}

/** Data in the selected machine format. */
export function formatData(data: unknown): string {
  const normalized = normalizeTimestamps(data);
  const document = current === 'yaml' ? stringify(normalized).trimEnd() : JSON.stringify(normalized, null, 2);
  documents.add(document);
  return document;
}

/**
 * Where a command's lines go: as they are for humans; in machine output, lines that are not data are collected and
 * printed at the end as {"message": ...}, so even a command that only reports what it did prints a document.
 */
export function printer(write: (line: string) => void): (line: string) => void {
  return (line) => {
    if (!isMachineOutput()) write(line);
    else if (documents.has(line)) {
      printedData = true;
      write(line);
    } else messages.push(line);
  };
}

/** Printed once the command is done: the collected lines of a machine-output command that printed no data. */
export function flushMessages(write: (line: string) => void): void {
  if (isMachineOutput() && !printedData && messages.length > 0) write(formatData({ message: messages.join('\n') }));
  messages.length = 0;
}

const TIMESTAMP_KEY = /(At|Time|Since|Times|time|At_)$|^(at|since|scheduledAt|startTime|closeTime)$/;
// Epoch milliseconds between 2001 and 2100: anything else keyed like a timestamp is left alone (durations are not).
const EPOCH_MS = { min: 978_307_200_000, max: 4_102_444_800_000 };

export function normalizeTimestamps(value: unknown, key = ''): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' && TIMESTAMP_KEY.test(key) && value >= EPOCH_MS.min && value <= EPOCH_MS.max) return new Date(value).toISOString();
  if (typeof value === 'string' && TIMESTAMP_KEY.test(key) && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const parsed = Date.parse(value);
    return Number.isFinite(parsed) ? new Date(parsed).toISOString() : value;
  }
  if (Array.isArray(value)) return value.map((v) => normalizeTimestamps(v, key));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeTimestamps(v, k)]));
  return value;
}

/** "5m ago", "in 2h", "3d ago": how long ago (or ahead) a time is, for human output. */
export function ago(time: Date | number | string | undefined, now = Date.now()): string {
  if (time === undefined) return '-';
  const ms = now - new Date(time).getTime();
  if (!Number.isFinite(ms)) return '-';
  const abs = Math.abs(ms);
  const text = abs < 60_000 ? `${Math.floor(abs / 1000)}s` : abs < 3_600_000 ? `${Math.floor(abs / 60_000)}m` : abs < 86_400_000 ? `${Math.floor(abs / 3_600_000)}h` : `${Math.floor(abs / 86_400_000)}d`;
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

/** A table with a header row, columns as wide as their widest cell. */
export function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)];
}
