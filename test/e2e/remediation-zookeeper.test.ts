import type { FlinkRestClient } from '../../activities/flink/rest-client';
import { FlinkRestError } from '../../activities/flink/rest-client';
import type { Diagnosis } from '../../workflows/remediation/diagnose';
import type { RemediationResult } from '../../workflows/remediation/workflow';
import { readCounters } from '../stack/fixture-jobs';
import { perRequestConnectionClient, serviceUrl } from '../stack/kube/helpers';
import { jobManagerPid } from '../stack/kube/local-node';
import { waitFor } from '../stack/wait';
import { zooKeeperSpec } from '../stack/stack';
import { startZooKeeper, stopZooKeeper } from '../stack/zookeeper';
import { deleteZooKeeperCluster, jobManagerSelector, zooKeeperSessionCluster } from '../stack/zookeeper-cluster';
import { jobManagerSessions, kubeWrites, zooKeeperWrites } from '../support/audit-log';
import { OperationHarness } from '../support/upgrade-harness';

// ZooKeeper HA against the real stack: the stack's ZooKeeper (one server on loopback), Flink JobManagers and
// TaskManagers as pods of the local Kubernetes, the CLI, the Temporal server and a worker process.
const h = new OperationHarness('remediate-zk');

beforeAll(async () => {
  await h.setUp();
});
afterAll(async () => {
  // The quorum test stops ZooKeeper: whatever happened, the stack gets it back.
  await startZooKeeper({ runDir: h.stack.config.runDir, logDir: h.stack.config.logDir }, zooKeeperSpec(h.stack.config));
  await h.tearDown();
});

const dirs = () => ({ runDir: h.stack.config.runDir, logDir: h.stack.config.logDir });
const zkAudit = () => h.stack.state.zookeeper.auditLog;

async function completedCheckpoints(flink: FlinkRestClient, jobId: string, count: number): Promise<void> {
  await waitFor(async () => (await flink.checkpoints(jobId)).counts.completed >= count, { timeoutMs: 60_000, description: `${count} completed checkpoints of ${jobId}` });
}

/** After `sinceLine`, every key's counter goes on from where it was: a job started from nothing would count from 1. */
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

test('two JobManagers with ZooKeeper HA: doctor shows the leader and the standby and writes nothing anywhere; the leader crashed, remediate sees the standby take over and verifies every job with its state', async () => {
  const flink = await zooKeeperSessionCluster(h, 'zk', { clusterId: '/zk' });
  const path = `/${h.namespace}/zk`;
  const job = await h.submitJob(flink, 'v1', 'counter-zk');
  // Not registered with flinkops: ZooKeeper's job graphs say which jobs must come back.
  await completedCheckpoints(flink, job.jobId, 2);
  // The audit log records Flink's own writes: its silence for flinkops' sessions below means something.
  expect(zooKeeperWrites(zkAudit()).some((w) => w.operation === 'create' && w.znode === `${path}/jobgraphs/${job.jobId}` && w.result === 'success')).toBe(true);

  const jobManagersBefore = await jobManagerSessions(h.stack.state.zookeeper.quorum, path);
  const doctorStarted = new Date();
  const doctor = await h.cli(['doctor', `${h.namespace}/zk`]);
  const doctorEnded = new Date();
  expect(doctor.stderr).toBe('');
  expect(doctor.code).toBe(0);
  const leaderLine = new RegExp(`ZooKeeper HA leader (zk-jobmanager-\\S+) at pekko\\.tcp://flink@\\S+ \\(REST http://\\S+\\) since \\S+, leader session [0-9a-f-]{36}, ZooKeeper session 0x[0-9a-f]+; standby (zk-jobmanager-\\S+); 2 contender\\(s\\) under ${path} on ${h.stack.state.zookeeper.quorum}`);
  const [, leader, standby] = leaderLine.exec(doctor.stdout) ?? [];
  expect(doctor.stdout).toMatch(leaderLine);
  expect(leader).not.toBe(standby);
  // Nothing written: neither to Kubernetes (the API server's audit log) nor to ZooKeeper (its audit log: every write
  // in the window came from a JobManager's own session).
  expect(kubeWrites(h.stack.state.kube.auditLog, doctorStarted, doctorEnded, h.namespace)).toEqual([]);
  const jobManagers = new Set([...jobManagersBefore, ...(await jobManagerSessions(h.stack.state.zookeeper.quorum, path))]);
  expect(zooKeeperWrites(zkAudit(), doctorStarted, doctorEnded).filter((w) => !jobManagers.has(w.session))).toEqual([]);

  const linesBefore = readCounters(job.output).length;
  const lostAt = Date.now();
  // The leader crashes (its process killed, not its pod deleted): its ZooKeeper session is not closed, so the standby
  // leads only once the session expires. A pod deleted gracefully closes the session, and the standby can have taken
  // over with the job before remediate first looks (then there is nothing to remediate).
  process.kill(jobManagerPid(h.stack.config, h.namespace, leader!), 'SIGKILL');
  const started = new Date();
  const result = await h.cli(['remediate', `${h.namespace}/zk`, '--json', '--ha-recovery-timeout', '3m', '--stability-window', '3s']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const remediation = JSON.parse(result.stdout) as RemediationResult;
  expect(remediation.diagnosis.status).toBe('unhealthy');
  expect(remediation.outcome).toBe('recovered');
  for (const action of remediation.actions) expect(['wait-for-jobmanager', 'await-recovery']).toContain(action.kind);
  expect(remediation.verified).toEqual([expect.objectContaining({ jobId: job.jobId, restoredFrom: expect.stringMatching(new RegExp(`/${job.jobId}/chk-\\d+$`)) as unknown })]);
  // The standby leads now (the crashed one, restarted in place, stands by), as ZooKeeper and the final diagnosis say.
  const final = remediation.final ?? remediation.diagnosis;
  expect(final.findings.find((f) => f.code === 'zk-leader-elected')?.reason).toMatch(new RegExp(`^ZooKeeper HA leader ${standby} at `));
  // Nothing destructive: flinkops only took its lock and emitted events, and wrote nothing to ZooKeeper.
  const ended = new Date();
  expect(kubeWrites(h.stack.state.kube.auditLog, started, ended, h.namespace).filter((w) => w.resource !== 'leases' && w.resource !== 'events')).toEqual([]);
  const sessions = new Set([...jobManagers, ...(await jobManagerSessions(h.stack.state.zookeeper.quorum, path))]);
  expect(zooKeeperWrites(zkAudit(), started, ended).filter((w) => !sessions.has(w.session))).toEqual([]);
  expect((await flink.listJobs()).filter((j) => j.name === 'counter-zk' && j.state === 'RUNNING').map((j) => j.jid)).toEqual([job.jobId]);
  await expectCountersContinued(job.output, linesBefore);
  console.log(
    `ZooKeeper HA, leader crashed: remediate saw it, waited for the standby and verified the job in ${ended.getTime() - started.getTime()} ms (${ended.getTime() - lostAt} ms after the crash)`,
  );
});

test('Flink 2.2 keeps execution plans where 1.20 kept job graphs: doctor reads them and finds the running job stored', async () => {
  const flink = await zooKeeperSessionCluster(h, 'zk2', { clusterId: '/zk2', image: 'flink:2.2', jobManagers: 1 });
  const job = await h.submitJob(flink, 'v1', 'counter-zk2');
  await completedCheckpoints(flink, job.jobId, 1);
  const doctor = await h.cli(['doctor', `${h.namespace}/zk2`, '--json']);
  expect(doctor).toMatchObject({ code: 0, stderr: '' });
  const diagnosis = JSON.parse(doctor.stdout) as Diagnosis;
  expect(diagnosis.status).toBe('healthy');
  expect(diagnosis.findings.find((f) => f.code === 'zk-leader-elected')?.reason).toMatch(/no standby \(1 JobManager replica/);
  expect(diagnosis.findings.map((f) => f.code)).not.toContain('zk-job-entry-missing');
  expect(zooKeeperWrites(zkAudit()).some((w) => w.operation === 'create' && w.znode === `/${h.namespace}/zk2/execution-plans/${job.jobId}`)).toBe(true);
  await deleteZooKeeperCluster(h, 'zk2');
});

test('two clusters left on the default cluster id under one root: doctor names the collision and the fix for each; remediate refuses to act and escalates', async () => {
  const root = `/${h.namespace}-shared`;
  await zooKeeperSessionCluster(h, 'alpha', { root, jobManagers: 1, taskManagers: 1 });
  // beta's JobManager only stands by: alpha's leads the shared path, and answers beta's REST requests.
  await zooKeeperSessionCluster(h, 'beta', { root, jobManagers: 1, taskManagers: 0 });
  const path = `${root}/default`;

  const forBeta = `set high-availability.cluster-id: /${h.namespace}-beta-jobmanager in beta-jobmanager's configuration (ConfigMap beta-config), then restart its JobManagers; leave alpha-jobmanager on ${path}`;
  const alpha = await h.cli(['doctor', `${h.namespace}/alpha`]);
  expect(alpha.code).toBe(5);
  expect(alpha.stdout).toContain(`alpha-jobmanager and beta-jobmanager in ${h.namespace} use the same ZooKeeper path ${path} on ${h.stack.state.zookeeper.quorum} (high-availability.cluster-id is set on none of them: all take the default /default)`);
  expect(alpha.stdout).toContain('alpha-jobmanager leads the shared path now');
  expect(alpha.stdout).toContain(forBeta);
  const beta = await h.cli(['doctor', `${h.namespace}/beta`]);
  expect(beta.code).toBe(5);
  expect(beta.stdout).toContain(`beta-jobmanager and alpha-jobmanager in ${h.namespace} use the same ZooKeeper path ${path}`);
  expect(beta.stdout).toContain(forBeta);

  const dryRun = await h.cli(['remediate', `${h.namespace}/beta`, '--dry-run']);
  expect(dryRun.code).toBe(0);
  expect(dryRun.stdout).toContain(`dry run: would escalate: beta-jobmanager and alpha-jobmanager in ${h.namespace} use the same ZooKeeper path`);
  const started = new Date();
  const remediate = await h.cli(['remediate', `${h.namespace}/beta`]);
  expect(remediate.code).toBe(1);
  expect(remediate.stderr).toContain(`needs a human: beta-jobmanager and alpha-jobmanager in ${h.namespace} use the same ZooKeeper path ${path}`);
  expect(remediate.stderr).toContain(forBeta);
  // Refused: no pod, Deployment or ConfigMap of either cluster touched (only flinkops' own memory and an event), no lock taken.
  const writes = kubeWrites(h.stack.state.kube.auditLog, started, new Date(), h.namespace);
  expect(writes.filter((w) => !(w.resource === 'events' || (w.resource === 'configmaps' && w.name?.startsWith('flinkops-remediation-'))))).toEqual([]);
  expect(writes.length).toBeGreaterThan(0);
  await deleteZooKeeperCluster(h, 'alpha');
  await deleteZooKeeperCluster(h, 'beta');
});

test('ZooKeeper stopped: doctor reports the lost quorum and its consequence, remediate takes no action; with ZooKeeper back Flink recovers by itself', async () => {
  const flink = perRequestConnectionClient(await serviceUrl(h.kube, h.namespace, 'zk-jobmanager'));
  await waitFor(async () => (await flink.listJobs()).some((j) => j.name === 'counter-zk' && j.state === 'RUNNING'), { timeoutMs: 120_000, description: 'counter-zk running' });
  const podsBefore = (await h.kube.core.listNamespacedPod({ namespace: h.namespace, labelSelector: jobManagerSelector('zk') })).items.map((p) => p.metadata!.uid);

  expect(await stopZooKeeper(dirs())).toBe(true);
  // Flink notices at once: without ZooKeeper no JobManager may lead, and the REST API says so.
  await waitFor(
    async () => {
      try {
        await flink.listJobs();
        return false;
      } catch (error) {
        return error instanceof FlinkRestError;
      }
    },
    { timeoutMs: 60_000, description: 'the REST API to stop answering for lack of a leader' },
  );
  const doctorStarted = Date.now();
  const doctor = await h.cli(['doctor', `${h.namespace}/zk`]);
  const doctorMs = Date.now() - doctorStarted;
  expect(doctor.code).toBe(5);
  expect(doctor.stdout).toMatch(new RegExp(`ZooKeeper ${h.stack.state.zookeeper.quorum} gives no session \\(${h.stack.state.zookeeper.quorum}: connection refused; asked within \\S+\\): its quorum is lost or it cannot be reached, and the JobManagers confirm it`));
  expect(doctor.stdout).toContain('every job of the cluster is suspended and none can be submitted, recovered or checkpointed until ZooKeeper serves again');
  expect(doctor.stdout).toContain('flinkops takes no action');
  expect(doctor.stdout).toMatch(/needs a human/);

  const started = new Date();
  const remediate = await h.cli(['remediate', `${h.namespace}/zk`, '--ha-recovery-timeout', '10s', '--jobmanager-timeout', '10s']);
  expect(remediate.code).toBe(1);
  expect(remediate.stderr).toMatch(/needs a human: ZooKeeper \S+ gives no session .* flinkops takes no action/);
  expect(kubeWrites(h.stack.state.kube.auditLog, started, new Date(), h.namespace).filter((w) => w.resource === 'pods' || w.resource === 'deployments' || w.resource === 'leases')).toEqual([]);
  const podsAfter = (await h.kube.core.listNamespacedPod({ namespace: h.namespace, labelSelector: jobManagerSelector('zk') })).items.map((p) => p.metadata!.uid);
  expect(podsAfter.sort()).toEqual(podsBefore.sort());
  console.log(`ZooKeeper stopped: doctor answered in ${doctorMs} ms (CLI, workflow and observation included)`);

  await startZooKeeper(dirs(), zooKeeperSpec(h.stack.config));
  await waitFor(async () => (await flink.listJobs()).some((j) => j.name === 'counter-zk' && j.state === 'RUNNING'), { timeoutMs: 180_000, intervalMs: 1_000, description: 'Flink to recover counter-zk once ZooKeeper is back' });
  await deleteZooKeeperCluster(h, 'zk');
});
