import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiscoveryV1Api } from '@kubernetes/client-node';
import { FlinkRestError } from '../../activities/flink/rest-client';
import { firstCountByKey, fixtureJar, lastCountByKey } from '../stack/fixtures';
import { waitFor } from '../stack/wait';
import { fixtureArgs, randomJobId, readCounters, submitFixtureJob, waitForJobState, waitForRecords } from '../stack/fixture-jobs';
import {
  applyManifest,
  createNamespace,
  deleteNamespace,
  kubeClients,
  perRequestConnectionClient,
  serviceUrl,
  sessionClusterVariables,
  waitForReadyPods,
} from '../stack/kube/helpers';
import { testStack } from '../support/stack';

// The real control plane (etcd, kube-apiserver, kube-controller-manager) with the local node running pods as
// Flink processes: what flinkops' Kubernetes-facing activities are tested against.
const stack = testStack();
const kube = kubeClients(stack.state);
const namespaces: string[] = [];

async function namespace(prefix: string): Promise<string> {
  const name = await createNamespace(kube, prefix);
  namespaces.push(name);
  return name;
}

afterAll(async () => {
  await Promise.all(namespaces.map((ns) => deleteNamespace(kube, ns)));
});

const JOBMANAGER = 'app.kubernetes.io/component=jobmanager';
const TASKMANAGER = 'app.kubernetes.io/component=taskmanager';

test('the session-cluster manifests give Running, Ready pods and a Flink REST API behind the Service', async () => {
  const ns = await namespace('session');
  await applyManifest(kube, 'session-cluster.yaml', sessionClusterVariables(ns, stack.tempDir('session')));
  const [jobManager] = await waitForReadyPods(kube, ns, JOBMANAGER, 1);
  await waitForReadyPods(kube, ns, TASKMANAGER, 1);

  expect(jobManager!.status?.podIP).toMatch(new RegExp(`^${stack.state.kube.podNetwork.podPrefix.replace('.', '\\.')}\\.`));
  const slices = await kube.kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: ns, labelSelector: 'kubernetes.io/service-name=flink-jobmanager' });
  expect(slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses))).toEqual([jobManager!.status!.podIP]);

  const flink = perRequestConnectionClient(await serviceUrl(kube, ns, 'flink-jobmanager'));
  // A TaskManager registers first and reports its slots a moment later.
  const overview = await waitFor(async () => {
    const o = await flink.overview();
    return o.taskmanagers === 1 && o['slots-total'] > 0 ? o : undefined;
  }, { timeoutMs: 60_000, description: 'the TaskManager and its slots to register' });
  expect(overview['slots-total']).toBe(4);
  expect(overview['flink-version']).toBe('1.20.5');

  const deployment = await kube.apps.readNamespacedDeployment({ name: 'flink-jobmanager', namespace: ns });
  expect(deployment.status?.readyReplicas).toBe(1);
});

test('two JobManagers without HA behind one Service lose track of a submitted job (the Bitnami replicaCount failure)', async () => {
  const ns = await namespace('twojm');
  const dataDir = stack.tempDir('twojm');
  await applyManifest(kube, 'session-cluster.yaml', sessionClusterVariables(ns, dataDir, { JOBMANAGER_REPLICAS: 2, TASKMANAGER_REPLICAS: 2 }));
  await waitForReadyPods(kube, ns, JOBMANAGER, 2);
  await waitForReadyPods(kube, ns, TASKMANAGER, 2);
  const flink = perRequestConnectionClient(await serviceUrl(kube, ns, 'flink-jobmanager'));

  // Upload and run are two requests; the proxy alternates between the JobManagers, so the run may land on the
  // JobManager that never saw the jar. Retrying moves it to the other one.
  const jobId = randomJobId();
  const jarId = await flink.uploadJar(fixtureJar('v1'));
  await waitFor(
    async () => {
      try {
        await flink.runJar(jarId, { jobId, programArgs: fixtureArgs({ output: join(dataDir, 'out.tsv') }) });
        return true;
      } catch (error) {
        if (!(error instanceof FlinkRestError) || !error.flinkErrors.some((e) => /Jar file .* does not exist/.test(e))) throw error;
        return false;
      }
    },
    { timeoutMs: 60_000, description: 'a submission through the Service to reach the JobManager holding the jar' },
  );

  const answers = { found: 0, notFound: 0 };
  for (let i = 0; i < 20; i++) {
    try {
      await flink.jobDetails(jobId);
      answers.found++;
    } catch (error) {
      if (!(error instanceof FlinkRestError) || !error.isNotFound) throw error;
      answers.notFound++;
    }
  }
  expect(answers.found).toBeGreaterThan(0);
  expect(answers.notFound).toBeGreaterThan(0);
});

test('with Kubernetes HA, deleting the leading JobManager pod elects a new leader and the job continues with its state', async () => {
  const ns = await namespace('ha');
  const dataDir = stack.tempDir('ha');
  const output = join(dataDir, 'out.tsv');
  await applyManifest(kube, 'session-cluster-ha.yaml', sessionClusterVariables(ns, dataDir));
  const [leader] = await waitForReadyPods(kube, ns, JOBMANAGER, 1);
  await waitForReadyPods(kube, ns, TASKMANAGER, 1);
  const flink = perRequestConnectionClient(await serviceUrl(kube, ns, 'flink-jobmanager'));
  await waitFor(async () => (await flink.overview())['slots-total'] === 4, { timeoutMs: 60_000, description: 'slots' });

  const leaderAnnotation = async () => {
    const configMap = await kube.core.readNamespacedConfigMap({ name: 'flink-cluster-config-map', namespace: ns });
    return configMap.metadata?.annotations?.['control-plane.alpha.kubernetes.io/leader'];
  };
  const holder = (annotation: string | undefined) => (annotation ? (JSON.parse(annotation) as { holderIdentity: string }).holderIdentity : undefined);
  const firstLeader = holder(await waitFor(leaderAnnotation, { timeoutMs: 30_000, description: 'the HA leader annotation' }));

  const jobId = randomJobId();
  await submitFixtureJob(flink, 'v1', { output, jobId });
  await waitForRecords(output, 'v1', 40);
  await waitFor(async () => ((await flink.checkpoints(jobId)).counts.completed >= 2 ? true : undefined), {
    timeoutMs: 60_000,
    description: 'two completed checkpoints',
  });

  await kube.core.deleteNamespacedPod({ name: leader!.metadata!.name!, namespace: ns });
  const [replacement] = await waitFor(
    async () => {
      const pods = await waitForReadyPods(kube, ns, JOBMANAGER, 1, 5_000).catch(() => undefined);
      return pods && pods[0]!.metadata!.uid !== leader!.metadata!.uid ? pods : undefined;
    },
    { timeoutMs: 120_000, description: 'a new JobManager pod' },
  );
  const newLeader = await waitFor(async () => {
    const h = holder(await leaderAnnotation());
    return h && h !== firstLeader ? h : undefined;
  }, { timeoutMs: 120_000, description: 'a new leader in the HA ConfigMap' });
  expect(newLeader).not.toBe(firstLeader);
  expect(replacement!.metadata!.name).not.toBe(leader!.metadata!.name);

  const linesBefore = readCounters(output).length;
  await waitForJobState(flink, jobId, 'RUNNING', 120_000);
  const restored = await waitFor(async () => (await flink.checkpoints(jobId)).latest.restored ?? undefined, {
    timeoutMs: 60_000,
    description: 'the job to report its restore',
  });
  expect(restored.is_savepoint).toBe(false);
  await waitFor(() => readCounters(output).length > linesBefore + 20, { timeoutMs: 60_000, description: 'new output after the failover' });
  const after = readCounters(output).slice(linesBefore);
  // Restored from a checkpoint: counters go on from there; a job restarted from scratch would count from 1 again.
  expect(Math.min(...after.map((r) => r.count))).toBeGreaterThan(1);
});

test("changing the application-mode Deployment's image from fixture-job:v1 to v2 rolls out through the controllers", async () => {
  const ns = await namespace('app');
  const dataDir = stack.tempDir('app');
  const output = join(dataDir, 'out.tsv');
  const jobId = randomJobId();
  await applyManifest(kube, 'application-cluster.yaml', { NAME: 'app', NAMESPACE: ns, IMAGE: 'fixture-job:v1', DATA_DIR: dataDir, OUTPUT: output, JOB_ID: jobId });
  await waitForReadyPods(kube, ns, JOBMANAGER, 1);
  await waitForRecords(output, 'v1', 10, 120_000);
  const before = await kube.apps.readNamespacedDeployment({ name: 'app-jobmanager', namespace: ns });

  for (const name of ['app-jobmanager', 'app-taskmanager']) {
    const deployment = await kube.apps.readNamespacedDeployment({ name, namespace: ns });
    deployment.spec!.template.spec!.containers[0]!.image = 'fixture-job:v2';
    await kube.apps.replaceNamespacedDeployment({ name, namespace: ns, body: deployment });
  }
  const rolledOut = await waitFor(
    async () => {
      const d = await kube.apps.readNamespacedDeployment({ name: 'app-jobmanager', namespace: ns });
      const done =
        (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
        d.status?.updatedReplicas === 1 &&
        d.status?.readyReplicas === 1 &&
        (d.status?.replicas ?? 0) === 1;
      return done ? d : undefined;
    },
    { timeoutMs: 180_000, description: 'the JobManager Deployment rollout' },
  );
  expect(rolledOut.metadata!.generation).toBeGreaterThan(before.metadata!.generation!);
  const replicaSets = await kube.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: JOBMANAGER });
  expect(replicaSets.items.map((rs) => rs.spec?.template?.spec?.containers[0]?.image).sort()).toEqual(['fixture-job:v1', 'fixture-job:v2']);

  const records = await waitForRecords(output, 'v2', 10, 180_000);
  expect(lastCountByKey(records, 'v1').size).toBe(4);
  // No savepoint was involved: the new version starts from scratch.
  expect([...firstCountByKey(records, 'v2').values()].every((c) => c === 1)).toBe(true);
});

test('a JobManager that cannot start is reported like the kubelet does: exit code, restart count, CrashLoopBackOff', async () => {
  const ns = await namespace('crash');
  await kube.apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'broken-jobmanager', labels: { 'app.kubernetes.io/component': 'jobmanager' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'broken' } },
        template: {
          metadata: { labels: { app: 'broken' } },
          spec: {
            containers: [
              {
                name: 'jobmanager',
                image: 'flink:1.20',
                args: ['jobmanager'],
                // Less total memory than the JVM metaspace alone: Flink refuses to start.
                env: [{ name: 'FLINK_PROPERTIES', value: 'jobmanager.memory.process.size: 100m\n' }],
              },
            ],
          },
        },
      },
    },
  });
  const pod = await waitFor(
    async () => {
      const [p] = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=broken' })).items;
      const status = p?.status?.containerStatuses?.[0];
      return status && status.restartCount >= 1 && status.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    },
    { timeoutMs: 90_000, description: 'the pod to be in CrashLoopBackOff' },
  );
  const status = pod.status!.containerStatuses![0]!;
  expect(status.lastState?.terminated?.exitCode).toBe(1);
  expect(status.lastState?.terminated?.reason).toBe('Error');
  expect(status.ready).toBe(false);
  expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
});

test('authentication and RBAC are enforced: anonymous requests and unbound service accounts are refused', async () => {
  const ns = await namespace('rbac');
  await kube.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'nobody' } } });
  const token = (await kube.core.createNamespacedServiceAccountToken({ name: 'nobody', namespace: ns, body: { spec: { audiences: [] } } })).status!.token;
  const asNobody = await kubeRequest(`/api/v1/namespaces/${ns}/pods`, token);
  expect(asNobody.status).toBe(403);
  expect(asNobody.body).toContain(`system:serviceaccount:${ns}:nobody`);
  const anonymous = await kubeRequest(`/api/v1/namespaces/${ns}/pods`, undefined);
  expect([401, 403]).toContain(anonymous.status);
  const asAdmin = await kube.core.listNamespacedPod({ namespace: ns });
  expect(asAdmin.items).toEqual([]);
});

async function kubeRequest(path: string, token: string | undefined): Promise<{ status: number; body: string }> {
  const { request } = await import('node:https');
  const ca = readFileSync(kube.kc.getCurrentCluster()!.caFile!);
  return new Promise((resolve, reject) => {
    const req = request(`${stack.state.kube.server}${path}`, { ca, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
