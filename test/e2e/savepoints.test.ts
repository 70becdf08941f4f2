import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import { localPath } from '../../workflows/model/locations';
import type { JobRecord } from '../../workflows/model/record';
import type { FleetSavepointResult } from '../../workflows/savepoint/fleet';
import { fleetScheduleId } from '../../workflows/savepoint/ids';
import { fixtureArgs, randomJobId, readCounters, waitForJobState, waitForRecords } from '../stack/fixture-jobs';
import { FIXTURE_MAIN_CLASSES, fixtureJar } from '../stack/fixtures';
import { newestScheduledRunResult } from '../stack/schedules';
import { waitFor } from '../stack/wait';
import { savepointDirs } from '../stack/harness';
import { OperationHarness } from '../support/upgrade-harness';

// Scheduled and one-off savepoints on the local Kubernetes: Temporal Schedules, retention and disposal, and never
// colliding with an upgrade.
const h = new OperationHarness('savepoints');
let flink: FlinkRestClient;
let client: Client;

beforeAll(async () => {
  await h.setUp();
  flink = await h.sessionCluster('flink', 8);
  client = await h.temporalClient();
});
afterAll(() => h.tearDown());

interface SavepointJson {
  outcome: string;
  message: string;
  savepoint?: { path: string; sizeBytes?: number; durationMs?: number };
  disposed: string[];
  kept: string[];
}

async function recordConfigMap(jobName: string) {
  const configMaps = await h.kube.core.listNamespacedConfigMap({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/managed-by=flinkops' });
  return configMaps.items.find((c) => (JSON.parse(c.data!['record.json']!) as JobRecord).jobName === jobName);
}

async function record(jobName: string): Promise<JobRecord | undefined> {
  const configMap = await recordConfigMap(jobName);
  return configMap && (JSON.parse(configMap.data!['record.json']!) as JobRecord);
}

async function savepoint(jobName: string, ...extra: string[]): Promise<{ code: number; json?: SavepointJson; stderr: string }> {
  const result = await h.cli(['savepoint', `${h.namespace}/flink`, '--job', jobName, '--json', ...extra]);
  return { code: result.code, json: result.code === 0 ? (JSON.parse(result.stdout) as SavepointJson) : undefined, stderr: result.stderr };
}

test('a schedule produces savepoints on disk; one restores into a fresh job that continues the state; pause, resume, create twice, delete', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-scheduled');
  const dir = join(h.dataDir, 'scheduled');
  const create = ['schedule', 'create', `${h.namespace}/flink`, '--job', 'counter-scheduled', '--every', '8s', '--keep', '5', '--savepoint-dir', `file://${dir}`];
  const created = await h.cli(create);
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  expect(created.stdout).toMatch(/created schedule flinkops-savepoint-.*: every 8\.0s in UTC/);
  const again = await h.cli([...create.slice(0, -2), '--savepoint-dir', `file://${dir}`, '--keep', '3']);
  expect(again.stdout).toMatch(/updated schedule/);
  const listed = await h.cli(['schedule', 'list', '--json']);
  expect((JSON.parse(listed.stdout) as { scheduleId: string }[]).filter((s) => s.scheduleId.includes(h.namespace))).toHaveLength(1);

  await waitFor(() => savepointDirs(dir).length >= 2, { timeoutMs: 90_000, description: 'two scheduled savepoints on disk' });
  const described = await h.cli(['schedule', 'describe', `${h.namespace}/flink`, '--job', 'counter-scheduled']);
  expect(described.stdout).toMatch(/when: +every 8\.0s in UTC/);
  expect(described.stdout).toMatch(/retention: keep newest 3/);
  expect(described.stdout).toMatch(/COMPLETED +savepoint file:/);

  const paused = await h.cli(['schedule', 'pause', `${h.namespace}/flink`, '--job', 'counter-scheduled', '--note', 'maintenance']);
  expect(paused.code).toBe(0);
  const afterPause = savepointDirs(dir).length;
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  expect(savepointDirs(dir).length).toBe(afterPause);
  expect((await h.cli(['schedule', 'describe', `${h.namespace}/flink`, '--job', 'counter-scheduled'])).stdout).toMatch(/PAUSED: maintenance/);
  await h.cli(['schedule', 'resume', `${h.namespace}/flink`, '--job', 'counter-scheduled']);
  await waitFor(() => savepointDirs(dir).length > afterPause, { timeoutMs: 60_000, description: 'a savepoint after resuming' });
  const deleted = await h.cli(['schedule', 'delete', `${h.namespace}/flink`, '--job', 'counter-scheduled']);
  expect(deleted.code).toBe(0);
  expect((await h.cli(['schedule', 'describe', `${h.namespace}/flink`, '--job', 'counter-scheduled'])).stderr).toMatch(/no schedule flinkops-savepoint-/);

  // Restore the first scheduled savepoint into a fresh job: from its first record on, it writes exactly what the
  // original job wrote for the same input (same key, same count, same sequence number): the state came back.
  const first = (await record('counter-scheduled'))!.savepoints[0]!;
  const freshOutput = join(h.dataDir, 'restored.tsv');
  const jarId = await flink.uploadJar(fixtureJar('v1'));
  const restored = await flink.runJar(jarId, { jobId: randomJobId(), entryClass: FIXTURE_MAIN_CLASSES.v1, savepointPath: first.path, programArgs: fixtureArgs({ output: freshOutput, jobName: 'restored' }) });
  await waitForJobState(flink, restored, 'RUNNING');
  const fresh = (await waitForRecords(freshOutput, 'v1', 8)).slice(0, 8);
  const original = new Map(readCounters(job.output).map((r) => [r.sequence, r]));
  expect(fresh[0]!.sequence).toBeGreaterThan(0);
  for (const r of fresh) expect(original.get(r.sequence)).toEqual(r);
  await flink.cancelJob(restored);
  await flink.cancelJob(job.jobId);
});

test('retention keeps exactly the two newest savepoints on disk and in the record', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-retention');
  const dir = join(h.dataDir, 'retention');
  const taken: string[] = [];
  for (let i = 0; i < 4; i++) {
    const run = await savepoint('counter-retention', '--keep', '2', '--savepoint-dir', `file://${dir}`);
    expect(run.code).toBe(0);
    expect(run.json?.savepoint?.sizeBytes).toBeGreaterThan(0);
    taken.push(run.json!.savepoint!.path);
  }
  const newest = taken.slice(-2);
  expect(savepointDirs(dir).map((d) => join(dir, d))).toEqual(newest.map((p) => localPath(p)).sort());
  expect((await record('counter-retention'))!.savepoints.map((s) => s.path)).toEqual(newest);
  await flink.cancelJob(job.jobId);
});

test('a disposal that fails is reported, kept in the record and retried on the next run', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-disposal');
  const dir = join(h.dataDir, 'disposal');
  expect((await savepoint('counter-disposal', '--keep', '1', '--savepoint-dir', `file://${dir}`)).code).toBe(0);
  // A savepoint on a file system the cluster has no plugin for (and the worker cannot delete): disposal must fail.
  const unreachable = 's3://flinkops-no-such-bucket/savepoints/savepoint-000000-000000000000';
  const configMap = (await recordConfigMap('counter-disposal'))!;
  const stored = JSON.parse(configMap.data!['record.json']!) as JobRecord;
  stored.savepoints.unshift({ path: unreachable, at: new Date(Date.now() - 86_400_000).toISOString(), jobId: job.jobId, trigger: 'manual', workflowId: 'test' });
  await h.kube.core.replaceNamespacedConfigMap({ name: configMap.metadata!.name!, namespace: h.namespace, body: { ...configMap, data: { 'record.json': JSON.stringify(stored) } } });

  const first = await savepoint('counter-disposal', '--keep', '1', '--savepoint-dir', `file://${dir}`);
  expect(first.code).toBe(0);
  expect(first.json?.message).toMatch(new RegExp(`1 disposal\\(s\\) failed and will be retried: ${unreachable}: `));
  expect((await record('counter-disposal'))!.pendingDisposals).toEqual([expect.objectContaining({ path: unreachable, attempts: 1 })]);

  const second = await savepoint('counter-disposal', '--keep', '1', '--savepoint-dir', `file://${dir}`);
  expect(second.json?.message).toMatch(/1 disposal\(s\) failed and will be retried/);
  const after = (await record('counter-disposal'))!;
  expect(after.pendingDisposals).toEqual([expect.objectContaining({ path: unreachable, attempts: 2 })]);
  expect(after.savepoints.map((s) => s.path)).toEqual([second.json!.savepoint!.path]);
  expect(savepointDirs(dir)).toHaveLength(1);
  await flink.cancelJob(job.jobId);
});

test('a fleet schedule covers every job of the matching clusters, with bounded concurrency', async () => {
  const jobs = [await h.submitJob(flink, 'v1', 'fleet-a'), await h.submitJob(flink, 'v1', 'fleet-b')];
  const fleet = `fleet-${h.namespace}`;
  const create = ['schedule', 'create', '--fleet', fleet, '--selector', 'app.kubernetes.io/instance=flink', '-n', h.namespace, '--concurrency', '1', '--keep', '2', '--paused'];
  expect((await h.cli(create)).stdout).toMatch(/created schedule flinkops-fleet-savepoint-/);
  expect((await h.cli(create)).stdout).toMatch(/updated schedule flinkops-fleet-savepoint-/);
  const described = await h.cli(['schedule', 'describe', '--fleet', fleet]);
  expect(described.stdout).toMatch(new RegExp(`fleet: +JobManager Deployments matching "app.kubernetes.io/instance=flink" in ${h.namespace}, 1 at a time`));

  try {
    await expectFleetRun(fleet);
  } finally {
    await h.cli(['schedule', 'delete', '--fleet', fleet]);
    for (const job of jobs) await flink.cancelJob(job.jobId);
  }
});

async function expectFleetRun(fleet: string): Promise<void> {
  const triggeredAt = new Date();
  expect((await h.cli(['schedule', 'trigger', '--fleet', fleet])).code).toBe(0);
  const run = await newestScheduledRunResult<FleetSavepointResult>(client, fleetScheduleId(fleet), triggeredAt);
  expect(run).toMatchObject({ targets: 2, completed: 2, skipped: 0, failed: [], problems: [] });
  expect(run.runs.map((r) => r.target).sort()).toEqual([`${h.namespace}/flink-jobmanager/fleet-a`, `${h.namespace}/flink-jobmanager/fleet-b`]);
  // Concurrency 1: the second child started only after the first had closed.
  const [a, b] = await Promise.all(run.runs.map((r) => client.workflow.getHandle(r.workflowId).describe()));
  const [earlier, later] = a!.startTime < b!.startTime ? [a!, b!] : [b!, a!];
  expect(later.startTime.getTime()).toBeGreaterThanOrEqual(earlier.closeTime!.getTime());
  for (const name of ['fleet-a', 'fleet-b']) expect((await record(name))!.savepoints).toEqual([expect.objectContaining({ trigger: 'schedule' })]);
}

test("an upgrade's restore point survives retention", async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-restorepoint');
  const dir = join(h.dataDir, 'restorepoint');
  const upgrade = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-restorepoint', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), '--savepoint-dir', `file://${dir}`, '--stability-window', '3s', '--json']);
  expect(upgrade.code).toBe(0);
  const restorePoint = (JSON.parse(upgrade.stdout) as { savepoint: string }).savepoint;
  for (let i = 0; i < 3; i++) expect((await savepoint('counter-restorepoint', '--keep', '2', '--savepoint-dir', `file://${dir}`)).code).toBe(0);
  expect(existsSync(localPath(restorePoint)!)).toBe(true);
  const kept = (await record('counter-restorepoint'))!;
  expect(kept.savepoints.map((s) => s.path)).toContain(restorePoint);
  expect(savepointDirs(dir)).toHaveLength(3);
  await flink.cancelJob(kept.currentJobId);
});

test('a savepoint run while an upgrade holds the job is skipped, and takes no savepoint', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-busy');
  const dir = join(h.dataDir, 'busy');
  const upgrade = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-busy', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), '--require-approval', '--no-wait']);
  await waitFor(async () => (await client.workflow.getHandle(upgrade.stdout.trim()).query<{ step: string }>('getUpgradeProgress')).step === 'awaiting-approval', {
    timeoutMs: 60_000,
    description: 'the upgrade to hold the job',
  });
  const run = await savepoint('counter-busy', '--savepoint-dir', `file://${dir}`);
  expect(run.code).toBe(0);
  expect(run.json?.outcome).toBe('skipped');
  expect(run.json?.message).toMatch(/another flinkops operation holds the job: upgrade flinkops-upgrade-/);
  // The same cluster named by its JobManager Deployment (as fleet schedules name it) is the same lock.
  const byDeployment = await h.cli(['savepoint', `${h.namespace}/flink-jobmanager`, '--job', 'counter-busy', '--savepoint-dir', `file://${dir}`, '--json']);
  expect(JSON.parse(byDeployment.stdout)).toMatchObject({ outcome: 'skipped', message: expect.stringMatching(/holds the job: upgrade flinkops-upgrade-/) as unknown });
  expect(savepointDirs(dir)).toEqual([]);
  await h.cli(['abort', `${h.namespace}/flink`, '--job', 'counter-busy', '--by', 'test']);
  await flink.cancelJob(job.jobId);
});

test('failures end visibly with the reason and leave the job running', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-failing', { snapshotDelayMs: 10_000, checkpointIntervalMs: 600_000 });
  const timedOut = await savepoint('counter-failing', '--timeout', '3s');
  expect(timedOut.code).toBe(1);
  expect(timedOut.stderr).toMatch(/savepoint of counter-failing failed: savepoint not completed within 3s; the job keeps running/);
  expect(await h.runningJobs(flink, 'counter-failing')).toEqual([job.jobId]);

  const blocker = join(h.dataDir, 'a-file');
  mkdirSync(h.dataDir, { recursive: true });
  writeFileSync(blocker, 'x');
  const unwritable = await savepoint('counter-failing', '--savepoint-dir', `file://${blocker}/savepoints`, '--timeout', '60s');
  expect(unwritable.code).toBe(1);
  expect(unwritable.stderr).toMatch(/savepoint of counter-failing failed: savepoint failed: /);
  expect(await h.runningJobs(flink, 'counter-failing')).toEqual([job.jobId]);

  await flink.cancelJob(job.jobId);
  await waitForJobState(flink, job.jobId, 'CANCELED');
  const notRunning = await savepoint(job.jobId);
  expect(notRunning.code).toBe(0);
  expect(notRunning.json).toMatchObject({ outcome: 'skipped', message: expect.stringMatching(/is CANCELED, not RUNNING: no savepoint taken/) as unknown });
});

test('inside a blackout window no savepoint is taken; the window shows in describe', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-blackout');
  const now = new Date();
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][now.getUTCDay()];
  const run = await savepoint('counter-blackout', '--blackout', `${day} 00:00-24:00`);
  expect(run.json).toMatchObject({ outcome: 'skipped', message: expect.stringMatching(/inside the blackout window/) as unknown });
  const created = await h.cli(['schedule', 'create', `${h.namespace}/flink`, '--job', 'counter-blackout', '--blackout', 'Mon-Fri 09:00-18:00', '--time-zone', 'Europe/Berlin', '--paused']);
  expect(created.code).toBe(0);
  const described = await h.cli(['schedule', 'describe', `${h.namespace}/flink`, '--job', 'counter-blackout']);
  expect(described.stdout).toMatch(/blackouts: Mon-Fri 09:00-18:00 \(Europe\/Berlin\)/);
  expect(described.stdout).toMatch(/when: +cron "0 2 \* \* \*" in Europe\/Berlin, jitter up to 10m/);
  await h.cli(['schedule', 'delete', `${h.namespace}/flink`, '--job', 'counter-blackout']);
  await flink.cancelJob(job.jobId);
});

test.each([
  ['a malformed cron', ['--cron', '0 25 * * *'], /--cron: cron "0 25 \* \* \*": hour "25" is out of range 0-23/],
  ['an unknown time zone', ['--time-zone', 'Mars/Olympus'], /--time-zone: time zone "Mars\/Olympus" is unknown/],
  ['a negative retention', ['--keep', '-2'], /--keep: must be at least 1, got -2/],
  ['a negative age', ['--max-age', '-1d'], /--max-age: must be positive/],
])('schedule create with %s: a clear error, nothing created', async (_name, extra, message) => {
  const result = await h.cli(['schedule', 'create', `${h.namespace}/flink`, '--job', 'counter-x', ...extra]);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(message);
  const listed = await h.cli(['schedule', 'list', '--json']);
  expect((JSON.parse(listed.stdout) as { scheduleId: string }[]).filter((s) => s.scheduleId.includes(h.namespace))).toEqual([]);
});

test('schedule create for an unknown target: a clear error, nothing created', async () => {
  const result = await h.cli(['schedule', 'create', `${h.namespace}/no-such-cluster`]);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/unknown target: no JobManager Deployment "no-such-cluster"/);
  const unknownJob = await h.cli(['schedule', 'create', `${h.namespace}/flink`, '--job', 'no-such-job']);
  expect(unknownJob.code).toBe(2);
  expect(unknownJob.stderr).toMatch(/unknown target: no running job named "no-such-job"/);
  const listed = await h.cli(['schedule', 'list', '--json']);
  expect((JSON.parse(listed.stdout) as { scheduleId: string }[]).filter((s) => s.scheduleId.includes(h.namespace))).toEqual([]);
});
