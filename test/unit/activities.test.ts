import { MockActivityEnvironment } from '@temporalio/testing';
import type { V1Lease } from '@kubernetes/client-node';
import { FlinkRestClient } from '../../activities/flink/rest-client';
import type { KubeClients } from '../../activities/kube/clients';
import { OperationLocks } from '../../activities/locks/operation-lock';
import { retireJob, runSavepointOperation } from '../../activities/targets/rest-control';
import { SessionJobTarget } from '../../activities/targets/session-job/target';
import type { RetireOutcome, TargetDeps } from '../../activities/targets/seam';
import type { ResolvedCluster } from '../../activities/targets/resolve';

// Activities with a fake context: what a retried attempt does with what the one before it left behind.
const JOB = 'a'.repeat(32);
const TRIGGER = 'b'.repeat(32);

/** A Flink REST endpoint answering from a script of (method path) -> response. */
function scriptedFlink(handler: (method: string, path: string, body: unknown) => { status: number; body: unknown }) {
  const seen: string[] = [];
  const fetchStub = ((url: string, init?: { method?: string; body?: unknown }) => {
    const method = init?.method ?? 'GET';
    const path = new URL(url).pathname + new URL(url).search;
    seen.push(`${method} ${path}`);
    const answer = handler(method, path, typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body);
    return Promise.resolve(new Response(JSON.stringify(answer.body), { status: answer.status }));
  }) as unknown as typeof fetch;
  return { client: new FlinkRestClient({ baseUrl: 'http://flink:8081', fetch: fetchStub, retryBaseMs: 1 }), seen };
}

describe('a savepoint operation resumed by a retried attempt', () => {
  test('asks about the same trigger id, keeps the first attempt\'s deadline, and takes no second savepoint', async () => {
    let polls = 0;
    const flink = scriptedFlink((method, path) => {
      if (method === 'POST') return { status: 202, body: { 'request-id': TRIGGER } };
      if (path === `/jobs/${JOB}/savepoints/${TRIGGER}`) return ++polls < 2 ? { status: 200, body: { status: { id: 'IN_PROGRESS' } } } : { status: 200, body: { status: { id: 'COMPLETED' }, operation: { location: 'file:/sp/savepoint-1' } } };
      return { status: 404, body: { errors: ['not found'] } };
    });
    const firstStartedAt = Date.now() - 30_000;
    const env = new MockActivityEnvironment({ heartbeatDetails: { triggerId: TRIGGER, firstStartedAt } });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const outcome = await env.run(() => runSavepointOperation(flink.client, { jobId: JOB, triggerId: TRIGGER, targetDirectory: 'file:///sp', timeoutMs: 60_000 }, 'stop'));
    expect(outcome).toMatchObject({ status: 'completed', location: 'file:/sp/savepoint-1' });
    expect((outcome as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(30_000);
    expect(heartbeats[0]).toEqual({ triggerId: TRIGGER, firstStartedAt });
    expect(flink.seen.filter((s) => s.startsWith('POST'))).toEqual([`POST /jobs/${JOB}/stop`]);
  });

  test('a deadline already passed in the first attempt times out at once (Flink keeps its own verdict)', async () => {
    const flink = scriptedFlink((method) => (method === 'POST' ? { status: 202, body: { 'request-id': TRIGGER } } : { status: 200, body: { status: { id: 'IN_PROGRESS' } } }));
    const env = new MockActivityEnvironment({ heartbeatDetails: { triggerId: TRIGGER, firstStartedAt: Date.now() - 120_000 } });
    const outcome = await env.run(() => runSavepointOperation(flink.client, { jobId: JOB, triggerId: TRIGGER, targetDirectory: 'file:///sp', timeoutMs: 60_000 }, 'savepoint'));
    expect(outcome).toEqual({ status: 'timed-out', reason: 'savepoint not completed within 60s' });
  });

  test('Flink forgot the operation (5 min store): the savepoint is read off the job, not taken again', async () => {
    const flink = scriptedFlink((method, path) => {
      if (method === 'POST') return { status: 202, body: { 'request-id': TRIGGER } };
      if (path === `/jobs/${JOB}/checkpoints`)
        return { status: 200, body: { counts: { restored: 0, total: 3, in_progress: 0, completed: 3, failed: 0 }, latest: { savepoint: { id: 3, external_path: 'file:/sp/savepoint-3', trigger_timestamp: Date.now() - 1_000 } } } };
      return { status: 404, body: { errors: ['Operation not found under key'] } };
    });
    const env = new MockActivityEnvironment({ heartbeatDetails: { triggerId: TRIGGER, firstStartedAt: Date.now() - 400_000 } });
    const outcome = await env.run(() => runSavepointOperation(flink.client, { jobId: JOB, triggerId: TRIGGER, targetDirectory: 'file:///sp', timeoutMs: 600_000 }, 'stop'));
    expect(outcome).toEqual({ status: 'completed', location: 'file:/sp/savepoint-3' });
    expect(flink.seen.filter((s) => s.startsWith('POST'))).toHaveLength(1);
  });
});

describe('retiring a job that ends on its own while it is being cancelled', () => {
  const jobBody = (state: string) => ({ jid: JOB, name: 'counter', state, 'start-time': 1, 'end-time': -1, now: 2, timestamps: {}, vertices: [] });
  test('a cancel refused because the job just FAILED counts as gone: the job is terminal, nothing runs', async () => {
    let reads = 0;
    const flink = scriptedFlink((method, path) => {
      if (method === 'PATCH') return { status: 409, body: { errors: ['Job cancellation failed because the job has already reached another terminal state (FAILED).'] } };
      if (path === `/jobs/${JOB}`) return { status: 200, body: jobBody(++reads <= 2 ? 'RESTARTING' : 'FAILED') };
      return { status: 404, body: { errors: ['not found'] } };
    });
    const outcome: RetireOutcome = await new MockActivityEnvironment().run(() => retireJob(flink.client, JOB, 1_000));
    expect(outcome.gone).toBe(true);
    expect(outcome.detail).toMatch(/FAILED/);
  });

  test('a job still RUNNING after a refused cancel is not gone', async () => {
    const flink = scriptedFlink((method, path) => {
      if (method === 'PATCH') return { status: 409, body: { errors: ['conflict'] } };
      if (path === `/jobs/${JOB}`) return { status: 200, body: jobBody('RUNNING') };
      return { status: 404, body: { errors: ['not found'] } };
    });
    const outcome: RetireOutcome = await new MockActivityEnvironment().run(() => retireJob(flink.client, JOB, 1_000));
    expect(outcome.gone).toBe(false);
    expect(outcome.detail).toMatch(/could not be cancelled .*it is RUNNING/);
  });

  test('reads that keep failing on the way (503s from a proxy, past the client\'s retries) fail the attempt, to be retried: they say nothing about the job', async () => {
    let reads = 0;
    const flink = scriptedFlink((method, path) => {
      if (method === 'PATCH') return { status: 202, body: {} };
      if (path === `/jobs/${JOB}`) return ++reads >= 2 && reads <= 5 ? { status: 503, body: { errors: ['injected'] } } : { status: 200, body: jobBody('RUNNING') };
      return { status: 404, body: { errors: ['not found'] } };
    });
    const attempt = new MockActivityEnvironment().run(() => retireJob(flink.client, JOB, 60_000));
    await expect(attempt).rejects.toThrow(/503/);
  });
});

describe('a submission whose answer was lost', () => {
  const deps = { settings: { jars: { allowedDirectories: ['/'], maxSizeBytes: 1 } }, failpoints: {} } as unknown as TargetDeps;
  const request = (jobId: string) => ({
    version: { kind: 'jar' as const, jar: '/jars/v2.jar' },
    prepared: { jarId: 'uploaded.jar' },
    restore: { path: 'file:///sp/savepoint-1', allowNonRestoredState: false },
    jobId,
    timeoutMs: 60_000,
    heartbeat: () => undefined,
  });

  test('a retry finds the job under its fixed id and submits nothing again', async () => {
    let submitted = false;
    const flink = scriptedFlink((_method, path) => {
      if (path === `/jobs/${JOB}`) return submitted ? { status: 200, body: { jid: JOB, name: 'counter', state: 'RUNNING', 'start-time': 1, 'end-time': -1, now: 2, timestamps: {}, vertices: [] } } : { status: 404, body: { errors: ['not found'] } };
      if (path === '/jars') return { status: 200, body: { files: [{ id: 'uploaded.jar', name: 'v2.jar', uploaded: 1 }] } };
      if (path === '/jars/uploaded.jar/run') {
        submitted = true;
        return { status: 502, body: { errors: ['proxy lost the answer'] } };
      }
      return { status: 200, body: {} };
    });
    const target = new SessionJobTarget(deps, {} as ResolvedCluster, { restUrl: 'http://flink:8081', flink: flink.client });
    await expect(new MockActivityEnvironment().run(() => target.deploy(request(JOB)))).resolves.toBeUndefined();
    expect(flink.seen.filter((s) => s.includes('/run'))).toHaveLength(1);
    // The next attempt of the same step finds the job and submits nothing.
    await new MockActivityEnvironment().run(() => target.deploy(request(JOB)));
    expect(flink.seen.filter((s) => s.includes('/run'))).toHaveLength(1);
  });

  test('DuplicateJobSubmission for a job id Flink has is success; a refused program is a non-retryable DeployRejected', async () => {
    const duplicate = scriptedFlink((_m, path) => {
      if (path === `/jobs/${JOB}`) return { status: 200, body: { jid: JOB, name: 'c', state: 'RUNNING', 'start-time': 1, 'end-time': -1, now: 2, timestamps: {}, vertices: [] } };
      return { status: 200, body: {} };
    });
    const target = new SessionJobTarget(deps, {} as ResolvedCluster, { restUrl: 'http://flink:8081', flink: duplicate.client });
    await new MockActivityEnvironment().run(() => target.deploy(request(JOB)));
    expect(duplicate.seen.some((s) => s.includes('/run'))).toBe(false);

    const refused = scriptedFlink((_m, path) => {
      if (path.startsWith('/jobs/')) return { status: 404, body: { errors: ['not found'] } };
      if (path === '/jars') return { status: 200, body: { files: [{ id: 'uploaded.jar', name: 'v2.jar', uploaded: 1 }] } };
      if (path.endsWith('/run')) return { status: 400, body: { errors: ['org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\nCaused by: java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint'] } };
      return { status: 200, body: {} };
    });
    const rejecting = new SessionJobTarget(deps, {} as ResolvedCluster, { restUrl: 'http://flink:8081', flink: refused.client });
    await expect(new MockActivityEnvironment().run(() => rejecting.deploy(request('c'.repeat(32))))).rejects.toMatchObject({ type: 'DeployRejected', nonRetryable: true });
    expect(refused.seen.filter((s) => s.includes('/run'))).toHaveLength(1);
  });
});

describe('operation locks', () => {
  /** Leases in memory with the API server's create/replace semantics (409 on a taken name or a stale version). */
  function fakeKube(): { kube: KubeClients; leases: Map<string, V1Lease> } {
    const leases = new Map<string, V1Lease>();
    let version = 0;
    const conflict = () => Object.assign(new Error('HTTP-Code: 409'), { code: 409 });
    const notFound = () => Object.assign(new Error('HTTP-Code: 404'), { code: 404 });
    const coordination = {
      createNamespacedLease: ({ body }: { body: V1Lease }) => {
        if (leases.has(body.metadata!.name!)) return Promise.reject(conflict());
        leases.set(body.metadata!.name!, { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } });
        return Promise.resolve(body);
      },
      readNamespacedLease: ({ name }: { name: string }) => (leases.has(name) ? Promise.resolve(leases.get(name)!) : Promise.reject(notFound())),
      replaceNamespacedLease: ({ name, body }: { name: string; body: V1Lease }) => {
        if (leases.get(name)?.metadata?.resourceVersion !== body.metadata?.resourceVersion) return Promise.reject(conflict());
        leases.set(name, { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } });
        return Promise.resolve(body);
      },
      deleteNamespacedLease: ({ name }: { name: string }) => (leases.delete(name) ? Promise.resolve({}) : Promise.reject(notFound())),
      listNamespacedLease: () => Promise.resolve({ items: [...leases.values()] }),
    };
    return { kube: { coordination } as unknown as KubeClients, leases };
  }
  const scope = { cluster: { namespace: 'flink', name: 'flink-jobmanager' }, jobKey: 'counter-1' };

  test('a lease whose workflow is no longer running is taken over; a running holder keeps it; taking it twice is fine', async () => {
    const { kube } = fakeKube();
    const running = new Set(['upgrade-1']);
    const locks = new OperationLocks(kube, (id) => Promise.resolve(running.has(id)));
    expect(await locks.acquire({ scope, workflowId: 'upgrade-1', operation: 'upgrade' })).toEqual({ acquired: true });
    expect(await locks.acquire({ scope, workflowId: 'upgrade-1', operation: 'upgrade' })).toEqual({ acquired: true });
    expect(await locks.acquire({ scope, workflowId: 'savepoint-1', operation: 'savepoint' })).toMatchObject({ acquired: false, holder: { workflowId: 'upgrade-1', operation: 'upgrade' } });
    running.delete('upgrade-1'); // terminated in the Temporal UI: its lock must not block the job forever
    expect(await locks.acquire({ scope, workflowId: 'savepoint-1', operation: 'savepoint' })).toEqual({ acquired: true });
    expect(await locks.holder(scope, 'status-1')).toBeUndefined(); // savepoint-1 is not "running" in this fake
  });

  test('a lease left by an earlier run of the same workflow id does not stand in the way of the next run', async () => {
    // Upgrades of one job to one version share a workflow id; a release lost to an API error leaves the lease behind,
    // and the next run of that id is "running" under the same id.
    const { kube } = fakeKube();
    const locks = new OperationLocks(kube, (id) => Promise.resolve(id === 'upgrade-job-1'));
    expect(await locks.acquire({ scope, workflowId: 'upgrade-job-1', operation: 'upgrade' })).toEqual({ acquired: true });
    expect(await locks.holder(scope, 'upgrade-job-1')).toBeUndefined();
    expect(await locks.holder(scope, 'savepoint-1')).toMatchObject({ workflowId: 'upgrade-job-1' });
    expect(await locks.holder({ cluster: scope.cluster }, 'upgrade-job-1')).toBeUndefined();
    expect(await locks.holder({ cluster: scope.cluster }, 'remediate-1')).toMatchObject({ workflowId: 'upgrade-job-1' });
  });

  test('a job lock and the cluster lock exclude each other', async () => {
    const { kube } = fakeKube();
    const locks = new OperationLocks(kube, () => Promise.resolve(true));
    expect(await locks.acquire({ scope, workflowId: 'savepoint-1', operation: 'savepoint' })).toEqual({ acquired: true });
    expect(await locks.acquire({ scope: { cluster: scope.cluster }, workflowId: 'remediate-1', operation: 'remediation' })).toMatchObject({ acquired: false, holder: { workflowId: 'savepoint-1' } });
  });
});
