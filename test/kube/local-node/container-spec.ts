import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseFlatFlinkConfig } from '../../stack/flink/config-file';
import type { FlinkRole } from '../../stack/flink/process';
import { resolveImage } from './images';

/** What the node reads from the API to run a container: ConfigMaps and Secrets of the pod's namespace. */
export interface ResourceReader {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/** A container translated into a Flink process, or the reason it cannot run (shown as the waiting reason). */
export type ContainerPlan =
  | { ok: true; flinkVersion: string; role: FlinkRole; config: Record<string, string>; userJars: string[]; env: Record<string, string> }
  | { ok: false; reason: 'ErrImagePull' | 'CreateContainerConfigError' | 'RunContainerError'; message: string };

/** Defaults of the official Flink image's configuration, with smaller memory for a shared test machine. */
const IMAGE_DEFAULT_CONFIG: Record<string, string> = {
  'jobmanager.rpc.address': 'localhost',
  'jobmanager.rpc.port': '6123',
  'blob.server.port': '6124',
  'taskmanager.rpc.port': '6122',
  'rest.port': '8081',
  'jobmanager.memory.process.size': '1024m',
  'taskmanager.memory.process.size': '1280m',
  'taskmanager.memory.managed.fraction': '0.1',
  'taskmanager.numberOfTaskSlots': '1',
};

const FLINK_CONF_DIR = '/opt/flink/conf';

/**
 * Emulates the official image's docker-entrypoint.sh: `jobmanager [host]`, `taskmanager`, or
 * `standalone-job [--job-classname C] [--job-id ID] [--fromSavepoint P] [--allowNonRestoredState] [job args]`;
 * configuration from a ConfigMap mounted at /opt/flink/conf, then FLINK_PROPERTIES, then JOB_MANAGER_RPC_ADDRESS.
 */
export async function planContainer(pod: V1Pod, container: V1Container, podAddress: string, reader: ResourceReader): Promise<ContainerPlan> {
  const image = resolveImage(container.image ?? '');
  if ('error' in image) return { ok: false, reason: 'ErrImagePull', message: image.error };

  let env: Record<string, string>;
  try {
    env = await resolveEnvironment(pod, container, podAddress, reader);
  } catch (error) {
    return { ok: false, reason: 'CreateContainerConfigError', message: (error as Error).message };
  }
  const command = (container.command ?? []).map((c) => expandVariables(c, env));
  const args = (container.args ?? []).map((a) => expandVariables(a, env));
  if (command.length > 0 && !command[command.length - 1]!.endsWith('docker-entrypoint.sh')) {
    return { ok: false, reason: 'RunContainerError', message: `only the image entrypoint is supported, got command ${JSON.stringify(command)}` };
  }

  const config: Record<string, string> = { ...IMAGE_DEFAULT_CONFIG };
  try {
    Object.assign(config, await mountedFlinkConfig(pod, container, reader, image.flinkVersion));
  } catch (error) {
    return { ok: false, reason: 'CreateContainerConfigError', message: (error as Error).message };
  }
  if (env.FLINK_PROPERTIES) Object.assign(config, parseFlatFlinkConfig(env.FLINK_PROPERTIES));
  if (env.JOB_MANAGER_RPC_ADDRESS) config['jobmanager.rpc.address'] = env.JOB_MANAGER_RPC_ADDRESS;

  const [mode, ...rest] = args;
  let role: FlinkRole;
  switch (mode) {
    case 'jobmanager':
      role = { kind: 'session-jobmanager' };
      if (rest[0]) config['jobmanager.rpc.address'] = rest[0];
      break;
    case 'taskmanager':
      role = { kind: 'taskmanager' };
      break;
    case 'standalone-job': {
      const parsed = parseStandaloneJobArgs(rest);
      const jobClassName = parsed.jobClassName ?? image.defaultJobClass;
      if (!jobClassName) return { ok: false, reason: 'RunContainerError', message: 'standalone-job needs --job-classname for this image' };
      role = { kind: 'application-jobmanager', ...parsed, jobClassName };
      break;
    }
    default:
      return { ok: false, reason: 'RunContainerError', message: `unsupported container arguments ${JSON.stringify(args)} (expected jobmanager, taskmanager or standalone-job)` };
  }
  return { ok: true, flinkVersion: image.flinkVersion, role, config, userJars: image.userJars, env };
}

export function parseStandaloneJobArgs(args: string[]): Omit<Extract<FlinkRole, { kind: 'application-jobmanager' }>, 'kind' | 'jobClassName'> & { jobClassName?: string } {
  const result: ReturnType<typeof parseStandaloneJobArgs> = { jobArgs: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? args[++i] ?? '';
    if (flag === '--job-classname' || flag === '-j') result.jobClassName = value();
    else if (flag === '--job-id' || flag === '-jid') result.jobId = value();
    else if (flag === '--fromSavepoint' || flag === '-s') result.fromSavepoint = value();
    else if (flag === '--allowNonRestoredState' || flag === '-n') result.allowNonRestoredState = true;
    else {
      result.jobArgs = args.slice(i);
      break;
    }
  }
  return result;
}

/** Kubernetes' $(VAR) expansion in command and args: known variables are replaced, $$ escapes. */
export function expandVariables(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    return name !== undefined && env[name] !== undefined ? env[name] : whole;
  });
}

async function resolveEnvironment(pod: V1Pod, container: V1Container, podAddress: string, reader: ResourceReader): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef?.name) {
      const data = await reader.configMap(namespace, source.configMapRef.name);
      if (!data && !source.configMapRef.optional) throw new Error(`configmap "${source.configMapRef.name}" not found`);
      for (const [k, v] of Object.entries(data ?? {})) env[prefix + k] = v;
    }
    if (source.secretRef?.name) {
      const data = await reader.secret(namespace, source.secretRef.name);
      if (!data && !source.secretRef.optional) throw new Error(`secret "${source.secretRef.name}" not found`);
      for (const [k, v] of Object.entries(data ?? {})) env[prefix + k] = v;
    }
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = expandVariables(variable.value, env);
      continue;
    }
    const from = variable.valueFrom;
    if (from?.fieldRef) {
      env[variable.name] = fieldValue(pod, from.fieldRef.fieldPath, podAddress);
    } else if (from?.configMapKeyRef) {
      const data = await reader.configMap(namespace, from.configMapKeyRef.name ?? '');
      const value = data?.[from.configMapKeyRef.key];
      if (value === undefined && !from.configMapKeyRef.optional) throw new Error(`key "${from.configMapKeyRef.key}" of configmap "${from.configMapKeyRef.name}" not found`);
      if (value !== undefined) env[variable.name] = value;
    } else if (from?.secretKeyRef) {
      const data = await reader.secret(namespace, from.secretKeyRef.name ?? '');
      const value = data?.[from.secretKeyRef.key];
      if (value === undefined && !from.secretKeyRef.optional) throw new Error(`key "${from.secretKeyRef.key}" of secret "${from.secretKeyRef.name}" not found`);
      if (value !== undefined) env[variable.name] = value;
    }
  }
  return env;
}

/** Downward API fields. status.podIP is the pod's own (loopback) address, the one its processes can bind. */
function fieldValue(pod: V1Pod, fieldPath: string, podAddress: string): string {
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.hostIP':
      return podAddress;
    default:
      throw new Error(`unsupported fieldRef ${fieldPath}`);
  }
}

/**
 * Flink configuration from a ConfigMap volume mounted at /opt/flink/conf: config.yaml, or on Flink 1.x the legacy
 * flink-conf.yaml. Flink 2.x reads config.yaml only, and will not start without it.
 */
async function mountedFlinkConfig(pod: V1Pod, container: V1Container, reader: ResourceReader, flinkVersion: string): Promise<Record<string, string>> {
  const mount = (container.volumeMounts ?? []).find((m) => m.mountPath.replace(/\/+$/, '') === FLINK_CONF_DIR);
  if (!mount) return {};
  const volume = (pod.spec?.volumes ?? []).find((v) => v.name === mount.name);
  const configMapName = volume?.configMap?.name;
  if (!configMapName) throw new Error(`volume "${mount.name}" mounted at ${FLINK_CONF_DIR} must be a configMap volume`);
  const data = await reader.configMap(pod.metadata?.namespace ?? 'default', configMapName);
  if (!data) throw new Error(`configmap "${configMapName}" not found`);
  const legacyAllowed = Number(flinkVersion.split('.')[0]) < 2;
  const text = data['config.yaml'] ?? (legacyAllowed ? data['flink-conf.yaml'] : undefined);
  if (text === undefined) {
    const legacy = data['flink-conf.yaml'] !== undefined ? ` (Flink ${flinkVersion} no longer reads flink-conf.yaml)` : '';
    throw new Error(`configmap "${configMapName}" has no config.yaml${legacy}`);
  }
  return parseFlatFlinkConfig(text);
}
