import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { EventsV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import { FlinkRestError } from '../../activities/flink/rest-client';
import type { RemediationMemory } from '../../workflows/model/cluster-health';
import { sameLocation } from '../../workflows/model/locations';
import { remediationWorkflowId } from '../../workflows/remediation/ids';
import type { RemediationResult } from '../../workflows/remediation/workflow';
import { defaultCacheDir } from '../stack/config';
import { FIXTURE_MAIN_CLASSES, fixtureJar } from '../stack/fixtures';
import { readCounters, waitForJobState } from '../stack/fixture-jobs';
import { applyManifest, perRequestConnectionClient, serviceUrl, sessionClusterVariables, waitForReadyPods } from '../stack/kube/helpers';
import { jobManagerPid } from '../stack/kube/local-node';
import { applyObjects, renderManifest } from '../stack/kube/manifests';
import { temporalCliPath } from '../stack/temporal';
import { recordHistory } from '../support/histories';
import { waitFor } from '../stack/wait';
import { kubeWrites } from '../support/audit-log';
import { OperationHarness } from '../support/upgrade-harness';

// JobManager failover remediation against the real stack: Bitnami-shaped clusters on the local Kubernetes, the CLI,
// the Temporal server and a worker process. Windows and timeouts are shortened through the request options.
const h = new OperationHarness('remediate');
const WEBHOOK_TOKEN = 'webhook-secret-9f3c';
const notifications: Record<string, unknown>[] = [];
let webhook: Server;
let webhookUrl = '';

beforeAll(async () => {
  webhook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url?.includes(WEBHOOK_TOKEN)) notifications.push(JSON.parse(body) as Record<string, unknown>);
      response.writeHead(request.url?.includes(WEBHOOK_TOKEN) ? 204 : 403).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const address = webhook.address() as { port: number };
  webhookUrl = `http://127.0.0.1:${address.port}/hooks/flinkops?token=${WEBHOOK_TOKEN}`;
  await h.setUp({ FLINKOPS_ESCALATION_WEBHOOK_URL: webhookUrl });
});
afterAll(async () => {
  await h.tearDown();
  await new Promise((resolve) => webhook.close(resolve));
});

const jobManagerSelector = (name: string) => `app.kubernetes.io/instance=${name},app.kubernetes.io/component=jobmanager`;

/** Writes the worker's identity made in this file's namespace in a time window (the API server's audit log). */
const auditWrites = (since: Date, until: Date) => kubeWrites(h.stack.state.kube.auditLog, since, until, h.namespace);

async function jobManagerPods(name: string) {
  return (await h.kube.core.listNamespacedPod({ namespace: h.namespace, labelSelector: jobManagerSelector(name) })).items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function memory(cluster: string): Promise<RemediationMemory> {
  const configMap: V1ConfigMap = await h.kube.core.readNamespacedConfigMap({ name: `flinkops-remediation-${cluster}-jobmanager`, namespace: h.namespace });
  return JSON.parse(configMap.data!['state.json']!) as RemediationMemory;
}

async function eventReasons(): Promise<string[]> {
  const events = await h.kube.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: h.namespace });
  return events.items.filter((e) => e.reportingController === 'flinkops.dev/worker').map((e) => e.reason ?? '');
}

/** Frees the machine for the next test: the cluster's Deployments go, and with them their Flink processes. */
async function deleteCluster(name: string): Promise<void> {
  for (const component of ['jobmanager', 'taskmanager']) {
    await h.kube.apps.deleteNamespacedDeployment({ name: `${name}-${component}`, namespace: h.namespace }).catch(() => undefined);
  }
  await waitFor(async () => (await h.kube.core.listNamespacedPod({ namespace: h.namespace, labelSelector: `app.kubernetes.io/instance=${name}` })).items.length === 0, {
    timeoutMs: 60_000,
    description: `the pods of ${name} to go`,
  });
}

async function register(cluster: string, job: { args: string[] }, jobName: string): Promise<void> {
  const result = await h.cli(['register', `${h.namespace}/${cluster}`, '--job', jobName, '--jar', fixtureJar('v1'), '--entry-class', FIXTURE_MAIN_CLASSES.v1, ...job.args.flatMap((a) => ['--arg', a])]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(new RegExp(`registered job ${jobName} \\([0-9a-f]{32}\\)`));
}

async function completedCheckpoints(flink: FlinkRestClient, jobId: string, count: number): Promise<void> {
  await waitFor(async () => (await flink.checkpoints(jobId)).counts.completed >= count, { timeoutMs: 60_000, description: `${count} completed checkpoints of ${jobId}` });
}

function checkpointNumber(path: string): number {
  return Number(/\/chk-(\d+)$/.exec(path)?.[1]);
}

/** After `sinceLine`, the job's counters go on from a restored state: a job started from scratch would count from 1 again. */
async function expectCountersContinued(output: string, sinceLine: number): Promise<void> {
  const later = await waitFor(
    () => {
      const records = readCounters(output).slice(sinceLine);
      return records.length >= 40 ? records : undefined;
    },
    { timeoutMs: 120_000, description: `new output in ${output}` },
  );
  expect(Math.min(...later.map((r) => r.count))).toBeGreaterThan(1);
}

test('two JobManagers without HA: doctor explains it without writing anything, remediate scales to 1, and a job submitted through the Service stays visible', async () => {
  await applyManifest(h.kube, 'session-cluster.yaml', sessionClusterVariables(h.namespace, join(h.dataDir, 'split'), { NAME: 'split', JOBMANAGER_REPLICAS: 2, TASK_SLOTS: 2 }));
  await waitForReadyPods(h.kube, h.namespace, jobManagerSelector('split'), 2);

  const doctorStarted = new Date();
  const doctor = await h.cli(['doctor', `${h.namespace}/split`]);
  const doctorEnded = new Date();
  expect(doctor.code).toBe(5);
  expect(doctor.stdout).toContain('2 JobManager replicas without high availability: requests are split between two independent leaders');
  expect(doctor.stdout).toContain(`-> scale Deployment split-jobmanager from 2 to 1 replica`);
  expect(auditWrites(doctorStarted, doctorEnded)).toEqual([]);
  expect((await jobManagerPods('split')).length).toBe(2);

  const dryRun = await h.cli(['remediate', `${h.namespace}/split`, '--dry-run']);
  expect(dryRun.code).toBe(0);
  expect(dryRun.stdout).toContain('dry run, nothing changed; would: scale Deployment split-jobmanager from 2 to 1 replica');
  expect((await h.kube.apps.readNamespacedDeployment({ name: 'split-jobmanager', namespace: h.namespace })).spec?.replicas).toBe(2);

  const started = new Date();
  const result = await h.cli(['remediate', `${h.namespace}/split`, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const remediation = JSON.parse(result.stdout) as RemediationResult;
  expect(remediation.outcome).toBe('remediated');
  expect(remediation.actions.map((a) => a.kind)).toEqual(expect.arrayContaining(['scale-jobmanager']));
  // The audit log sees what remediate wrote (so its silence during doctor means something): the scale, the lock.
  const writes = auditWrites(started, new Date());
  expect(writes).toContainEqual({ verb: 'patch', resource: 'deployments', name: 'split-jobmanager', namespace: h.namespace });
  // Locks and memory are keyed by the JobManager Deployment, whatever name the cluster was given by.
  expect(writes).toContainEqual({ verb: 'create', resource: 'leases', name: 'flinkops-lock-split-jobmanager', namespace: h.namespace });
  expect((await h.kube.apps.readNamespacedDeployment({ name: 'split-jobmanager', namespace: h.namespace })).spec?.replicas).toBe(1);
  expect(await eventReasons()).toEqual(expect.arrayContaining(['RemediationStarted', 'JobManagerScaled', 'RemediationSucceeded']));

  // Every request through the Service now reaches the one JobManager: upload and run land together, and the job
  // is found on every request (with two JobManagers some of these answered 404).
  await waitForReadyPods(h.kube, h.namespace, jobManagerSelector('split'), 1);
  const flink = perRequestConnectionClient(await serviceUrl(h.kube, h.namespace, 'split-jobmanager'));
  // A TaskManager that had registered with the removed JobManager comes over only when its heartbeat to that one
  // times out (heartbeat.timeout, 50 s) and its registration backoff lets it retry: over 120 s on a loaded machine.
  await waitFor(async () => (await flink.overview())['slots-total'] >= 2, { timeoutMs: 300_000, description: 'the TaskManager to register with the remaining JobManager' });
  const job = await h.submitJob(flink, 'v1', 'counter-split');
  let found = 0;
  for (let i = 0; i < 20; i++) {
    try {
      if ((await flink.jobDetails(job.jobId)).state === 'RUNNING') found++;
    } catch (error) {
      if (!(error instanceof FlinkRestError && error.isNotFound)) throw error;
    }
  }
  expect(found).toBe(20);
  await deleteCluster('split');
}, 600_000);

test('no HA, JobManager pod deleted: the watch schedule restarts the TaskManagers tied to the lost JobManager, resubmits the lost job from its newest checkpoint, its state continues, and no later run submits it again', async () => {
  const flink = await h.sessionCluster('solo', 2);
  const job = await h.submitJob(flink, 'v1', 'counter-solo');
  await register('solo', job, 'counter-solo');
  await completedCheckpoints(flink, job.jobId, 2);

  const enable = await h.cli(['watch', 'enable', `${h.namespace}/solo`, '--every', '5s', '--stability-window', '3s', '--jobmanager-timeout', '2m']);
  expect(enable.stderr).toBe('');
  expect(enable.stdout).toMatch(/created schedule flinkops-watch-.*-solo: a health check of .*\/solo every 5.0s/);
  const again = await h.cli(['watch', 'enable', `${h.namespace}/solo`, '--every', '5s', '--stability-window', '3s', '--jobmanager-timeout', '2m']);
  expect(again.stdout).toMatch(/updated schedule/);
  const list = await h.cli(['watch', 'list']);
  expect(list.stdout).toMatch(new RegExp(`${h.namespace}/solo\\s+every 5.0s\\s+active`));

  const [jobManager] = await jobManagerPods('solo');
  const linesBefore = readCounters(job.output).length;
  const lostAt = Date.now();
  await h.kube.core.deleteNamespacedPod({ name: jobManager!.metadata!.name!, namespace: h.namespace });

  // While a watch run works on it, `status` names the run and its step.
  const runningStep = await waitFor(
    async () => (await h.cli(['status', `${h.namespace}/solo`])).stdout.match(/running: remediationWorkflow flinkops-watch-\S+ \((restarting-taskmanagers|resubmitting|waiting|verifying): /)?.[1],
    { timeoutMs: 120_000, intervalMs: 500, description: '`status` to show the watch run remediating solo and its step' },
  );
  expect(['restarting-taskmanagers', 'resubmitting', 'waiting', 'verifying']).toContain(runningStep);

  // The new JobManager comes up without the job; a watch run resubmits it from the newest retained checkpoint.
  const remediated = await waitFor(
    async () => {
      const r = await h.record('counter-solo');
      return r?.history.find((e) => e.operation === 'remediation' && Date.parse(e.at) > lostAt);
    },
    { timeoutMs: 240_000, intervalMs: 1_000, description: 'a watch run to resubmit counter-solo' },
  );
  expect(remediated.outcome).toBe('resubmitted');
  expect(remediated.workflowId).toMatch(/^flinkops-watch-/);
  expect(remediated.savepoint).toMatch(new RegExp(`/${job.jobId}/chk-\\d+$`));
  // Back under its previous id: what refers to the job by id (dashboards, alerts, scripts) still finds it.
  expect(remediated.jobId).toBe(job.jobId);
  const fresh = perRequestConnectionClient(await serviceUrl(h.kube, h.namespace, 'solo-jobmanager'));
  await waitForJobState(fresh, job.jobId, 'RUNNING');
  const restored = (await fresh.checkpoints(job.jobId)).latest.restored;
  expect(restored?.external_path && sameLocation(restored.external_path, remediated.savepoint!)).toBe(true);
  const solo = await h.record('counter-solo');
  expect(solo?.restorePoints.map((p) => p.path)).toContain(remediated.savepoint);
  expect(solo?.currentJobId).toBe(job.jobId);
  await expectCountersContinued(job.output, linesBefore);
  // The fast path: the TaskManager still tied to the lost JobManager was restarted (not waited for), and exactly one
  // job of that name runs.
  expect(await eventReasons()).toContain('TaskManagersRestarted');
  expect((await memory('solo')).taskManagerRestarts?.map((r) => r.workflowId)).toEqual([remediated.workflowId]);
  expect((await fresh.listJobs()).filter((j) => j.name === 'counter-solo' && !['FAILED', 'CANCELED', 'FINISHED'].includes(j.state)).map((j) => j.jid)).toEqual([job.jobId]);

  const disable = await h.cli(['watch', 'disable', `${h.namespace}/solo`]);
  expect(disable.code).toBe(0);
  expect((await h.cli(['watch', 'list'])).stdout).not.toContain(`${h.namespace}/solo`);
  // A watch run still going must end first: the manual run below must not meet it.
  await waitFor(async () => (await h.cli(['status', `${h.namespace}/solo`, '--json'])).stdout.includes('"running": []'), { timeoutMs: 120_000, description: 'no remediation running' });

  const startTime = (await fresh.jobDetails(job.jobId))['start-time'];
  const second = await h.cli(['remediate', `${h.namespace}/solo`, '--json']);
  expect(second.code).toBe(0);
  const secondResult = JSON.parse(second.stdout) as RemediationResult;
  expect(secondResult.outcome).toBe('healthy');
  expect(secondResult.actions).toEqual([]);
  expect((await fresh.listJobs()).filter((j) => j.name === 'counter-solo' && j.state === 'RUNNING').map((j) => j.jid)).toEqual([job.jobId]);
  expect((await fresh.jobDetails(job.jobId))['start-time']).toBe(startTime);

  // The JobManager's process killed instead of its pod: Kubernetes restarts the container in place, as empty.
  const [pod] = await jobManagerPods('solo');
  const linesBeforeKill = readCounters(job.output).length;
  process.kill(jobManagerPid(h.stack.config, h.namespace, pod!.metadata!.name!), 'SIGKILL');
  await waitFor(async () => ((await jobManagerPods('solo'))[0]?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, { timeoutMs: 30_000, description: 'the JobManager container to restart' });
  // The JobManager answers again, empty; its TaskManager stays tied to the killed one until its heartbeat times out.
  await waitFor(async () => (await fresh.listJobs().catch(() => undefined)) !== undefined, { timeoutMs: 60_000, description: 'the restarted JobManager to answer' });
  // The watch restarted them minutes ago: within the window flinkops would wait for them.
  const guarded = await h.cli(['remediate', `${h.namespace}/solo`, '--dry-run']);
  expect(guarded.stdout).toMatch(/its TaskManagers were restarted \S+ ago \(by flinkops-watch-\S+\); within the 30m window flinkops waits for them instead of restarting them again/);
  expect(guarded.stdout).toMatch(/dry run, nothing changed; would: resubmit counter-solo as job/);
  const fast = await h.cli(['remediate', `${h.namespace}/solo`, '--dry-run', '--taskmanager-restart-window', '1s']);
  expect(fast.code).toBe(0);
  expect(fast.stdout).toMatch(/dry run, nothing changed; would: restart TaskManager pod\(s\) solo-taskmanager-\S+ so they register with the new JobManager at once, instead of waiting for their heartbeat to the lost one to time out; resubmit counter-solo/);
  expect(fast.stdout).toMatch(/TaskManagers stay tied to the JobManager that is gone.*the new JobManager runs no job, so restarting the TaskManager pod\(s\) stops nothing/);
  const gentle = await h.cli(['remediate', `${h.namespace}/solo`, '--dry-run', '--lost-job-recovery', 'wait-for-taskmanagers']);
  expect(gentle.stdout).toMatch(/dry run, nothing changed; would: resubmit counter-solo as job/);
  expect(gentle.stdout).toMatch(/flinkops waits for them \(lost-job recovery: wait-for-taskmanagers\)/);
  // The gentle path, as configured: nothing restarted, the resubmission waits for the heartbeat timeout.
  const third = await h.cli(['remediate', `${h.namespace}/solo`, '--json', '--stability-window', '3s', '--lost-job-recovery', 'wait-for-taskmanagers']);
  expect(third.stderr).toBe('');
  expect(third.code).toBe(0);
  const thirdResult = JSON.parse(third.stdout) as RemediationResult;
  expect(thirdResult.outcome).toBe('remediated');
  expect(thirdResult.actions.map((a) => a.kind)).toEqual(expect.arrayContaining(['resubmit-job']));
  expect(thirdResult.actions.map((a) => a.kind)).not.toContain('delete-pod');
  expect(thirdResult.actions.map((a) => a.kind)).not.toContain('restart-taskmanagers');
  // A killed JobManager releases nothing: the TaskManager holds the job until its heartbeat to it times out, and the
  // resubmission under the same id waits for that.
  expect(thirdResult.actions.find((a) => a.kind === 'resubmit-job')?.detail).toMatch(/after waiting \S+ for the TaskManagers to let go of it \(1 TaskManager\(s\) registered, none holds job/);
  expect((await h.record('counter-solo'))!.currentJobId).toBe(job.jobId);
  expect(thirdResult.verified).toEqual([expect.objectContaining({ jobId: job.jobId, restoredFrom: expect.stringMatching(new RegExp(`/${job.jobId}/chk-\\d+$`)) as unknown })]);
  // The resubmitted job numbered its checkpoints on from the one it restored, in the same directory.
  expect(checkpointNumber(thirdResult.verified[0]!.restoredFrom!)).toBeGreaterThan(checkpointNumber(remediated.savepoint!));
  await expectCountersContinued(job.output, linesBeforeKill);
  recordHistory(h.stack.state.temporal.address, remediationWorkflowId({ namespace: h.namespace, name: 'solo' }), 'remediation-resubmitted');
  await deleteCluster('solo');
});

test('Kubernetes HA, leading JobManager pod deleted: remediation waits for Flink to recover by itself, verifies the state, and takes no destructive action', async () => {
  await applyManifest(h.kube, 'session-cluster-ha.yaml', sessionClusterVariables(h.namespace, join(h.dataDir, 'ha'), { NAME: 'ha', TASK_SLOTS: 2 }));
  const [leader] = await waitForReadyPods(h.kube, h.namespace, jobManagerSelector('ha'), 1);
  const flink = perRequestConnectionClient(await serviceUrl(h.kube, h.namespace, 'ha-jobmanager'));
  await waitFor(async () => (await flink.overview())['slots-total'] >= 2, { timeoutMs: 120_000, description: 'slots' });
  const job = await h.submitJob(flink, 'v1', 'counter-ha');
  await register('ha', job, 'counter-ha');
  await completedCheckpoints(flink, job.jobId, 2);
  const healthy = await h.cli(['doctor', `${h.namespace}/ha`]);
  expect(healthy.code).toBe(0);
  expect(healthy.stdout).toMatch(/HA leader .* renewed its lease/);

  const linesBefore = readCounters(job.output).length;
  await h.kube.core.deleteNamespacedPod({ name: leader!.metadata!.name!, namespace: h.namespace });
  const started = new Date();
  const result = await h.cli(['remediate', `${h.namespace}/ha`, '--json', '--ha-recovery-timeout', '3m', '--stability-window', '3s']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const remediation = JSON.parse(result.stdout) as RemediationResult;
  expect(remediation.outcome).toBe('recovered');
  expect(remediation.diagnosis.status).toBe('unhealthy');
  expect(remediation.actions.length).toBeGreaterThan(0);
  for (const action of remediation.actions) expect(['wait-for-jobmanager', 'await-recovery']).toContain(action.kind);
  expect(remediation.verified).toEqual([expect.objectContaining({ jobId: job.jobId, restoredFrom: expect.stringMatching(/chk-\d+$/) as unknown })]);
  expect(remediation.message).toMatch(/Flink recovered .* by itself; flinkops only waited and verified, no destructive action/);
  // Nothing but its lock and events: no pod, Deployment or ConfigMap was touched.
  const writes = auditWrites(started, new Date()).filter((w) => w.resource !== 'leases' && w.resource !== 'events');
  expect(writes).toEqual([]);
  expect((await flink.listJobs()).filter((j) => j.name === 'counter-ha').map((j) => j.jid)).toEqual([job.jobId]);
  await expectCountersContinued(job.output, linesBefore);
  expect(await eventReasons()).toContain('FlinkRecovered');
  recordHistory(h.stack.state.temporal.address, remediationWorkflowId({ namespace: h.namespace, name: 'ha' }), 'remediation-ha-recovered');
  await deleteCluster('ha');
});

test('a JobManager crash-looping on a bad configuration: one pod deletion, then escalation with the diagnosis and one webhook notification; no restart loop beyond the limits', async () => {
  const invalid = await h.cli(['remediate', `${h.namespace}/crashy`, '--max-per-hour', '0']);
  expect(invalid.code).toBe(2);
  expect(invalid.stderr).toMatch(/--max-per-hour: must be at least 1/);
  for (const command of [['watch', 'enable'], ['remediate'], ['doctor']]) {
    const unknown = await h.cli([...command, `${h.namespace}/nope`]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown cluster: no JobManager Deployment "nope"/);
  }

  // Less memory than the JVM metaspace alone: the JobManager exits right after it starts, again and again.
  const objects = renderManifest('session-cluster.yaml', sessionClusterVariables(h.namespace, join(h.dataDir, 'crashy'), { NAME: 'crashy', TASKMANAGER_REPLICAS: 0 }));
  for (const object of objects as (V1ConfigMap & { kind?: string })[]) {
    if (object.kind === 'ConfigMap') object.data!['config.yaml'] = object.data!['config.yaml']!.replace('jobmanager.memory.process.size: 1024m', 'jobmanager.memory.process.size: 100m');
  }
  await applyObjects(h.kube.kc, objects);
  const crashing = await waitFor(
    async () => {
      const [p] = await jobManagerPods('crashy');
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    },
    { timeoutMs: 90_000, description: 'the JobManager to crash-loop' },
  );

  const doctor = await h.cli(['doctor', `${h.namespace}/crashy`]);
  expect(doctor.code).toBe(5);
  expect(doctor.stdout).toMatch(/JobManager pod crashy-jobmanager-\S+ is crash-looping \(CrashLoopBackOff, \d+ restart\(s\), last exit code 1 \(Error\)\)/);

  const first = await h.cli(['remediate', `${h.namespace}/crashy`, '--max-per-hour', '1', '--jobmanager-timeout', '90s']);
  expect(first.code).toBe(1);
  expect(first.stderr).toMatch(new RegExp(`needs a human: deleting JobManager pod ${crashing.metadata!.name} did not help: its replacement crashy-jobmanager-\\S+ is crash-looping too`));
  expect(first.stdout).toMatch(/is crash-looping \(CrashLoopBackOff/);
  const [replacement] = await jobManagerPods('crashy');
  expect(replacement!.metadata!.uid).not.toBe(crashing.metadata!.uid);
  const remembered = await memory('crashy');
  expect(remembered.podDeletions.map((d) => d.pod)).toEqual([crashing.metadata!.name]);
  expect(remembered.remediations).toHaveLength(1);
  await waitFor(() => notifications.length >= 1, { timeoutMs: 10_000, description: 'the webhook notification' });
  expect(notifications).toHaveLength(1);
  expect(notifications[0]).toMatchObject({ kind: 'flinkops.remediation.escalated', cluster: `${h.namespace}/crashy`, trigger: 'manual', workflowId: remediationWorkflowId({ namespace: h.namespace, name: 'crashy' }) });
  expect(JSON.stringify(notifications[0])).toMatch(/crash-looping/);
  // The webhook URL (and its token) live in the worker's settings, never in the workflow's history.
  const history = execFileSync(temporalCliPath(defaultCacheDir()), ['workflow', 'show', '--address', h.stack.state.temporal.address, '--workflow-id', remediationWorkflowId({ namespace: h.namespace, name: 'crashy' }), '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(history).toContain('NeedsHuman');
  expect(history).not.toContain(WEBHOOK_TOKEN);
  expect(history).not.toContain(webhookUrl.split('?')[0]);
  recordHistory(h.stack.state.temporal.address, remediationWorkflowId({ namespace: h.namespace, name: 'crashy' }), 'remediation-escalated');

  // The next run (a flapping cluster, a watch schedule) is stopped by the rate limit: nothing deleted, nobody paged twice.
  const started = new Date();
  const second = await h.cli(['remediate', `${h.namespace}/crashy`, '--max-per-hour', '1']);
  expect(second.code).toBe(1);
  expect(second.stderr).toMatch(/needs a human: rate limit: 1 remediation\(s\) of this cluster in the last hour \(at most 1\)/);
  expect((await jobManagerPods('crashy'))[0]!.metadata!.uid).toBe(replacement!.metadata!.uid);
  expect(auditWrites(started, new Date()).filter((w) => w.resource === 'pods' || w.resource === 'deployments')).toEqual([]);
  expect(notifications).toHaveLength(1);
  expect(await eventReasons()).toContain('RemediationEscalated');
  await deleteCluster('crashy');
});
