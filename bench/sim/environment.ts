import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultCacheDir } from '../../test/stack/config';
import { searchAttributeArgs, temporalCliPath, waitUntilServing } from '../../test/stack/temporal';
import { simulatedKubeconfig, startSimulation, type Simulation, type SimulationSpec } from './server';

/** A Temporal dev server of the benchmark's own (in memory, loopback, no UI), or an existing one at `address`. */
export async function startTemporal(options: { port: number; address?: string }): Promise<{ address: string; client: Client; pid?: number; stop(): Promise<void> }> {
  let server: ChildProcess | undefined;
  let address = options.address;
  if (!address) {
    server = spawn(temporalCliPath(defaultCacheDir()), ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--headless', '--log-level', 'error', ...searchAttributeArgs()], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    process.once('exit', () => server?.kill('SIGTERM'));
    // Stopped from outside (a timeout, Ctrl-C): the 'exit' handlers stop the server and the worker too.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(128 + (signal === 'SIGTERM' ? 15 : 2)));
    address = `127.0.0.1:${options.port}`;
  }
  await waitUntilServing(address, 60_000);
  const connection = await Connection.connect({ address });
  return {
    address,
    client: new Client({ connection }),
    pid: server?.pid,
    async stop() {
      await connection.close();
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((r) => server.once('exit', r));
      }
    },
  };
}

/** The simulation and a real flinkops worker (dist/worker/main.js, its own process) polling `taskQueue`, talking to it. */
export async function startSimulatedWorker(temporal: { address: string; client: Client }, spec: SimulationSpec, taskQueue: string, extraEnv: Record<string, string> = {}): Promise<{ sim: Simulation; pid: number; stop(): Promise<void> }> {
  const sim = await startSimulation(spec);
  const dir = mkdtempSync(join(tmpdir(), 'flinkops-sim-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, simulatedKubeconfig(sim.kubeUrl));
  const worker = spawn(process.execPath, [resolve(__dirname, '../../worker/main.js')], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.address,
      FLINKOPS_TASK_QUEUE: taskQueue,
      KUBECONFIG: kubeconfig,
      FLINKOPS_SERVICE_ADDRESSING: 'cluster-ip',
      FLINKOPS_LOG_LEVEL: 'warn',
      FLINKOPS_METRICS_BIND_ADDRESS: 'off',
      FLINKOPS_HEALTH_BIND_ADDRESS: 'off',
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const kill = () => worker.exitCode === null && worker.kill('SIGTERM');
  process.once('exit', kill);
  await waitForPoller(temporal.client, taskQueue);
  return {
    sim,
    pid: worker.pid!,
    async stop() {
      if (worker.exitCode === null) {
        kill();
        await new Promise((r) => worker.once('exit', r));
      }
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Until a worker polls the task queue: its start-up (loading the workflow bundle) is not measured. */
async function waitForPoller(client: Client, taskQueue: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    const answer = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
    if ((answer.pollers ?? []).length > 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no worker polls ${taskQueue} after 120 s`);
}

/** A process's peak resident memory (VmHWM), MiB. */
export function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Math.round(Number(/\d+/.exec(line ?? '')?.[0] ?? 0) / 1024);
}

export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log(head.map((h, i) => h.padStart(widths[i]!)).join('  '));
  for (const row of rows) console.log(row.map((c, i) => c.padStart(widths[i]!)).join('  '));
}
