import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { JobSnapshot, TargetSnapshot } from '../workflows/model/snapshot';
import type { SavepointRequestInput } from '../workflows/savepoint/request';
import type { UpgradeRequestInput } from '../workflows/upgrade/request';
import { breakdown, fetchEvents, type HistoryBreakdown } from './history';
import { jobId } from './sim/server';
import { printTable, startSimulatedWorker, startTemporal } from './sim/environment';
import { median } from './stats';

const USAGE = `Temporal history events per savepoint run and per upgrade.

  node dist/bench/history-events.js [--runs 10] [--port 17453] [--address HOST:PORT]

Savepoint runs: the real worker and activities against a loopback simulation of Flink REST and Kubernetes (the
count depends on the workflow's steps, not on how fast Flink answers); every run after the third disposes of one
savepoint (--keep 3). Upgrades (session job, savepoint mode, success path): the workflow with activities stubbed to
succeed in-process, as the workflow tests do. Starts its own Temporal dev server unless --address.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '10' }, port: { type: 'string', default: '17453' }, address: { type: 'string' }, help: { type: 'boolean', default: false } },
  });
  if (values.help) return console.log(USAGE);
  const runs = Number(values.runs);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temporal = await startTemporal({ port: Number(values.port), address: values.address });
  const rows: string[][] = [];
  const details: string[] = [];
  try {
    // Savepoint runs, real activities against the simulation.
    const taskQueue = `history-${Date.now()}`;
    const worker = await startSimulatedWorker(temporal, { clusters: 1, jobsPerCluster: 1 }, taskQueue);
    const savepointRuns: HistoryBreakdown[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const workflowId = `history-savepoint-${taskQueue}-${i}`;
        const input: SavepointRequestInput = { cluster: { namespace: 'sim', name: 'sim-0' }, job: 'job-0-0', trigger: 'schedule', retention: { keepLast: 3 } };
        const handle = await temporal.client.workflow.start('savepointWorkflow', { taskQueue, workflowId, args: [input] });
        await handle.result();
        savepointRuns.push(breakdown(await fetchEvents(temporal.client, workflowId)));
      }
    } finally {
      await worker.stop();
    }
    rows.push(row('savepoint run (completed)', savepointRuns));
    details.push(describe('savepoint run', savepointRuns.at(-1)!));

    // Upgrades: stub activities, the real workflow code.
    const upgrades = await stubbedUpgrades(temporal.address, temporal.client, runs);
    rows.push(row('upgrade (session job, succeeded)', upgrades));
    details.push(describe('upgrade', upgrades.at(-1)!));
  } finally {
    await temporal.stop();
  }
  console.log(`\nTemporal history events, ${runs} run(s) each; min/median/max`);
  printTable(['workflow', 'events', 'activities', 'workflow tasks', 'markers', 'search-attribute upserts'], rows);
  console.log(`\n${details.join('\n')}`);
}

function row(name: string, histories: HistoryBreakdown[]): string[] {
  const mmm = (pick: (b: HistoryBreakdown) => number) => {
    const xs = histories.map(pick);
    return `${Math.min(...xs)}/${median(xs)}/${Math.max(...xs)}`;
  };
  return [
    name,
    mmm((b) => b.events),
    mmm((b) => Object.values(b.activities).reduce((a, n) => a + n, 0)),
    mmm((b) => b.byType.workflow_task_completed ?? 0),
    mmm((b) => b.byType.marker_recorded ?? 0),
    mmm((b) => b.byType.upsert_workflow_search_attributes ?? 0),
  ];
}

function describe(name: string, b: HistoryBreakdown): string {
  return `${name}: ${b.events} events: ${Object.entries(b.byType).map(([t, n]) => `${t} ${n}`).join(', ')}\n  activities: ${Object.entries(b.activities).map(([a, n]) => `${a}${n > 1 ? ` x${n}` : ''}`).join(', ')}`;
}

async function stubbedUpgrades(address: string, client: Client, runs: number): Promise<HistoryBreakdown[]> {
  const connection = await NativeConnection.connect({ address });
  const taskQueue = `history-upgrade-${Date.now()}`;
  const savepoint = 'file:///data/savepoints/savepoint-1';
  const activities = {
    getOperationPolicy: () => ({ allowedSavepointPrefixes: ['file:///data'] }),
    observeTarget: () => sessionTarget(),
    acquireOperationLock: () => ({ acquired: true }),
    releaseOperationLock: () => undefined,
    emitClusterEvent: () => undefined,
    prepareVersion: () => ({ jarId: 'v2.jar' }),
    discardPreparedVersion: () => undefined,
    stopJobWithSavepoint: () => ({ status: 'completed', location: savepoint }),
    recordRestorePoint: () => undefined,
    deployVersion: () => undefined,
    verifyDeployment: ({ jobId: id }: { jobId: string }) => ({ verified: true, summary: `job ${id} verified`, job: runningJob({ id }), runningSince: Date.now() }),
    retireDeployment: ({ jobId: id }: { jobId: string }) => ({ gone: true, detail: `job ${id} cancelled` }),
    recordOutcome: () => undefined,
    observeJob: ({ jobId: id }: { jobId: string }) => runningJob({ id }),
    cancelJob: () => undefined,
  };
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: { codePath: resolve(__dirname, '../workflow-bundle.js') },
    activities: Object.fromEntries(Object.entries(activities).map(([k, f]) => [k, (...args: unknown[]) => Promise.resolve((f as (...a: unknown[]) => unknown)(...args))])),
  });
  const histories: HistoryBreakdown[] = [];
  const input: UpgradeRequestInput = { cluster: { namespace: 'flink', name: 'flink-jobmanager' }, job: 'counter', to: { kind: 'jar', jar: '/jars/v2.jar' }, stabilityWindow: '1s' };
  await worker.runUntil(async () => {
    for (let i = 0; i < runs; i++) {
      const workflowId = `history-upgrade-${taskQueue}-${i}`;
      const handle = await client.workflow.start('upgradeWorkflow', { taskQueue, workflowId, args: [input] });
      await handle.result();
      histories.push(breakdown(await fetchEvents(client, workflowId)));
    }
  });
  await connection.close();
  return histories;
}

const JOB_ID = jobId(0, 0);

function runningJob(overrides: Partial<JobSnapshot> = {}): JobSnapshot {
  return {
    id: JOB_ID,
    name: 'counter',
    state: 'RUNNING',
    startTime: Date.now() - 60_000,
    tasks: { total: 2, running: 2 },
    checkpointing: { intervalMs: 2_000, timeoutMs: 60_000, retainedOnCancellation: true },
    latestCheckpoint: { id: 7, path: `file:///data/checkpoints/${JOB_ID}/chk-7`, completedAt: Date.now() - 2_000 },
    completedCheckpoints: 7,
    numRestarts: 0,
    ...overrides,
  };
}

function sessionTarget(): TargetSnapshot {
  return {
    cluster: { namespace: 'flink', name: 'flink-jobmanager' },
    observedAt: Date.now(),
    allowedSavepointPrefixes: ['file:///data'],
    kind: 'session-job',
    versionKind: 'jar',
    restUrl: 'http://127.0.0.1:8081',
    flinkVersion: '1.20.5',
    clusterConfig: { savepointDir: 'file:///data/savepoints', checkpointDir: 'file:///data/checkpoints' },
    jobManager: { deployment: 'flink-jobmanager', container: 'jobmanager', image: 'flink:1.20', args: ['jobmanager'], replicas: 1, strategy: 'RollingUpdate' },
    taskManagers: [],
    job: runningJob(),
    currentVersion: { kind: 'jar', jar: '/jars/v1.jar', args: ['--output', '/out'] },
    lockScope: { cluster: { namespace: 'flink', name: 'flink-jobmanager' }, jobKey: 'counter-1' },
    kindChecks: [],
    kindWarnings: [],
    deployStep: 'run {version} on the session cluster {restore}',
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
