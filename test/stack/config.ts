import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_FLINK_VERSION } from './flink/distribution';

/**
 * Where the local stack lives and which ports it uses. Four profiles: `demo` (the README's first command,
 * the usual ports), `test` (the test suite), `bench` (benchmarks) and `scratch` (a second test run beside the first,
 * FLINKOPS_TEST_PROFILE=scratch), on different ports and addresses so they can run at once. Every value can be
 * overridden through the environment variable named next to it.
 */
export type StackProfile = 'demo' | 'test' | 'bench' | 'scratch';

export interface StackConfig {
  profile: StackProfile;
  repoRoot: string;
  /** Built tools and unpacked distributions, shared by every clone: FLINKOPS_CACHE_DIR. */
  cacheDir: string;
  /** Runtime state of this stack (data, logs, pid files): FLINKOPS_STACK_DIR. */
  stackDir: string;
  runDir: string;
  logDir: string;
  temporal: { ip: string; port: number; uiPort: number; namespace: string };
  flink: { version: string; address: string; restPort: number; taskManagers: number; slotsPerTaskManager: number };
  kube: {
    apiServerPort: number;
    etcdClientPort: number;
    etcdPeerPort: number;
    /** ClusterIPs are loopback addresses the local node's service proxy listens on. */
    serviceCidr: string;
    /** Pod addresses in the API (podPrefix.x.y) and the loopback twins their processes bind. */
    podNetwork: { podPrefix: string; loopbackPrefix: string };
    nodeName: string;
    /** First crash-loop back-off of the local node (the kubelet's is 10 s). */
    backoffBaseMs: number;
  };
  /** A one-server ZooKeeper ensemble for clusters with ZooKeeper high availability. */
  zookeeper: { address: string; port: number };
}

interface ProfileDefaults {
  temporalPort: number;
  temporalUiPort: number;
  flinkAddress: string;
  apiServerPort: number;
  etcdClientPort: number;
  serviceCidr: string;
  podPrefix: string;
  loopbackPrefix: string;
  zookeeperPort: number;
}

const PROFILE_DEFAULTS: Record<StackProfile, ProfileDefaults> = {
  demo: {
    temporalPort: 7233,
    temporalUiPort: 8233,
    flinkAddress: '127.0.0.1',
    apiServerPort: 6443,
    etcdClientPort: 2379,
    serviceCidr: '127.96.0.0/16',
    podPrefix: '10.244',
    loopbackPrefix: '127.244',
    zookeeperPort: 2181,
  },
  test: {
    temporalPort: 17233,
    temporalUiPort: 18233,
    flinkAddress: '127.0.10.1',
    apiServerPort: 16443,
    etcdClientPort: 12379,
    serviceCidr: '127.97.0.0/16',
    podPrefix: '10.245',
    loopbackPrefix: '127.245',
    zookeeperPort: 12181,
  },
  bench: {
    temporalPort: 27233,
    temporalUiPort: 28233,
    flinkAddress: '127.0.20.1',
    apiServerPort: 26443,
    etcdClientPort: 22379,
    serviceCidr: '127.98.0.0/16',
    podPrefix: '10.246',
    loopbackPrefix: '127.246',
    zookeeperPort: 22181,
  },
  scratch: {
    temporalPort: 37233,
    temporalUiPort: 38233,
    flinkAddress: '127.0.30.1',
    apiServerPort: 36443,
    etcdClientPort: 32379,
    serviceCidr: '127.99.0.0/16',
    podPrefix: '10.247',
    loopbackPrefix: '127.247',
    zookeeperPort: 32181,
  },
};

/** The profile the test suite runs on: `test`, or another one (FLINKOPS_TEST_PROFILE) to run two suites at once. */
export function testProfile(env: NodeJS.ProcessEnv = process.env): StackProfile {
  return parseProfile(env.FLINKOPS_TEST_PROFILE ?? 'test');
}

export function findRepoRoot(start: string = __dirname): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'flinkops') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the flinkops repository above ${start}`);
  }
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLINKOPS_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'flinkops');
}

export function loadStackConfig(profile?: StackProfile, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const chosen = profile ?? parseProfile(env.FLINKOPS_STACK_PROFILE ?? 'demo');
  const defaults = PROFILE_DEFAULTS[chosen];
  const repoRoot = findRepoRoot();
  const stackDir = resolve(env.FLINKOPS_STACK_DIR ?? join(repoRoot, '.stack', chosen));
  return {
    profile: chosen,
    repoRoot,
    cacheDir: defaultCacheDir(env),
    stackDir,
    runDir: join(stackDir, 'run'),
    logDir: join(stackDir, 'logs'),
    temporal: {
      ip: '127.0.0.1',
      port: intFromEnv(env, 'FLINKOPS_TEMPORAL_PORT', defaults.temporalPort),
      uiPort: intFromEnv(env, 'FLINKOPS_TEMPORAL_UI_PORT', defaults.temporalUiPort),
      namespace: 'default',
    },
    flink: {
      version: env.FLINKOPS_FLINK_VERSION ?? DEFAULT_FLINK_VERSION,
      address: env.FLINKOPS_FLINK_ADDRESS ?? defaults.flinkAddress,
      restPort: intFromEnv(env, 'FLINKOPS_FLINK_REST_PORT', 8081),
      taskManagers: intFromEnv(env, 'FLINKOPS_FLINK_TASK_MANAGERS', 1),
      slotsPerTaskManager: intFromEnv(env, 'FLINKOPS_FLINK_SLOTS', 8),
    },
    kube: {
      apiServerPort: intFromEnv(env, 'FLINKOPS_KUBE_API_PORT', defaults.apiServerPort),
      etcdClientPort: intFromEnv(env, 'FLINKOPS_ETCD_PORT', defaults.etcdClientPort),
      etcdPeerPort: intFromEnv(env, 'FLINKOPS_ETCD_PEER_PORT', defaults.etcdClientPort + 1),
      serviceCidr: env.FLINKOPS_KUBE_SERVICE_CIDR ?? defaults.serviceCidr,
      podNetwork: { podPrefix: defaults.podPrefix, loopbackPrefix: defaults.loopbackPrefix },
      nodeName: 'flinkops-local-node',
      backoffBaseMs: intFromEnv(env, 'FLINKOPS_KUBE_BACKOFF_MS', 10_000),
    },
    zookeeper: { address: '127.0.0.1', port: intFromEnv(env, 'FLINKOPS_ZOOKEEPER_PORT', defaults.zookeeperPort) },
  };
}

function parseProfile(value: string): StackProfile {
  if (value === 'demo' || value === 'test' || value === 'bench' || value === 'scratch') return value;
  throw new Error(`stack profile must be "demo", "test", "bench" or "scratch", got "${value}"`);
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}
