import { loadYaml, type V1Container, type V1Deployment } from '@kubernetes/client-node';
import type { HighAvailabilityMode } from '../../workflows/model/cluster-health';
import { isNotFound, type KubeClients } from '../kube/clients';

const FLINK_CONF_DIR = '/opt/flink/conf';

/**
 * The Flink configuration of a cluster as Kubernetes has it, for when the REST API does not answer (a crash-looping
 * JobManager): the ConfigMap mounted at /opt/flink/conf (config.yaml or flink-conf.yaml), then FLINK_PROPERTIES,
 * the order the official image's entrypoint applies them in.
 */
export async function flinkConfigFromKubernetes(kube: KubeClients, deployment: V1Deployment, container: V1Container): Promise<Record<string, string>> {
  const namespace = deployment.metadata?.namespace ?? 'default';
  const config: Record<string, string> = {};
  const mount = (container.volumeMounts ?? []).find((m) => m.mountPath.replace(/\/+$/, '') === FLINK_CONF_DIR);
  const configMapName = mount && deployment.spec?.template.spec?.volumes?.find((v) => v.name === mount.name)?.configMap?.name;
  if (configMapName) {
    const data = await readConfigMapData(kube, namespace, configMapName);
    const text = data?.['config.yaml'] ?? data?.['flink-conf.yaml'];
    if (text) Object.assign(config, parseFlinkConfig(text));
  }
  const properties = container.env?.find((e) => e.name === 'FLINK_PROPERTIES');
  let propertiesText = properties?.value;
  const ref = properties?.valueFrom?.configMapKeyRef;
  if (propertiesText === undefined && ref?.name) propertiesText = (await readConfigMapData(kube, namespace, ref.name))?.[ref.key];
  if (propertiesText) Object.assign(config, parseFlinkConfig(propertiesText));
  return config;
}

async function readConfigMapData(kube: KubeClients, namespace: string, name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await kube.core.readNamespacedConfigMap({ name, namespace })).data;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Flat `key: value` lines (flink-conf.yaml, FLINK_PROPERTIES) and nested YAML (Flink 1.19+ config.yaml) alike, as
 * dotted keys with string values.
 */
export function parseFlinkConfig(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = loadYaml<unknown>(text);
  } catch {
    return parseFlatLines(text);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return parseFlatLines(text);
  const flat: Record<string, string> = {};
  const visit = (value: unknown, prefix: string) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) visit(child, prefix ? `${prefix}.${key}` : key);
    } else if (value !== null && value !== undefined) {
      flat[prefix] = Array.isArray(value) ? value.map(scalarText).join(';') : scalarText(value);
    }
  };
  visit(parsed, '');
  return flat;
}

function scalarText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function parseFlatLines(text: string): Record<string, string> {
  const options: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const colon = line.indexOf(':');
    if (!line || line.startsWith('#') || colon <= 0) continue;
    options[line.slice(0, colon).trim()] = line.slice(colon + 1).trim().replace(/^(["'])(.*)\1$/, '$2');
  }
  return options;
}

/** high-availability.type (Flink 1.17+) or high-availability: `kubernetes`, `zookeeper`, a factory class, or none. */
export function highAvailabilityOf(config: Record<string, string>): { mode: HighAvailabilityMode; configured?: string } {
  const configured = config['high-availability.type'] ?? config['high-availability'];
  const value = configured?.trim().toLowerCase();
  if (!value || value === 'none') return { mode: 'none', configured };
  if (value.includes('kubernetes')) return { mode: 'kubernetes', configured };
  if (value.includes('zookeeper')) return { mode: 'zookeeper', configured };
  return { mode: 'other', configured };
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1,
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** Flink's duration syntax ("6 s", "15s", "1 min", "500"; milliseconds without a unit). */
export function parseFlinkDuration(text: string | undefined): number | undefined {
  const match = text ? /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text) : null;
  if (!match) return undefined;
  const unit = DURATION_UNITS[(match[2] || 'ms').toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}
