import { randomUUID } from 'node:crypto';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { timeSkippingEnvironment } from '../support/time-skipping';
import { type SleepyActivities, sleepyWorkflow } from './fixtures/sleepy-workflow';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment | undefined;

  beforeAll(async () => {
    env = await timeSkippingEnvironment();
  }, 60_000);

  afterAll(async () => {
    await env?.teardown();
  });

  it('skips a one-day sleep between two stub activities', async () => {
    if (!env) throw new Error('no test environment');
    const calls: string[] = [];
    const activities: SleepyActivities = {
      before: (name) => {
        calls.push(`before:${name}`);
        return Promise.resolve();
      },
      after: (name) => {
        calls.push(`after:${name}`);
        return Promise.resolve();
      },
    };
    const taskQueue = `sleepy-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/sleepy-workflow'),
      activities,
    });

    const started = Date.now();
    const result = await worker.runUntil(
      env.client.workflow.execute(sleepyWorkflow, { taskQueue, workflowId: `sleepy-${randomUUID()}`, args: ['smoke'] }),
    );
    const wallMs = Date.now() - started;

    expect(calls).toEqual(['before:smoke', 'after:smoke']);
    expect(result.sleptMs).toBeGreaterThanOrEqual(DAY_MS);
    // Most of the test's time is Worker.create bundling the workflow; the day-long sleep itself takes milliseconds.
    expect(wallMs).toBeLessThan(10_000);
  }, 60_000);
});
