import { parse } from 'yaml';
import type { ConfigFileKey } from '../../../workflows/cluster-upgrade/config';

/**
 * A Flink configuration file as flat `key -> value` options: the legacy flink-conf.yaml (one `key: value` per line,
 * Flink 1.x), or config.yaml (standard YAML since Flink 1.19, nested or flat; nested keys are joined with dots).
 */
export function parseConfigFile(file: ConfigFileKey, text: string): Record<string, string> {
  return file === 'flink-conf.yaml' ? parseLegacy(text) : flatten(parse(text) ?? {});
}

/** config.yaml with flat keys (read by Flink 1.19+ and 2.x); values as YAML double-quoted strings. */
export function renderConfigFile(options: Record<string, string>): string {
  return `${Object.keys(options)
    .sort()
    .map((key) => `${key}: ${JSON.stringify(options[key])}`)
    .join('\n')}\n`;
}

function parseLegacy(text: string): Record<string, string> {
  const options: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const colon = line.indexOf(': ');
    if (!line || colon <= 0) continue;
    options[line.slice(0, colon).trim()] = line.slice(colon + 2).trim();
  }
  return options;
}

function flatten(value: unknown, prefix = '', into: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else if (prefix) {
    into[prefix] = Array.isArray(value) ? value.map(String).join(';') : String(value);
  }
  return into;
}
