import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot, type StackConfig } from './config';
import { isAlive, runningPid, startDaemon, stopDaemon } from './daemon';
import { startStandaloneCluster, type StandaloneClusterSpec } from './flink/standalone-cluster';
import { startControlPlane } from './kube/control-plane';
import { startLocalNode } from './kube/local-node';
import { startTemporalServer } from './temporal';
import { startZooKeeper, type ZooKeeperSpec, type ZooKeeperState } from './zookeeper';

/** What a running stack offers, written to `<stackDir>/stack.json` for tests, the demo and people. */
export interface StackState {
  profile: string;
  temporal: { address: string; namespace: string; webUi: string };
  flink: { restUrl: string; version: string; savepointDir: string; checkpointDir: string };
  kube: { server: string; kubeconfig: string; auditLog: string; podsDir: string; podNetwork: { podPrefix: string; loopbackPrefix: string } };
  zookeeper: ZooKeeperState;
  logDir: string;
  stackDir: string;
}

export const SESSION_CLUSTER_NAME = 'session';

export function sessionClusterSpec(config: StackConfig): StandaloneClusterSpec {
  return {
    name: SESSION_CLUSTER_NAME,
    cacheDir: config.cacheDir,
    workDir: join(config.stackDir, 'flink', SESSION_CLUSTER_NAME),
    dataDir: join(config.stackDir, 'data', 'flink'),
    flinkVersion: config.flink.version,
    address: config.flink.address,
    restPort: config.flink.restPort,
    taskManagers: config.flink.taskManagers,
    slotsPerTaskManager: config.flink.slotsPerTaskManager,
  };
}

export function zooKeeperSpec(config: StackConfig): ZooKeeperSpec {
  return { cacheDir: config.cacheDir, dir: join(config.stackDir, 'zookeeper'), logDir: config.logDir, address: config.zookeeper.address, port: config.zookeeper.port };
}

function stateFile(config: StackConfig): string {
  return join(config.stackDir, 'stack.json');
}

/** Brings every component up; components already running are left alone, so `up` is idempotent. */
export async function stackUp(config: StackConfig): Promise<StackState> {
  mkdirSync(config.stackDir, { recursive: true });
  const dirs = { runDir: config.runDir, logDir: config.logDir };
  const [temporalAddress, cluster, kube, zookeeper] = await Promise.all([
    startTemporalServer(dirs, {
      cacheDir: config.cacheDir,
      dataDir: join(config.stackDir, 'data', 'temporal'),
      ip: config.temporal.ip,
      port: config.temporal.port,
      uiPort: config.temporal.uiPort,
    }),
    startStandaloneCluster(dirs, sessionClusterSpec(config)),
    startKubernetes(config),
    startZooKeeper(dirs, zooKeeperSpec(config)),
  ]);
  const state: StackState = {
    profile: config.profile,
    temporal: { address: temporalAddress, namespace: config.temporal.namespace, webUi: `http://${config.temporal.ip}:${config.temporal.uiPort}` },
    flink: { restUrl: cluster.restUrl, version: config.flink.version, savepointDir: cluster.savepointDir, checkpointDir: cluster.checkpointDir },
    kube,
    zookeeper,
    logDir: config.logDir,
    stackDir: config.stackDir,
  };
  writeFileSync(stateFile(config), JSON.stringify(state, null, 2) + '\n');
  return state;
}

/** The control plane, then the local node that runs its pods. */
async function startKubernetes(config: StackConfig): Promise<StackState['kube']> {
  const dirs = { runDir: config.runDir, logDir: config.logDir };
  const dir = join(config.stackDir, 'kube');
  const plane = await startControlPlane(dirs, {
    cacheDir: config.cacheDir,
    dir,
    etcdClientPort: config.kube.etcdClientPort,
    etcdPeerPort: config.kube.etcdPeerPort,
    podEgressSocket: join(config.runDir, 'pod-egress.sock'),
    apiServerPort: config.kube.apiServerPort,
    serviceCidr: config.kube.serviceCidr,
  });
  const podsDir = join(config.stackDir, 'pods');
  await startLocalNode(dirs, {
    repoRoot: config.repoRoot,
    configFile: join(dir, 'local-node.json'),
    config: {
      kubeconfig: plane.kubeconfigs.localNode,
      nodeName: config.kube.nodeName,
      cacheDir: config.cacheDir,
      podsDir,
      apiServer: plane.server,
      caFile: plane.pki.caCert,
      network: config.kube.podNetwork,
      backoffBaseMs: config.kube.backoffBaseMs,
      podEgressSocket: join(config.runDir, 'pod-egress.sock'),
    },
    adminKubeconfig: plane.kubeconfigs.admin,
  });
  return { server: plane.server, kubeconfig: plane.kubeconfigs.admin, auditLog: plane.auditLog, podsDir, podNetwork: config.kube.podNetwork };
}

export function readStackState(config: StackConfig): StackState {
  const file = stateFile(config);
  if (!existsSync(file)) throw new Error(`no stack is up under ${config.stackDir}; run scripts/stack.sh up`);
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}

/** Names of the daemons with a pid file in this stack, running or not. */
export function stackDaemons(config: StackConfig): string[] {
  if (!existsSync(config.runDir)) return [];
  return readdirSync(config.runDir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => f.slice(0, -'.pid'.length))
    .sort();
}

export function stackStatus(config: StackConfig): { name: string; pid: number | undefined }[] {
  const dirs = { runDir: config.runDir, logDir: config.logDir };
  return stackDaemons(config).map((name) => ({ name, pid: runningPid(dirs, name) }));
}

/** Stops every daemon of the stack (idempotent). With `purge`, also deletes its data and logs. */
export async function stackDown(config: StackConfig, options: { purge?: boolean; except?: string[] } = {}): Promise<void> {
  const dirs = { runDir: config.runDir, logDir: config.logDir };
  const daemons = stackDaemons(config).filter((name) => !(options.except ?? []).includes(name));
  await Promise.all(daemons.map((name) => stopDaemon(dirs, name, 15_000)));
  rmSync(stateFile(config), { force: true });
  if (options.purge) rmSync(config.stackDir, { recursive: true, force: true });
}

export const REAPER_DAEMON = 'reaper';

/**
 * Starts a small daemon that takes the stack down as soon as `ownerPid` exits: a test run that crashes or is
 * interrupted leaves no processes behind.
 */
export function startReaper(config: StackConfig, ownerPid: number): void {
  if (!Number.isInteger(ownerPid) || !isAlive(ownerPid)) throw new Error(`owner pid ${ownerPid} is not a running process`);
  const cli = join(config.repoRoot, 'dist', 'test', 'stack', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing; run npm run build first`);
  startDaemon(
    { runDir: config.runDir, logDir: config.logDir },
    { name: REAPER_DAEMON, command: process.execPath, args: [cli, 'reap', '--profile', config.profile, '--owner-pid', String(ownerPid)] },
  );
}

/**
 * What the stack's workers may touch: the fixture jars, the stack's own directories, and --rest-url overrides on
 * loopback (test proxies). A real worker's configuration names its own.
 */
export function testWorkerPolicy(stackDir: string): Record<string, string> {
  return {
    FLINKOPS_ALLOWED_JAR_DIRS: [join(findRepoRoot(), 'test', 'fixtures', 'flink-job', 'target'), stackDir].join(','),
    FLINKOPS_ALLOWED_JAR_URIS: `file://${join(findRepoRoot(), 'test', 'fixtures', 'flink-job', 'target')}`,
    // Pod addresses are reachable only through the API server's egress (the local node's CONNECT proxy).
    FLINKOPS_POD_ADDRESSING: 'api-server-proxy',
    FLINKOPS_REST_URL_ALLOWED: 'http://127.0.0.1:*,http://127.0.10.1:*,http://127.0.20.1:*,http://127.0.30.1:*,http://127.0.0.2:*',
  };
}

/** Environment variables that point the flinkops CLI and worker at this stack. */
export function stackEnvironment(state: StackState): Record<string, string> {
  return {
    ...testWorkerPolicy(state.stackDir),
    TEMPORAL_ADDRESS: state.temporal.address,
    TEMPORAL_NAMESPACE: state.temporal.namespace,
    FLINKOPS_TASK_QUEUE: 'flinkops',
    KUBECONFIG: state.kube.kubeconfig,
    // The local node serves ClusterIPs on loopback; there is no cluster DNS outside the pods.
    FLINKOPS_SERVICE_ADDRESSING: 'cluster-ip',
    FLINKOPS_ALLOWED_SAVEPOINT_PREFIXES: `file://${state.stackDir}`,
    FLINKOPS_WEB_UI: state.temporal.webUi,
  };
}

export const WORKER_DAEMON = 'worker';

/** Metrics and health ports of the stack's worker, apart per profile like every other port (demo: 9464 and 9465). */
export function workerEndpoints(config: StackConfig): Record<string, string> {
  const metricsPort = config.temporal.port - 7233 + 9464;
  return { FLINKOPS_METRICS_BIND_ADDRESS: `127.0.0.1:${metricsPort}`, FLINKOPS_HEALTH_BIND_ADDRESS: `127.0.0.1:${metricsPort + 1}` };
}

/** Runs the built worker as a daemon of the stack, so `stack down` stops it with the rest. */
export function startWorkerDaemon(config: StackConfig): number {
  const main = join(config.repoRoot, 'dist', 'worker', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing; run npm run build first`);
  return startDaemon(
    { runDir: config.runDir, logDir: config.logDir },
    { name: WORKER_DAEMON, command: process.execPath, args: [main], env: { ...process.env, ...stackEnvironment(readStackState(config)), ...workerEndpoints(config) } },
  );
}
