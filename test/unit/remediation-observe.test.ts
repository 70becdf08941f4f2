import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retainedCheckpoints } from '../../activities/remediation/checkpoints';
import { loadWorkerSettings } from '../../config/load';
import { describeWorkerSettings, workerSecrets } from '../../config/worker';
import { highAvailabilityOf, parseFlinkConfig, parseFlinkDuration } from '../../activities/remediation/flink-config';
import { jobReleaseStatus, type JobReleaseObservation } from '../../activities/remediation/job-release';
import { prune } from '../../activities/remediation/memory';
import { recoveryStatus } from '../../activities/remediation/recovery';
import type { ClusterHealthSnapshot, JobManagerPodSnapshot } from '../../workflows/model/cluster-health';

describe('Flink configuration as Kubernetes has it', () => {
  test('flat keys (flink-conf.yaml, FLINK_PROPERTIES) and nested YAML (config.yaml) give the same dotted keys', () => {
    const flat = parseFlinkConfig('high-availability.type: kubernetes\nkubernetes.cluster-id: orders\n# a comment\nrest.port: 8081\nhigh-availability.kubernetes.leader-election.lease-duration: 6 s\n');
    const nested = parseFlinkConfig('high-availability:\n  type: kubernetes\nkubernetes:\n  cluster-id: orders\nrest:\n  port: 8081\n');
    expect(flat).toMatchObject({ 'high-availability.type': 'kubernetes', 'kubernetes.cluster-id': 'orders', 'rest.port': '8081' });
    expect(nested).toMatchObject({ 'high-availability.type': 'kubernetes', 'kubernetes.cluster-id': 'orders', 'rest.port': '8081' });
    // Not YAML at all (a legacy file with a stray line) still yields its key: value lines.
    expect(parseFlinkConfig('a.b: "x"\n: broken: [\nc: 1')).toMatchObject({ 'a.b': 'x', c: '1' });
  });

  test('the HA mode from high-availability.type or the older high-availability key', () => {
    expect(highAvailabilityOf({})).toEqual({ mode: 'none', configured: undefined });
    expect(highAvailabilityOf({ 'high-availability': 'NONE' }).mode).toBe('none');
    expect(highAvailabilityOf({ 'high-availability.type': 'kubernetes' }).mode).toBe('kubernetes');
    expect(highAvailabilityOf({ 'high-availability': 'org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory' }).mode).toBe('kubernetes');
    expect(highAvailabilityOf({ 'high-availability.type': 'zookeeper' }).mode).toBe('zookeeper');
    expect(highAvailabilityOf({ 'high-availability.type': 'com.example.MyHaFactory' }).mode).toBe('other');
  });

  test("Flink's duration syntax", () => {
    expect(parseFlinkDuration('6 s')).toBe(6_000);
    expect(parseFlinkDuration('15s')).toBe(15_000);
    expect(parseFlinkDuration('1 min')).toBe(60_000);
    expect(parseFlinkDuration('500')).toBe(500);
    expect(parseFlinkDuration('soon')).toBeUndefined();
    expect(parseFlinkDuration(undefined)).toBeUndefined();
  });
});

describe('retained checkpoints on a file system the worker reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flinkops-checkpoints-'));
  const jobId = 'b'.repeat(32);
  const checkpoint = (id: number, completed: boolean, mtimeSeconds: number) => {
    const path = join(dir, jobId, `chk-${id}`);
    mkdirSync(path, { recursive: true });
    if (completed) {
      writeFileSync(join(path, '_metadata'), 'x');
      utimesSync(join(path, '_metadata'), mtimeSeconds, mtimeSeconds);
    }
  };
  checkpoint(3, true, 1_000);
  checkpoint(4, true, 2_000);
  checkpoint(5, false, 0); // in progress when the JobManager died
  mkdirSync(join(dir, jobId, 'shared'), { recursive: true });

  test('newest completed first, incomplete ones skipped, as file:// locations with their completion time', async () => {
    const { candidates, problem } = await retainedCheckpoints(`file://${dir}`, jobId);
    expect(problem).toBeUndefined();
    expect(candidates).toEqual([
      { path: `file://${dir}/${jobId}/chk-4`, source: 'checkpoint', at: 2_000_000, checkpointId: 4 },
      { path: `file://${dir}/${jobId}/chk-3`, source: 'checkpoint', at: 1_000_000, checkpointId: 3 },
    ]);
  });

  test('says why there are none', async () => {
    expect((await retainedCheckpoints(`file://${dir}`, 'c'.repeat(32))).problem).toMatch(/no checkpoints of job c{32}/);
    expect((await retainedCheckpoints('s3://bucket/checkpoints', jobId)).problem).toMatch(/not on a file system the worker reads/);
  });
});

describe('whether a cluster has recovered', () => {
  const NOW = 1_000_000;
  const pod = (overrides: Partial<JobManagerPodSnapshot> = {}): JobManagerPodSnapshot => ({
    name: 'jm-1',
    uid: 'u1',
    phase: 'Running',
    ready: true,
    terminating: false,
    createdAt: 0,
    restartCount: 0,
    ...overrides,
  });
  const snapshot = (overrides: Partial<ClusterHealthSnapshot> = {}): ClusterHealthSnapshot => ({
    cluster: { namespace: 'n', name: 'c' },
    observedAt: NOW,
    jobManager: { name: 'c-jobmanager', replicas: 1, readyReplicas: 1, image: 'flink:1.20' },
    pods: [pod()],
    taskManagerReplicas: 1,
    ha: { mode: 'kubernetes', source: 'rest', leaseDurationMs: 6_000, leader: { configMap: 'c-cluster-config-map', exists: true, holderIdentity: 'l', renewTime: NOW - 2_000 } },
    rest: { reachable: true, jobs: [{ id: 'j', name: 'job', state: 'RUNNING', tasksRunning: 2, tasksTotal: 2 }] },
    knownJobs: [],
    memory: { remediations: [], podDeletions: [] },
    ...overrides,
  });

  test('recovered: the desired pods ready, REST answering, a fresh leader, the jobs running', () => {
    expect(recoveryStatus(snapshot(), { jobIds: ['j'], leader: true })).toEqual({ recovered: true, detail: '1 JobManager pod(s) ready, REST answering, leader l, 1 job(s) RUNNING' });
  });

  test('not yet, with what is missing', () => {
    expect(recoveryStatus(snapshot({ pods: [pod({ terminating: true }), pod({ name: 'jm-2', ready: false })] }), { jobIds: [], leader: false }).detail).toBe('0/1 JobManager pod(s) ready, 1 terminating');
    expect(recoveryStatus(snapshot({ pods: [pod(), pod({ name: 'jm-2' })] }), { jobIds: [], leader: false }).recovered).toBe(false);
    expect(recoveryStatus(snapshot({ rest: { reachable: false, error: 'ECONNREFUSED', jobs: [] } }), { jobIds: [], leader: false }).detail).toMatch(/REST API not answering yet \(ECONNREFUSED\)/);
    expect(recoveryStatus(snapshot({ ha: { ...snapshot().ha, leader: { configMap: 'x', exists: true, holderIdentity: 'l', renewTime: NOW - 30_000 } } }), { jobIds: [], leader: true }).detail).toMatch(/last renewed 30s ago/);
    const restarting = snapshot({ rest: { reachable: true, jobs: [{ id: 'j', name: 'job', state: 'RUNNING', tasksRunning: 1, tasksTotal: 2 }] } });
    expect(recoveryStatus(restarting, { jobIds: ['j'], leader: false }).detail).toBe('job j is RUNNING, 1/2 tasks running');
  });

  test('a stuck pod ends the wait at once', () => {
    const status = recoveryStatus(snapshot({ pods: [pod({ ready: false, waitingReason: 'CrashLoopBackOff', restartCount: 3 })] }), { jobIds: [], leader: false });
    expect(status).toMatchObject({ recovered: false, stuck: 'JobManager pod jm-1 is CrashLoopBackOff (3 restarts)' });
  });
});

describe('whether the TaskManagers have let go of a lost job', () => {
  const LOST = 'a'.repeat(32);
  const OTHER = 'b'.repeat(32);
  const observation = (overrides: Partial<JobReleaseObservation> = {}): JobReleaseObservation => ({
    readyTaskManagerPods: 2,
    taskManagers: [
      { id: 'tm-1', jobIds: [OTHER] },
      { id: 'tm-2', jobIds: [] },
    ],
    jobKnown: false,
    ...overrides,
  });

  test('every ready TaskManager registered and none holding the job: released', () => {
    expect(jobReleaseStatus(LOST, observation())).toEqual({ released: true, detail: `2 TaskManager(s) registered, none holds job ${LOST}` });
  });

  test('a TaskManager still holding a slot of the job: not yet', () => {
    const holding = observation({ taskManagers: [{ id: 'tm-1', jobIds: [OTHER, LOST] }, { id: 'tm-2', jobIds: [] }] });
    expect(jobReleaseStatus(LOST, holding)).toEqual({ released: false, detail: `TaskManager(s) tm-1 still hold slots of job ${LOST}` });
  });

  test('a ready TaskManager not registered yet may still hold the job: not yet, and never with no TaskManager at all', () => {
    expect(jobReleaseStatus(LOST, observation({ taskManagers: [{ id: 'tm-1', jobIds: [] }] }))).toEqual({ released: false, detail: '1/2 TaskManager(s) registered with the JobManager' });
    expect(jobReleaseStatus(LOST, observation({ readyTaskManagerPods: 0, taskManagers: [] }))).toEqual({ released: false, detail: '0/1 TaskManager(s) registered with the JobManager' });
  });

  test('the JobManager has the job already (an earlier attempt submitted it): nothing to wait for, even for its own slots', () => {
    const submitted = observation({ jobKnown: true, taskManagers: [{ id: 'tm-1', jobIds: [LOST] }] });
    expect(jobReleaseStatus(LOST, submitted).released).toBe(true);
  });
});

test('remediation memory keeps a day of entries and the last escalation', () => {
  const day = 24 * 3_600_000;
  const pruned = prune(
    {
      remediations: [{ at: 0, workflowId: 'old' }, { at: day + 10, workflowId: 'new' }],
      podDeletions: [{ at: 5, pod: 'p', workflowId: 'old' }],
      lastEscalation: { at: 0, fingerprint: 'f', workflowId: 'old' },
    },
    day + 100,
  );
  expect(pruned.remediations.map((r) => r.workflowId)).toEqual(['new']);
  expect(pruned.podDeletions).toEqual([]);
  expect(pruned.lastEscalation?.fingerprint).toBe('f');
});

describe('the escalation webhook setting', () => {
  test('is a secret: read from the environment or a file, redacted wherever settings are shown', () => {
    const url = 'https://hooks.example.com/flinkops?token=abcdef123456';
    const settings = loadWorkerSettings({ env: { FLINKOPS_ESCALATION_WEBHOOK_URL: url } });
    expect(settings.remediation.escalationWebhookUrl?.reveal()).toBe(url);
    expect(JSON.stringify(describeWorkerSettings(settings))).not.toContain('abcdef123456');
    expect(describeWorkerSettings(settings).remediation).toEqual({ escalationWebhook: '[redacted] from env FLINKOPS_ESCALATION_WEBHOOK_URL' });
    expect(workerSecrets(settings).map((s) => s.reveal())).toContain(url);
    expect(loadWorkerSettings({ env: {} }).remediation.escalationWebhookUrl).toBeUndefined();
  });

  test('must be an http(s) URL; the error names the field and the variable, never the value', () => {
    expect(() => loadWorkerSettings({ env: { FLINKOPS_ESCALATION_WEBHOOK_URL: 'ftp://example.com/secret-token-x' } })).toThrow(
      'config: remediation.escalationWebhookUrl (from FLINKOPS_ESCALATION_WEBHOOK_URL): must be an http(s) URL',
    );
    let message = '';
    try {
      loadWorkerSettings({ env: { FLINKOPS_ESCALATION_WEBHOOK_URL: 'not a url secret-token-x' } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/remediation\.escalationWebhookUrl .*must be an http\(s\) URL/);
    expect(message).not.toContain('secret-token-x');
  });
});
