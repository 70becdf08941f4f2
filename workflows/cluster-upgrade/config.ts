/**
 * The cluster's configuration carried to the new version: --set/--unset applied, and across a major version
 * (1.x -> 2.x) the legacy flink-conf.yaml turned into config.yaml, keys Flink 2 renamed moved to their new names and
 * keys it removed dropped and reported. Pure: flat `key -> value` maps in, the new map and every change with its
 * reason out. The renamed keys' new names are read by Flink 1.20 too, so the same file also serves a rollback.
 */
export type ConfigFileKey = 'flink-conf.yaml' | 'config.yaml';

export interface ConfigChange {
  key: string;
  change: 'set' | 'unset' | 'renamed' | 'removed' | 'file' | 'cluster-id';
  detail: string;
}

export interface ConfigTranslation {
  file: ConfigFileKey;
  options: Record<string, string>;
  changes: ConfigChange[];
}

/**
 * Deprecated keys whose replacement both Flink 1.20 and 2.x read, as Flink 2.0's release notes and its configuration
 * classes name them (checked against the 2.2.1 distribution).
 */
export const RENAMED_IN_FLINK_2: Readonly<Record<string, string>> = {
  'state.backend': 'state.backend.type',
  'state.checkpoints.dir': 'execution.checkpointing.dir',
  'state.savepoints.dir': 'execution.checkpointing.savepoint-dir',
  'state.checkpoint-storage': 'execution.checkpointing.storage',
  'state.backend.incremental': 'execution.checkpointing.incremental',
  'state.checkpoints.num-retained': 'execution.checkpointing.num-retained',
  'state.backend.local-recovery': 'execution.state-recovery.from-local',
  'high-availability': 'high-availability.type',
  'restart-strategy': 'restart-strategy.type',
  'env.java.opts': 'env.java.opts.all',
};

/** Keys no 2.x configuration class knows any more (absent from the 2.2.1 distribution), with what to do instead. */
export const REMOVED_IN_FLINK_2: Readonly<Record<string, string>> = {
  'jobmanager.heap.size': 'use jobmanager.memory.heap.size (or jobmanager.memory.process.size)',
  'taskmanager.heap.size': 'use taskmanager.memory.task.heap.size (or taskmanager.memory.process.size)',
  'cluster.evenly-spread-out-slots': 'use taskmanager.load-balance.mode: slots',
  'state.backend.async': 'snapshots are always asynchronous in Flink 2',
  'pipeline.auto-type-registration': 'Flink 2 registers no types by itself; register them with pipeline.serialization-config',
};

/** The major version of "1.20.5", "2.2", ...; undefined when it cannot be read. */
export function majorVersion(version: string | undefined): number | undefined {
  const major = Number(/^(\d+)\./.exec(version ?? '')?.[1]);
  return Number.isInteger(major) ? major : undefined;
}

/** The Flink version an image's tag names ("flink:2.2.1-java17" -> "2.2.1"), if it names one. */
export function flinkVersionOfImage(image: string): string | undefined {
  const tag = /:([\w][\w.-]*)(@sha256:[a-f0-9]{64})?$/.exec(image.slice(image.lastIndexOf('/') + 1))?.[1];
  return tag ? /^(\d+\.\d+(?:\.\d+)?)/.exec(tag)?.[1] : undefined;
}

export interface TranslateInput {
  file: ConfigFileKey;
  options: Record<string, string>;
  fromVersion: string;
  toVersion: string;
  set: Record<string, string>;
  unset: string[];
  /** With high availability: the cluster id the new configuration gets, so the new JobManager finds no old jobs. */
  newClusterId?: string;
}

export function translateConfig(input: TranslateInput): ConfigTranslation {
  const options = { ...input.options };
  const changes: ConfigChange[] = [];
  let file = input.file;
  const crossesToTwo = (majorVersion(input.fromVersion) ?? 0) < 2 && (majorVersion(input.toVersion) ?? 0) >= 2;
  if (crossesToTwo) {
    if (file === 'flink-conf.yaml') {
      file = 'config.yaml';
      changes.push({ key: 'flink-conf.yaml', change: 'file', detail: `Flink ${input.toVersion} reads config.yaml only: the configuration moves from flink-conf.yaml to config.yaml` });
    }
    for (const [old, renamed] of Object.entries(RENAMED_IN_FLINK_2)) {
      if (!(old in options)) continue;
      const value = options[old]!;
      delete options[old];
      if (renamed in options && options[renamed] !== value) {
        changes.push({ key: old, change: 'removed', detail: `deprecated; ${renamed} is set too (to ${options[renamed]}), which wins over ${value}` });
      } else {
        options[renamed] = value;
        changes.push({ key: old, change: 'renamed', detail: `deprecated: now ${renamed}: ${value}` });
      }
    }
    for (const [removed, instead] of Object.entries(REMOVED_IN_FLINK_2)) {
      if (!(removed in options)) continue;
      changes.push({ key: removed, change: 'removed', detail: `removed in Flink 2 (was ${options[removed]}): ${instead}` });
      delete options[removed];
    }
  }
  for (const key of input.unset) {
    if (!(key in options)) continue;
    changes.push({ key, change: 'unset', detail: `removed (was ${options[key]})` });
    delete options[key];
  }
  for (const [key, value] of Object.entries(input.set)) {
    if (options[key] === value) continue;
    changes.push({ key, change: 'set', detail: key in options ? `${options[key]} -> ${value}` : `set to ${value}` });
    options[key] = value;
  }
  if (input.newClusterId) {
    const key = clusterIdKey(options);
    if (key) {
      changes.push({
        key,
        change: 'cluster-id',
        detail: `${options[key] ?? '(default)'} -> ${input.newClusterId}: the new JobManager starts with empty high-availability storage and recovers none of the stopped jobs`,
      });
      options[key] = input.newClusterId;
    }
  }
  return { file, options, changes };
}

/** The high-availability mode of a configuration ('kubernetes', 'zookeeper'), or undefined without HA. */
export function highAvailabilityOf(options: Record<string, string>): 'kubernetes' | 'zookeeper' | undefined {
  const value = (options['high-availability.type'] ?? options['high-availability'] ?? '').toLowerCase();
  if (value === 'kubernetes' || value.includes('kuberneteshaservicesfactory')) return 'kubernetes';
  if (value === 'zookeeper') return 'zookeeper';
  return undefined;
}

/** Which key names the cluster's high-availability storage: kubernetes.cluster-id, or high-availability.cluster-id. */
function clusterIdKey(options: Record<string, string>): string | undefined {
  const ha = highAvailabilityOf(options);
  if (ha === 'kubernetes') return 'kubernetes.cluster-id';
  if (ha === 'zookeeper') return 'high-availability.cluster-id';
  return undefined;
}

/** The current cluster id (without a suffix an earlier upgrade gave it) and a new one with `suffix`. */
export function newClusterId(options: Record<string, string>, suffix: string): string | undefined {
  const key = clusterIdKey(options);
  if (!key) return undefined;
  const current = options[key] ?? (key === 'high-availability.cluster-id' ? '/default' : 'flink');
  const slash = current.startsWith('/') ? '/' : '';
  const base = current.replace(/^\//, '').replace(/-u[0-9a-f]{6}$/, '').slice(0, 36);
  return `${slash}${base}-u${suffix}`;
}

export function sameOptions(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}
