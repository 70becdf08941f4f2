import { FlinkRestClient, FlinkRestError, firstMeaningfulLine } from '../../activities/flink/rest-client';

// Fast checks of the client's error handling with a scripted fetch; the real API is exercised in test/e2e.
function clientAnswering(status: number, body: unknown): FlinkRestClient {
  const fetchStub = (() =>
    Promise.resolve(new Response(typeof body === 'string' ? body : JSON.stringify(body), { status }))) as unknown as typeof fetch;
  return new FlinkRestClient({ baseUrl: 'http://flink.example:8081/', fetch: fetchStub });
}

test('Flink stack traces are reduced to the deepest cause', () => {
  const trace = 'org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\n\tat x\nCaused by: java.util.concurrent.CompletionException: wrap\nCaused by: org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.\n\tat y';
  expect(firstMeaningfulLine(trace)).toBe('org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.');
  expect(firstMeaningfulLine('plain message')).toBe('plain message');
});

test('an HTTP error carries the status, the endpoint and the cause', async () => {
  const error = (await clientAnswering(500, { errors: ['x\nCaused by: DuplicateJobSubmissionException: Job has already been submitted.'] })
    .runJar('abc.jar', { jobId: 'f'.repeat(32) })
    .catch((e: unknown) => e)) as FlinkRestError;
  expect(error).toBeInstanceOf(FlinkRestError);
  expect(error.status).toBe(500);
  expect(error.isDuplicateJobSubmission).toBe(true);
  expect(error.message).toBe('POST /jars/abc.jar/run failed with HTTP 500: DuplicateJobSubmissionException: Job has already been submitted.');
});

test('an answer of the wrong shape is an error naming the field, not a crash later', async () => {
  const error = (await clientAnswering(200, { taskmanagers: 'two' }).overview().catch((e: unknown) => e)) as FlinkRestError;
  expect(error.message).toMatch(/unexpected response from Flink \(taskmanagers: .*number/);
});

test('the base URL may end with a slash', async () => {
  const seen: string[] = [];
  const fetchStub = ((url: string) => {
    seen.push(url);
    return Promise.resolve(new Response(JSON.stringify({ jobs: [] }), { status: 200 }));
  }) as unknown as typeof fetch;
  await new FlinkRestClient({ baseUrl: 'http://flink.example:8081/', fetch: fetchStub }).listJobs();
  expect(seen).toEqual(['http://flink.example:8081/jobs/overview']);
});

test("a TaskManager's id is one path segment, and its allocated slots name their jobs", async () => {
  const seen: string[] = [];
  const fetchStub = ((url: string) => {
    seen.push(url);
    const body = { id: '10.0.0.7:6122-a1b2c3', slotsNumber: 2, freeSlots: 1, allocatedSlots: [{ jobId: 'f'.repeat(32), resource: { cpuCores: 1 } }] };
    return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
  }) as unknown as typeof fetch;
  const details = await new FlinkRestClient({ baseUrl: 'http://flink.example:8081', fetch: fetchStub }).taskManagerDetails('10.0.0.7:6122-a1b2c3');
  expect(seen).toEqual(['http://flink.example:8081/taskmanagers/10.0.0.7%3A6122-a1b2c3']);
  expect(details.allocatedSlots).toEqual([{ jobId: 'f'.repeat(32) }]);
});
