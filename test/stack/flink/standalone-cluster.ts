import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FlinkRestClient } from '../../../activities/flink/rest-client';
import { killDaemon, logFile, runningPid, startDaemon, stopDaemon, type DaemonDirs } from '../daemon';
import { waitFor } from '../wait';
import { flinkDistribution } from './distribution';
import { prepareFlinkProcess } from './process';

/**
 * A standalone Flink session cluster of real JobManager and TaskManager processes on one loopback address.
 * Savepoints and checkpoints go to `<dataDir>/savepoints` and `<dataDir>/checkpoints`.
 */
export interface StandaloneClusterSpec {
  name: string;
  cacheDir: string;
  /** Where the cluster's processes keep conf, tmp and blob directories. */
  workDir: string;
  dataDir: string;
  flinkVersion?: string;
  address: string;
  restPort: number;
  taskManagers: number;
  slotsPerTaskManager: number;
  /** Extra Flink options for every process of the cluster. */
  config?: Record<string, string>;
}

export interface StandaloneCluster {
  spec: StandaloneClusterSpec;
  restUrl: string;
  savepointDir: string;
  checkpointDir: string;
}

export function clusterRestUrl(spec: Pick<StandaloneClusterSpec, 'address' | 'restPort'>): string {
  return `http://${spec.address}:${spec.restPort}`;
}

export function jobManagerDaemon(name: string): string {
  return `flink-${name}-jobmanager`;
}

function taskManagerDaemon(name: string, index: number): string {
  return `flink-${name}-taskmanager-${index}`;
}

function clusterConfig(spec: StandaloneClusterSpec): Record<string, string> {
  return {
    'jobmanager.rpc.address': spec.address,
    'rest.port': String(spec.restPort),
    'jobmanager.memory.process.size': '1024m',
    'taskmanager.memory.process.size': '1280m',
    'taskmanager.memory.managed.fraction': '0.1',
    'taskmanager.numberOfTaskSlots': String(spec.slotsPerTaskManager),
    'execution.checkpointing.dir': `file://${join(spec.dataDir, 'checkpoints')}`,
    'execution.checkpointing.savepoint-dir': `file://${join(spec.dataDir, 'savepoints')}`,
    'execution.checkpointing.externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION',
    'execution.checkpointing.num-retained': '3',
    'web.upload.dir': join(spec.workDir, 'jars'),
    ...spec.config,
  };
}

export function describeCluster(spec: StandaloneClusterSpec): StandaloneCluster {
  return {
    spec,
    restUrl: clusterRestUrl(spec),
    savepointDir: join(spec.dataDir, 'savepoints'),
    checkpointDir: join(spec.dataDir, 'checkpoints'),
  };
}

/** Starts the JobManager and TaskManagers (those not already running) and waits until all slots registered. */
export async function startStandaloneCluster(dirs: DaemonDirs, spec: StandaloneClusterSpec): Promise<StandaloneCluster> {
  const dist = flinkDistribution(spec.cacheDir, spec.flinkVersion);
  const config = clusterConfig(spec);
  mkdirSync(join(spec.dataDir, 'savepoints'), { recursive: true });
  mkdirSync(join(spec.dataDir, 'checkpoints'), { recursive: true });
  mkdirSync(join(spec.workDir, 'jars'), { recursive: true });

  const processes = [
    { daemon: jobManagerDaemon(spec.name), role: { kind: 'session-jobmanager' as const } },
    ...Array.from({ length: spec.taskManagers }, (_, i) => ({ daemon: taskManagerDaemon(spec.name, i), role: { kind: 'taskmanager' as const } })),
  ];
  for (const { daemon, role } of processes) {
    if (runningPid(dirs, daemon) !== undefined) continue;
    const command = await prepareFlinkProcess({
      dist,
      role,
      address: spec.address,
      workDir: join(spec.workDir, daemon),
      config,
      logFile: logFile(dirs, daemon),
    });
    startDaemon(dirs, { name: daemon, ...command });
  }
  const cluster = describeCluster(spec);
  await waitForSlots(cluster, spec.taskManagers * spec.slotsPerTaskManager, 120_000);
  return cluster;
}

export async function waitForSlots(cluster: StandaloneCluster, slots: number, timeoutMs: number): Promise<void> {
  const client = new FlinkRestClient({ baseUrl: cluster.restUrl, timeoutMs: 2_000 });
  await waitFor(async () => (await client.overview())['slots-total'] >= slots, {
    timeoutMs,
    description: `${slots} task slots registered at ${cluster.restUrl}`,
  });
}

export async function stopStandaloneCluster(dirs: DaemonDirs, spec: Pick<StandaloneClusterSpec, 'name' | 'taskManagers'>): Promise<void> {
  const daemons = [jobManagerDaemon(spec.name), ...Array.from({ length: spec.taskManagers }, (_, i) => taskManagerDaemon(spec.name, i))];
  await Promise.all(daemons.map((d) => stopDaemon(dirs, d, 15_000)));
}

/** Crashes the JobManager process (SIGKILL), for failure tests. */
export function killJobManager(dirs: DaemonDirs, name: string): boolean {
  return killDaemon(dirs, jobManagerDaemon(name));
}

export function removeClusterData(spec: Pick<StandaloneClusterSpec, 'workDir' | 'dataDir'>): void {
  rmSync(spec.workDir, { recursive: true, force: true });
  rmSync(spec.dataDir, { recursive: true, force: true });
}
