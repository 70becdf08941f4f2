import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { expandVariables, parseStandaloneJobArgs, planContainer, type ResourceReader } from '../kube/local-node/container-spec';
import { resolveImage } from '../kube/local-node/images';
import { PodNetwork } from '../kube/local-node/pod-network';
import { RestartBackoff } from '../kube/local-node/restart-backoff';

const reader = (configMaps: Record<string, Record<string, string>> = {}, secrets: Record<string, Record<string, string>> = {}): ResourceReader => ({
  configMap: (_ns, name) => Promise.resolve(configMaps[name]),
  secret: (_ns, name) => Promise.resolve(secrets[name]),
});

function pod(container: V1Container, volumes: V1Volume[] = []): V1Pod {
  return { metadata: { name: 'jm-0', namespace: 'flink', uid: 'u1' }, spec: { containers: [container], volumes } };
}

test('pod addresses map to loopback twins and are not handed out twice', () => {
  const network = new PodNetwork({ podPrefix: '10.245', loopbackPrefix: '127.245' });
  const a = network.allocate();
  const b = network.allocate();
  expect(a).not.toBe(b);
  expect(network.toLoopback(a)).toBe(a.replace(/^10\.245/, '127.245'));
  expect(network.toLoopback('192.168.1.1')).toBe('192.168.1.1');
  network.claim('10.245.0.4');
  expect([network.allocate(), network.allocate()]).not.toContain('10.245.0.4');
});

test('images resolve to local distributions; unknown ones cannot be pulled', () => {
  expect(resolveImage('flink:1.20')).toEqual({ flinkVersion: '1.20.5', userJars: [] });
  expect(resolveImage('docker.io/library/flink:2.2')).toMatchObject({ flinkVersion: '2.2.1' });
  expect(resolveImage('flink:9.9')).toMatchObject({ error: 'image "flink:9.9" not found in the local node\'s image table' });
  expect(resolveImage('Not An Image')).toMatchObject({ error: 'invalid image reference "Not An Image"' });
});

test('$(VAR) expansion follows Kubernetes: known variables replaced, unknown kept, $$ escapes', () => {
  expect(expandVariables('$(POD_IP):$(PORT) $(MISSING) $$(POD_IP)', { POD_IP: '127.245.0.2', PORT: '6123' })).toBe('127.245.0.2:6123 $(MISSING) $(POD_IP)');
});

test('standalone-job arguments: flinkops-relevant flags are parsed, the rest are job arguments', () => {
  expect(parseStandaloneJobArgs(['--job-classname', 'a.B', '--fromSavepoint=file:/sp/1', '--allowNonRestoredState', '--job-id', 'f'.repeat(32), '--output', '/x'])).toEqual({
    jobClassName: 'a.B',
    fromSavepoint: 'file:/sp/1',
    allowNonRestoredState: true,
    jobId: 'f'.repeat(32),
    jobArgs: ['--output', '/x'],
  });
});

test('configuration comes from the mounted ConfigMap, then FLINK_PROPERTIES; the downward API gives the pod address', async () => {
  const container: V1Container = {
    name: 'jobmanager',
    image: 'flink:1.20',
    args: ['jobmanager', '$(POD_IP)'],
    env: [
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'FLINK_PROPERTIES', value: 'rest.port: 9091\n' },
    ],
    volumeMounts: [{ name: 'conf', mountPath: '/opt/flink/conf' }],
  };
  const plan = await planContainer(
    pod(container, [{ name: 'conf', configMap: { name: 'flink-config' } }]),
    container,
    '127.245.0.9',
    reader({ 'flink-config': { 'config.yaml': 'rest.port: 8081\ntaskmanager.numberOfTaskSlots: 4\n' } }),
  );
  expect(plan.ok).toBe(true);
  if (!plan.ok) return;
  expect(plan.role).toEqual({ kind: 'session-jobmanager' });
  expect(plan.config['rest.port']).toBe('9091');
  expect(plan.config['taskmanager.numberOfTaskSlots']).toBe('4');
  expect(plan.config['jobmanager.rpc.address']).toBe('127.245.0.9');
});

test('containers that cannot run say why', async () => {
  const unknownImage = await planContainer(pod({ name: 'c', image: 'flink:0.1', args: ['jobmanager'] }), { name: 'c', image: 'flink:0.1', args: ['jobmanager'] }, '127.0.0.1', reader());
  expect(unknownImage).toMatchObject({ ok: false, reason: 'ErrImagePull' });
  const missingConfigMap = { name: 'c', image: 'flink:1.20', args: ['taskmanager'], envFrom: [{ configMapRef: { name: 'absent' } }] };
  expect(await planContainer(pod(missingConfigMap), missingConfigMap, '127.0.0.1', reader())).toMatchObject({ ok: false, reason: 'CreateContainerConfigError' });
  const shell = { name: 'c', image: 'flink:1.20', command: ['sh', '-c'], args: ['echo hi'] };
  expect(await planContainer(pod(shell), shell, '127.0.0.1', reader())).toMatchObject({ ok: false, reason: 'RunContainerError' });
});

test('container restarts back off like the kubelet: the first at once, then 10s doubling to 5m, reset after a quiet 10m', () => {
  const backoff = new RestartBackoff(10_000);
  let at = 0;
  const delays = [0, 1, 2, 3, 4, 5, 6, 7].map(() => {
    const delay = backoff.next(at);
    at += delay + 1_000; // the container fails a second after each start
    return delay;
  });
  expect(delays).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  // A single crash (a killed JobManager) is restarted at once: no CrashLoopBackOff for it.
  expect(backoff.next(at + 600_001)).toBe(0);
  expect(backoff.next(at + 600_002)).toBe(10_000);
});
