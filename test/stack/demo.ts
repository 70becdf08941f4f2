import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadStackConfig } from './config';
import { randomJobId, readCounters, waitForJobState, waitForRecordsAfter } from './fixture-jobs';
import { FIXTURE_MAIN_CLASSES, fixtureJar, firstCountByKey, latestCountByKey } from './fixtures';
import { applyObjects, renderManifest } from './kube/manifests';
import { kubeClients, perRequestConnectionClient, serviceUrl, sessionClusterVariables, waitForReadyPods } from './kube/helpers';
import { readStackState, stackEnvironment, stackUp, startWorkerDaemon } from './stack';
import { waitFor } from './wait';
import { isNotFound } from '../../activities/kube/clients';

/**
 * The README's first command (after setup): the local stack, a worker, a Bitnami-shaped Flink session cluster on the
 * local Kubernetes running the v1 fixture job, and then `flinkops upgrade` to v2 with live progress.
 */
const NAMESPACE = 'flink-demo';
const JOB = 'counter';

async function main(): Promise<void> {
  const config = loadStackConfig('demo');
  step('starting the local stack (Temporal, Flink, Kubernetes control plane, local node)');
  await stackUp(config);
  const state = readStackState(config);
  const env = { ...process.env, ...stackEnvironment(state) };
  startWorkerDaemon(config);
  const kube = kubeClients(state);

  step(`deploying a Flink session cluster into namespace ${NAMESPACE} (test/fixtures/k8s/session-cluster.yaml)`);
  await kube.core.readNamespace({ name: NAMESPACE }).catch(async (error: unknown) => {
    if (!isNotFound(error)) throw error;
    await kube.core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  });
  const dataDir = join(config.stackDir, 'data', 'demo');
  await applyObjects(kube.kc, renderManifest('session-cluster.yaml', sessionClusterVariables(NAMESPACE, dataDir, { TASK_SLOTS: 4 })), 'flinkops-demo');
  await waitForReadyPods(kube, NAMESPACE, 'app.kubernetes.io/component=jobmanager', 1, 180_000);
  const flink = perRequestConnectionClient(await serviceUrl(kube, NAMESPACE, 'flink-jobmanager'));
  await waitFor(async () => (await flink.overview())['slots-total'] >= 4, { timeoutMs: 120_000, description: 'the TaskManager' });

  const output = join(dataDir, 'counter.tsv');
  const args = ['--output', output, '--job-name', JOB];
  const running = (await flink.listJobs()).some((j) => j.name === JOB && j.state === 'RUNNING');
  let fromVersion: 'v1' | 'v2';
  if (running) {
    // A job left running by an earlier demo: the version it runs is the one that wrote last.
    fromVersion = readCounters(output).at(-1)?.version === 'v2' ? 'v2' : 'v1';
  } else {
    step('running the v1 fixture job (a keyed counter) on it');
    const earlierLines = readCounters(output).length;
    const jarId = await flink.uploadJar(fixtureJar('v1'));
    const jobId = await flink.runJar(jarId, { jobId: randomJobId(), entryClass: FIXTURE_MAIN_CLASSES.v1, programArgs: args });
    await waitForJobState(flink, jobId, 'RUNNING');
    await waitForRecordsAfter(output, earlierLines, 'v1', 20);
    fromVersion = 'v1';
  }
  const toVersion = fromVersion === 'v1' ? 'v2' : 'v1';
  const linesBefore = readCounters(output).length;

  step(`flinkops upgrade ${NAMESPACE}/flink --job ${JOB} --jar ${toVersion}.jar`);
  const cli = join(config.repoRoot, 'dist', 'client', 'cli.js');
  const upgrade = spawnSync(
    process.execPath,
    [cli, 'upgrade', `${NAMESPACE}/flink`, '--job', JOB, '--jar', fixtureJar(toVersion), '--from-jar', fixtureJar(fromVersion), ...args.flatMap((a) => ['--from-arg', a]), '--stability-window', '10s'],
    { env, stdio: 'inherit' },
  );
  if (upgrade.status !== 0) throw new Error(`the upgrade failed (exit ${upgrade.status})`);

  const records = await waitForRecordsAfter(output, linesBefore, toVersion, 8);
  // The output file keeps every earlier demo's lines too: the old job's last lines are the latest of its version.
  const before = latestCountByKey(records, fromVersion);
  const after = firstCountByKey(records.slice(linesBefore), toVersion);
  step('state continued (per-key counters from the job\'s own output):');
  for (const [key, count] of before) console.log(`  key ${key}: last ${fromVersion} count ${count} -> first ${toVersion} count ${after.get(key)}`);
  spawnSync(process.execPath, [cli, 'status', `${NAMESPACE}/flink`, '--job', JOB], { env, stdio: 'inherit' });
}

function step(message: string): void {
  console.log(`\n== ${message}`);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
