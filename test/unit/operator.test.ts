import { checkJarUri } from '../../activities/policy';
import type { FlinkResource } from '../../activities/kube/flink-resources';
import { operatorError, reconciledGeneration, upgradeSavepointOf } from '../../activities/kube/flink-resources';
import { operatorUpgradeChecks } from '../../activities/targets/operator/preflight';
import type { OperatorResource } from '../../activities/targets/operator/resolve';
import { nonceOf, OperatorTarget } from '../../activities/targets/operator/target';
import type { TargetDeps, TargetEndpoint } from '../../activities/targets/seam';
import type { ClusterHealthSnapshot } from '../../workflows/model/cluster-health';
import { RemediationLimitsSchema } from '../../workflows/remediation/request';
import { diagnose } from '../../workflows/remediation/diagnose';

// Operator resources: what flinkops requires before it changes one, and how it reads the operator's status.
function resource(overrides: { status?: FlinkResource['status']; generation?: number; job?: Record<string, unknown>; config?: Record<string, string> } = {}): FlinkResource {
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkSessionJob',
    metadata: { name: 'counter', namespace: 'flink', generation: overrides.generation ?? 3 },
    spec: { deploymentName: 'session', job: { jarURI: 'file:///jars/v1.jar', upgradeMode: 'savepoint', state: 'running', ...overrides.job }, flinkConfiguration: overrides.config },
    status: overrides.status ?? {
      lifecycleState: 'STABLE',
      jobStatus: { jobId: 'a'.repeat(32), state: 'RUNNING' },
      reconciliationStatus: { state: 'DEPLOYED', lastReconciledSpec: { resource_metadata: { metadata: { generation: 3 } } } },
    },
  };
}

function found(sessionJob: FlinkResource, config: Record<string, string> = { 'state.savepoints.dir': 'file:///data/savepoints' }): OperatorResource {
  const deployment = { ...resource(), kind: 'FlinkDeployment', metadata: { name: 'session', namespace: 'flink' }, spec: { flinkConfiguration: config } };
  return { kind: 'operator-session-job', ref: { namespace: 'flink', name: 'counter' }, id: { namespace: 'flink', name: 'counter' }, resource: sessionJob, deployment };
}

describe('operator preflight', () => {
  test('a reconciled, stable resource with a savepoint directory passes', () => {
    const { checks } = operatorUpgradeChecks(found(resource()), { config: {}, mode: 'savepoint' });
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks[0]!.detail).toMatch(/reconciled \(generation 3\), STABLE, job RUNNING/);
  });

  test.each([
    ['not reconciled: the operator is down or not watching', resource({ generation: 4 }), {}, /has not reconciled FlinkSessionJob flink\/counter \(generation 4, last reconciled 3\): is it running and watching flink\?/],
    ['an error the operator reports', resource({ status: { lifecycleState: 'UPGRADING', error: JSON.stringify({ type: 'org.apache.flink.kubernetes.operator.exception.ReconciliationException', message: 'java.io.FileNotFoundException: /jars/x.jar' }) } }), {}, /reports an error on FlinkSessionJob flink\/counter: ReconciliationException: java\.io\.FileNotFoundException/],
    ['still upgrading', resource({ status: { lifecycleState: 'UPGRADING', reconciliationStatus: { lastReconciledSpec: { resource_metadata: { metadata: { generation: 3 } } } } } }), {}, /is UPGRADING, not STABLE/],
    ['suspended', resource({ job: { state: 'suspended' } }), {}, /is suspended/],
    ['another savepoint directory', resource(), { savepointDir: 's3://elsewhere' }, /--savepoint-dir: the operator writes savepoints to file:\/\/\/data\/savepoints/],
    ['last-state', resource(), { mode: 'last-state' }, /--mode last-state is not offered for operator resources/],
  ])('refuses: %s', (_name, sessionJob, facts, reason) => {
    const { checks } = operatorUpgradeChecks(found(sessionJob), { config: {}, mode: 'savepoint', ...facts } as never);
    expect(checks.find((c) => !c.ok)?.detail).toMatch(reason);
  });

  test('no savepoint directory configured: refused unless stateless', () => {
    expect(operatorUpgradeChecks(found(resource(), {}), { config: {}, mode: 'savepoint' }).checks.at(-1)).toMatchObject({ ok: false, detail: expect.stringMatching(/configures no savepoint directory/) as unknown });
    expect(operatorUpgradeChecks(found(resource(), {}), { config: {}, mode: 'stateless' }).checks.every((c) => c.ok)).toBe(true);
  });

  test('the generation the operator reconciled and its error come out of its status', () => {
    expect(reconciledGeneration(resource())).toBe(3);
    expect(reconciledGeneration(resource({ status: {} }))).toBeUndefined();
    expect(operatorError(resource({ status: { error: 'not json' } }))).toBe('not json');
  });

  test("the stop's savepoint is the operator's UPGRADE savepoint, not the checkpoint it reports as lastSavepoint once the job is terminal", () => {
    // As operator 1.7.0 reported a suspended FlinkSessionJob on the local stack.
    const status = {
      jobStatus: {
        state: 'FINISHED',
        savepointInfo: {
          lastSavepoint: { formatType: 'UNKNOWN', location: 'file:/ck/337f/chk-2', timeStamp: 1_796_249_663_960, triggerType: 'UNKNOWN' },
          savepointHistory: [
            { formatType: 'UNKNOWN', location: 'file:/sp/savepoint-337f0c-6826fd007904', timeStamp: 1_796_249_667_060, triggerType: 'UPGRADE' },
            { formatType: 'UNKNOWN', location: 'file:/ck/337f/chk-2', timeStamp: 1_796_249_663_960, triggerType: 'UNKNOWN' },
          ],
        },
      },
    };
    expect(upgradeSavepointOf(resource({ status }), 1_796_249_660_000)).toBe('file:/sp/savepoint-337f0c-6826fd007904');
    // An UPGRADE savepoint from before this stop is not this stop's.
    expect(upgradeSavepointOf(resource({ status }), 1_796_249_668_000)).toBeUndefined();
    expect(upgradeSavepointOf(resource({ status: { jobStatus: { savepointInfo: { lastSavepoint: status.jobStatus.savepointInfo.lastSavepoint } } } }), 0)).toBeUndefined();
  });

  test("the operator's error names the root cause from Flink's remote stack trace, not only the outer failure", () => {
    const remote = [
      'org.apache.flink.runtime.rest.util.RestClientException: [org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.',
      '\tat org.apache.flink.runtime.webmonitor.handlers.JarRunHandler.lambda$handleRequest$1(JarRunHandler.java:114)',
      'Caused by: java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: Could not execute application.',
      '\tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:315)',
      'Caused by: java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint file:/sp/savepoint-1. Cannot map checkpoint/savepoint state for operator 0da0 to the new program, because the operator is not available in the new program.',
      '\t... 12 more',
    ].join('\n');
    const error = JSON.stringify({ type: 'org.apache.flink.kubernetes.operator.exception.ReconciliationException', message: `org.apache.flink.util.FlinkRuntimeException: ${remote}`, throwableList: [{ type: 'org.apache.flink.runtime.rest.util.RestClientException', message: remote }] });
    const described = operatorError(resource({ status: { error } }));
    expect(described).toMatch(/^ReconciliationException: org\.apache\.flink\.util\.FlinkRuntimeException: org\.apache\.flink\.runtime\.rest\.util\.RestClientException: .*Could not execute application\.; root cause: java\.lang\.IllegalStateException: Failed to rollback .*Cannot map checkpoint\/savepoint state for operator 0da0/);
    expect(described).not.toMatch(/\n|JarRunHandler/);
    expect(operatorError(resource({ status: { error: JSON.stringify({ type: 'a.b.Plain', message: 'one line' }) } }))).toBe('Plain: one line');
  });

  test('a retried savepoint step sets the same nonce; different trigger ids give different nonces', () => {
    expect(nonceOf('0123456789abcdef0123456789abcdef')).toBe(0x0123456789ab);
    expect(nonceOf('0123456789abcdef0123456789abcdef')).toBe(nonceOf('0123456789abcdef0123456789abcdef'));
    expect(nonceOf('ffffffffffff0000')).not.toBe(nonceOf('fffffffffff00000'));
    expect(Number.isSafeInteger(nonceOf('f'.repeat(32)))).toBe(true);
  });
});

describe('jar URIs the operator fetches', () => {
  test.each([
    ['file:///jars/v2.jar', 'file:///jars/v2.jar'],
    ['/jars/sub/v2.jar', 'file:///jars/sub/v2.jar'],
    ['https://artifacts.example.com/flink/v2.jar', 'https://artifacts.example.com/flink/v2.jar'],
  ])('%s is allowed', (uri, expected) => {
    expect(checkJarUri(uri, ['file:///jars', 'https://artifacts.example.com/flink/'])).toBe(expected);
  });

  test.each([
    ['file:///etc/passwd', /outside the allowed jar URIs/],
    ['file:///jars/../etc/passwd', /outside the allowed jar URIs/],
    ['https://artifacts.example.com/flinkevil/x.jar', /outside the allowed jar URIs/],
    ['http://169.254.169.254/x.jar', /outside the allowed jar URIs/],
    ['relative.jar', /not a URI or absolute path/],
  ])('%s is refused', (uri, problem) => {
    expect(() => checkJarUri(uri, ['file:///jars', 'https://artifacts.example.com/flink/'])).toThrow(problem);
  });

  test('no allowed prefix: none', () => {
    expect(() => checkJarUri('file:///jars/v2.jar', [])).toThrow(/allows no jar URI/);
  });

  // The targets' checks reject (observe turns a rejected PolicyRefusal into a refusal naming the field).
  const target = (kind: OperatorResource['kind']) =>
    new OperatorTarget(
      { settings: { jars: { allowedUris: ['https://artifacts.example.com/flink/'] } } } as unknown as TargetDeps,
      { ...found(resource()), kind },
      { restUrl: 'http://session-rest:8081', flink: {} as TargetEndpoint['flink'] },
    );

  test('a FlinkSessionJob takes --jar as its jar URI, and refuses --jar-uri', async () => {
    await expect(target('operator-session-job').checkJar('https://artifacts.example.com/flink/v2.jar')).resolves.toBe('https://artifacts.example.com/flink/v2.jar');
    await expect(target('operator-session-job').checkJar('https://evil.example.com/v2.jar')).rejects.toMatchObject({ field: '--jar', problem: expect.stringMatching(/outside the allowed jar URIs/) as unknown });
    await expect(target('operator-session-job').checkJarUri('https://artifacts.example.com/flink/v2.jar')).rejects.toMatchObject({ field: '--jar-uri' });
  });

  test('an application FlinkDeployment takes --jar-uri: in the image (local://) or allowed; --jar is refused', async () => {
    await expect(target('operator-deployment').checkJarUri('local:///opt/flink/usrlib/job.jar')).resolves.toBe('local:///opt/flink/usrlib/job.jar');
    await expect(target('operator-deployment').checkJarUri('https://artifacts.example.com/flink/job.jar')).resolves.toBe('https://artifacts.example.com/flink/job.jar');
    await expect(target('operator-deployment').checkJarUri('http://169.254.169.254/job.jar')).rejects.toMatchObject({ field: '--jar-uri', problem: expect.stringMatching(/outside the allowed jar URIs/) as unknown });
    await expect(target('operator-deployment').checkJar('/jars/job.jar')).rejects.toMatchObject({ field: '--jar' });
  });
});

describe('remediation of an operator-managed cluster', () => {
  const base: ClusterHealthSnapshot = {
    cluster: { namespace: 'flink', name: 'session' },
    observedAt: Date.now(),
    kind: 'session-job',
    jobManager: { name: 'session', replicas: 1, readyReplicas: 0, image: 'flink:1.20' },
    pods: [],
    taskManagerReplicas: 1,
    ha: { mode: 'none', source: 'default' },
    rest: { reachable: false, jobs: [] },
    knownJobs: [],
    memory: { remediations: [], podDeletions: [] },
  };
  const context = { nowMs: Date.now(), limits: RemediationLimitsSchema.parse({}), taken: [], waitedOut: {}, counted: false };

  test('reports what the operator is doing and plans nothing, even with no JobManager ready', () => {
    const d = diagnose({ ...base, operator: { deployment: 'session', lifecycleState: 'DEPLOYED', jobManagerDeploymentStatus: 'DEPLOYING', generation: 5, reconciledGeneration: 5 } }, context);
    expect(d.status).toBe('healthy');
    expect(d.plan).toEqual([]);
    expect(d.findings[0]!.reason).toMatch(/the Flink Kubernetes Operator manages this cluster through FlinkDeployment session \(lifecycle DEPLOYED, JobManager DEPLOYING, generation 5 \(reconciled 5\)\): flinkops reports, and leaves acting to the operator/);
  });

  test('a failure the operator reports goes to a human; flinkops still does nothing', () => {
    const d = diagnose({ ...base, operator: { deployment: 'session', lifecycleState: 'FAILED', error: 'DeploymentFailedException: ImagePullBackOff' } }, context);
    expect(d.plan).toEqual([]);
    expect(d.escalation).toMatch(/the operator reports a failure on FlinkDeployment session: DeploymentFailedException: ImagePullBackOff; flinkops does not act against the operator/);
  });
});
