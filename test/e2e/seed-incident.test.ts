import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { FlinkRestClient } from '../../activities/flink/rest-client';
import type { RemediationResult } from '../../workflows/remediation/workflow';
import { submitFixtureJob } from '../stack/fixture-jobs';
import { applyManifest, perRequestConnectionClient, serviceUrl, sessionClusterVariables, waitForReadyPods } from '../stack/kube/helpers';
import { waitFor } from '../stack/wait';
import { OperationHarness } from '../support/upgrade-harness';

// The seed incident, with the jobs placed: two JobManagers without HA each run their own jobs. A scale-down to one
// lets the ReplicaSet remove the newer pod; when that is the one running the jobs, they are gone. flinkops asks each
// JobManager pod for its jobs first, keeps the one that runs them, and refuses when a job it cannot bring back would go.
// No TaskManager runs here, so the jobs stay scheduled (not finished) whichever JobManager has them.
const h = new OperationHarness('seed');
beforeAll(() => h.setUp());
afterAll(() => h.tearDown());

const selector = (name: string) => `app.kubernetes.io/instance=${name},app.kubernetes.io/component=jobmanager`;

/** Two JobManagers, oldest first; a REST client for each pod's own address (its loopback twin on the local node). */
async function splitCluster(name: string): Promise<{ pods: V1Pod[]; direct: (pod: V1Pod) => FlinkRestClient }> {
  await applyManifest(h.kube, 'session-cluster.yaml', sessionClusterVariables(h.namespace, join(h.dataDir, name), { NAME: name, JOBMANAGER_REPLICAS: 2, TASKMANAGER_REPLICAS: 0 }));
  const pods = (await waitForReadyPods(h.kube, h.namespace, selector(name), 2)).sort((a, b) => Date.parse(String(a.metadata!.creationTimestamp)) - Date.parse(String(b.metadata!.creationTimestamp)) || a.metadata!.name!.localeCompare(b.metadata!.name!));
  const { podPrefix, loopbackPrefix } = h.stack.state.kube.podNetwork;
  const direct = (pod: V1Pod) => new FlinkRestClient({ baseUrl: `http://${pod.status!.podIP!.replace(`${podPrefix}.`, `${loopbackPrefix}.`)}:8081` });
  return { pods, direct };
}

async function submit(client: FlinkRestClient, jobName: string): Promise<string> {
  const jobId = await submitFixtureJob(client, 'v1', { output: join(h.dataDir, `${jobName}.tsv`), jobName });
  await waitFor(async () => (await client.listJobs()).some((j) => j.jid === jobId), { timeoutMs: 30_000, description: `${jobName} on its JobManager` });
  return jobId;
}

test('the job runs on the newer JobManager, which a plain scale-down would remove: flinkops keeps that one, and the job', async () => {
  const { pods, direct } = await splitCluster('seed');
  const [older, newer] = pods as [V1Pod, V1Pod];
  const jobId = await submit(direct(newer), 'orders');

  const doctor = await h.cli(['doctor', `${h.namespace}/seed`]);
  expect(doctor.code).toBe(5);
  expect(doctor.stdout).toContain(`${older.metadata!.name} runs no job; ${newer.metadata!.name} runs orders (${jobId})`);
  expect(doctor.stdout).toContain(`keeping pod ${newer.metadata!.name} (it runs the jobs)`);

  const result = await h.cli(['remediate', `${h.namespace}/seed`, '--json', '--verify-timeout', '20s', '--jobmanager-timeout', '90s', '--ha-recovery-timeout', '10s']);
  const remediation = JSON.parse(result.stdout) as RemediationResult;
  expect(remediation.actions.map((a) => a.kind)).toContain('scale-jobmanager');
  await waitFor(async () => (await h.kube.core.listNamespacedPod({ namespace: h.namespace, labelSelector: selector('seed') })).items.length === 1, { timeoutMs: 60_000, description: 'one JobManager pod left' });
  const [left] = (await h.kube.core.listNamespacedPod({ namespace: h.namespace, labelSelector: selector('seed') })).items;
  expect(left!.metadata!.name).toBe(newer.metadata!.name);
  const service = perRequestConnectionClient(await serviceUrl(h.kube, h.namespace, 'seed-jobmanager'));
  expect((await service.listJobs()).map((j) => j.jid)).toContain(jobId);
  // Nothing runs its tasks (no TaskManager), so the run did not call the cluster healthy.
  expect(remediation.outcome).not.toBe('healthy');
}, 300_000);

test('jobs on both JobManagers and one flinkops cannot bring back: doctor names it, remediate refuses and changes nothing', async () => {
  const { pods, direct } = await splitCluster('seed2');
  const [older, newer] = pods as [V1Pod, V1Pod];
  const kept = await submit(direct(older), 'payments');
  const atRisk = await submit(direct(newer), 'fraud');

  const doctor = await h.cli(['doctor', `${h.namespace}/seed2`]);
  expect(doctor.code).toBe(5);
  expect(doctor.stdout).toMatch(new RegExp(`would take 1 job\\(s\\) flinkops cannot bring back: fraud \\(${atRisk}\\) on ${newer.metadata!.name}: flinkops does not know its jar`));

  const result = await h.cli(['remediate', `${h.namespace}/seed2`]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/needs a human: .*fraud/);
  expect((await h.kube.apps.readNamespacedDeployment({ name: 'seed2-jobmanager', namespace: h.namespace })).spec?.replicas).toBe(2);
  expect((await direct(older).listJobs()).map((j) => j.jid)).toContain(kept);
  expect((await direct(newer).listJobs()).map((j) => j.jid)).toContain(atRisk);
}, 300_000);
