import { ApplicationFailure } from '@temporalio/common';
import { classify, describeError, toActivityFailure } from '../../activities/failures';
import { notVerifiedReason } from '../../activities/verify';
import { FlinkRestClient, FlinkRestError } from '../../activities/flink/rest-client';
import { apiErrorMessage } from '../../activities/kube/clients';
import { emptyRecord, parseJobRecord, pruneRecord, RECORD_LIMITS, type JobRecord } from '../../workflows/model/record';
import { FAILURE_TYPES, NON_RETRYABLE_FAILURE_TYPES } from '../../workflows/model/failures';
import { exitForFailure, EXIT } from '../../client/exit-codes';

describe('job records', () => {
  const base = () => emptyRecord({ cluster: 'flink/flink', kind: 'session-job', jobKey: 'counter-1', jobName: 'counter', currentJobId: 'a'.repeat(32) });

  test('a record written by 0.1.0 (no schema version) reads as version 1; an edited one is refused with the field', () => {
    const old = { ...base(), schemaVersion: undefined };
    expect(parseJobRecord(old)).toMatchObject({ ok: true, record: { schemaVersion: 1 } });
    expect(parseJobRecord({ ...base(), savepoints: [{ path: '/x', at: 'yesterday', jobId: 'j', trigger: 'manual', workflowId: 'w' }] })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/savepoints\.0\.at: must be an ISO time/) as unknown,
    });
    expect(parseJobRecord({ ...base(), currentVersion: { kind: 'jar', jar: 'relative.jar' } })).toMatchObject({ ok: false, problem: expect.stringMatching(/currentVersion\.jar/) as unknown });
    expect(parseJobRecord({ ...base(), schemaVersion: 7 })).toMatchObject({ ok: false, problem: expect.stringMatching(/schemaVersion/) as unknown });
  });

  test('a busy job near the 1 MiB ConfigMap limit is pruned below it, and what was forgotten is said', () => {
    const record: JobRecord = base();
    const longPath = (i: number) => `file:///data/savepoints/${'x'.repeat(600)}/savepoint-${i}`;
    for (let i = 0; i < 1_500; i++) record.savepoints.push({ path: longPath(i), at: new Date(i * 1000).toISOString(), jobId: 'j', trigger: 'schedule', workflowId: `w${i}` });
    for (let i = 0; i < 200; i++) record.history.push({ at: new Date(i).toISOString(), workflowId: `w${i}`, operation: 'savepoint', outcome: 'completed', message: 'm'.repeat(5_000) });
    for (let i = 0; i < 60; i++) record.restorePoints.push({ path: longPath(i), at: new Date(i).toISOString(), workflowId: `u${i}`, operation: 'upgrade' });
    expect(JSON.stringify(record, null, 2).length).toBeGreaterThan(1024 * 1024);
    const notes = pruneRecord(record);
    expect(JSON.stringify(record, null, 2).length).toBeLessThanOrEqual(RECORD_LIMITS.bytes);
    expect(record.history.length).toBeLessThanOrEqual(RECORD_LIMITS.history);
    expect(record.restorePoints).toHaveLength(RECORD_LIMITS.restorePoints);
    expect(record.restorePoints.at(-1)?.workflowId).toBe('u59');
    expect(record.savepoints.at(-1)?.path).toBe(longPath(1_499));
    expect(notes.join('\n')).toMatch(/forgot the 500 oldest savepoint entries .* their files were not deleted/);
    expect(record.history.every((h) => (h.message?.length ?? 0) <= RECORD_LIMITS.messageChars + 1)).toBe(true);
  });
});

describe('one failure taxonomy', () => {
  const apiException = (code: number, body?: unknown) =>
    Object.assign(new Error(`HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ${JSON.stringify(body)}\nHeaders: {"authorization":"Bearer secret-token"}`), { code, body });

  test.each([
    [401, 'KubernetesUnauthorized', false],
    [403, 'KubernetesForbidden', false],
    [404, 'KubernetesNotFound', false],
    [422, 'KubernetesInvalid', false],
    [409, 'KubernetesConflict', true],
    [429, 'KubernetesUnavailable', true],
    [503, 'KubernetesUnavailable', true],
  ])('Kubernetes %i is %s (retryable: %s), and the message carries no headers', (code, type, retryable) => {
    const failure = toActivityFailure(apiException(code, JSON.stringify({ message: 'deployments.apps is forbidden: User "x" cannot list' }))) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(!retryable);
    expect(failure.message).not.toMatch(/Headers|secret-token/);
    expect(failure.message).toMatch(new RegExp(`^Kubernetes API answered ${code}: deployments\\.apps is forbidden`));
  });

  test('a 401 without a body still reads as one line', () => {
    expect(apiErrorMessage(apiException(401))).toBe('HTTP 401 Unknown API Status Code!');
  });

  test.each([
    [undefined, 'FlinkUnavailable', true],
    [503, 'FlinkUnavailable', true],
    [401, 'FlinkUnauthorized', false],
    [400, 'FlinkRejected', false],
    [200, 'FlinkUnexpectedAnswer', true],
  ])('Flink %s is %s (retryable: %s)', (status, type, retryable) => {
    const failure = toActivityFailure(new FlinkRestError('GET', '/x', status, [], 'GET /x failed')) as ApplicationFailure;
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(!retryable);
  });

  test('network errors of the Kubernetes client are "unavailable"; unknown errors pass through', () => {
    expect(classify(Object.assign(new Error('request to https://10.0.0.1/api failed, reason: connect ECONNREFUSED'), { name: 'FetchError', code: 'ECONNREFUSED' }))?.type).toBe('KubernetesUnavailable');
    expect(classify(new Error('boom'))).toBeUndefined();
  });

  test('every type maps to an exit code; permanent ones are non-retryable in the retry policies', () => {
    expect(exitForFailure('KubernetesUnauthorized')).toEqual({ exitCode: EXIT.unavailable, hint: expect.stringMatching(/credentials were refused \(401\)/) as unknown });
    expect(exitForFailure('PolicyRefused').exitCode).toBe(EXIT.invalid);
    expect(exitForFailure('UpgradeAborted').exitCode).toBe(EXIT.aborted);
    expect(exitForFailure('SomethingElse').exitCode).toBe(EXIT.failed);
    expect(NON_RETRYABLE_FAILURE_TYPES).toEqual(expect.arrayContaining(['KubernetesForbidden', 'PolicyRefused', 'FlinkRejected']));
    expect(NON_RETRYABLE_FAILURE_TYPES).not.toContain('FlinkUnavailable');
    expect(Object.keys(FAILURE_TYPES).length).toBeGreaterThan(20);
  });
});

describe('a verification that ran out of time', () => {
  test('says what the last successful look showed, and a failed read after it in one line without headers', () => {
    const dump = Object.assign(new Error('HTTP-Code: 503\nMessage: Unknown API Status Code!\nBody: "{\\"message\\":\\"fault proxy: injected error\\"}"\nHeaders: {"connection":"close"}'), {
      code: 503,
      body: JSON.stringify({ message: 'fault proxy: injected error' }),
    });
    expect(describeError(dump)).toBe('Kubernetes API answered 503: fault proxy: injected error');
    expect(notVerifiedReason(66_000, 'all 2 tasks running, waiting for a checkpoint after the restore', describeError(dump))).toBe(
      'not verified within 1m6s: all 2 tasks running, waiting for a checkpoint after the restore (the last look failed: Kubernetes API answered 503: fault proxy: injected error)',
    );
    expect(notVerifiedReason(66_000, 'the job has not appeared yet')).toBe('not verified within 1m6s: the job has not appeared yet');
    expect(describeError(new Error('first\nsecond'))).toBe('first');
  });
});

describe('Flink REST reads survive one lost answer', () => {
  const scripted = (answers: (number | 'reset')[]) => {
    let calls = 0;
    const fetchStub = (() => {
      const answer = answers[Math.min(calls++, answers.length - 1)]!;
      if (answer === 'reset') return Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }));
      return Promise.resolve(new Response(answer === 200 ? JSON.stringify({ jobs: [] }) : JSON.stringify({ errors: ['busy'] }), { status: answer }));
    }) as unknown as typeof fetch;
    return { client: new FlinkRestClient({ baseUrl: 'http://flink:8081', fetch: fetchStub, retryBaseMs: 1 }), calls: () => calls };
  };

  test('a 503 and a reset before the answer are retried, within a bound', async () => {
    const { client, calls } = scripted([503, 'reset', 200]);
    await expect(client.listJobs()).resolves.toEqual([]);
    expect(calls()).toBe(3);
    const failing = scripted([503]);
    await expect(failing.client.listJobs()).rejects.toMatchObject({ status: 503 });
    expect(failing.calls()).toBe(4);
  });

  test('a 4xx is an answer: not retried; a jar upload is never repeated', async () => {
    const notFound = scripted([404, 200]);
    await expect(notFound.client.listJobs()).rejects.toMatchObject({ status: 404 });
    expect(notFound.calls()).toBe(1);
    const run = scripted([503, 200]);
    await expect(run.client.runJar('x.jar', {})).rejects.toMatchObject({ status: 503 });
    expect(run.calls()).toBe(1);
  });
});
