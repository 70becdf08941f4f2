import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { FLINKOPS_SEARCH_ATTRIBUTES } from '../../../workflows/search-attributes';
import type { Activities } from '../../../activities';
import type { JobSnapshot, TargetSnapshot } from '../../../workflows/model/snapshot';
import { timeSkippingEnvironment } from '../../support/time-skipping';
import { sourceWorkflowBundle } from '../../support/workflow-bundle';

/**
 * Workflow tests with stub activities on Temporal's time-skipping test server: the branches the real stack cannot
 * reach cheaply (a rollback whose new job will not stop, a savepoint that completes late, an approval that times out).
 * Every stub call is recorded, so a test asserts what the workflow did, in order.
 */
export type StubActivities = { [K in keyof Activities]?: (...args: Parameters<Activities[K]>) => Promise<Awaited<ReturnType<Activities[K]>>> | Awaited<ReturnType<Activities[K]>> };

export interface Call {
  name: string;
  args: unknown[];
}

export class WorkflowHarness {
  env?: TestWorkflowEnvironment;

  async start(): Promise<void> {
    this.env = await timeSkippingEnvironment();
    // flinkops' workflows set these (workflows/search-attributes.ts); the test server knows none by itself.
    await this.env.connection.operatorService.addSearchAttributes({
      namespace: this.env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(FLINKOPS_SEARCH_ATTRIBUTES.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
  }

  async stop(): Promise<void> {
    await this.env?.teardown();
  }

  /** Runs `body` with a worker whose activities are `stubs` (any other activity called fails the test loudly). */
  async withWorker<T>(stubs: StubActivities, body: (taskQueue: string, calls: Call[]) => Promise<T>, options: Partial<WorkerOptions> = {}): Promise<{ result: T; calls: Call[] }> {
    const env = this.env!;
    const calls: Call[] = [];
    const activities = Object.fromEntries(
      ACTIVITY_NAMES.map((name) => [
        name,
        async (...args: unknown[]) => {
          calls.push({ name, args });
          const stub = (stubs as Record<string, ((...a: unknown[]) => unknown) | undefined>)[name];
          if (!stub) throw ApplicationFailure.nonRetryable(`the test did not expect activity ${name}`, 'UnexpectedActivity');
          return await stub(...args);
        },
      ]),
    );
    const taskQueue = `wf-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await sourceWorkflowBundle(),
      activities,
      ...options,
    });
    const result = await worker.runUntil(body(taskQueue, calls));
    return { result, calls };
  }
}

/** Every activity flinkops registers: the proxy answers for each, and a stub decides what it does. */
const ACTIVITY_NAMES = [
  'describeFlinkCluster', 'getOperationPolicy', 'observeTarget', 'observeJob', 'stopJobWithSavepoint', 'triggerSavepoint', 'cancelJob', 'retireDeployment',
  'prepareVersion', 'discardPreparedVersion', 'deployVersion', 'verifyDeployment', 'recordRestorePoint', 'recordOutcome', 'readJobRecord', 'emitClusterEvent',
  'acquireOperationLock', 'releaseOperationLock', 'recordSavepoint', 'disposeSavepoints', 'recordDisposals', 'takeSavepoint', 'finishSavepointRun',
  'noteSavepointRun', 'discoverFleet', 'observeClusterHealth', 'scaleJobManager', 'deleteJobManagerPod', 'awaitClusterRecovery', 'awaitJobReleased', 'restartTaskManagers',
  'recordRemediationRun', 'recordEscalation', 'notifyEscalation', 'registerJob', 'observeSessionCluster', 'prepareClusterSpec', 'discardClusterSpec',
  'rollSessionCluster',
];

export const JOB_ID = 'a'.repeat(32);
export const NOW = Date.parse('2026-12-01T12:00:00Z');

export function runningJob(overrides: Partial<JobSnapshot> = {}): JobSnapshot {
  return {
    id: JOB_ID,
    name: 'counter',
    state: 'RUNNING',
    startTime: NOW - 60_000,
    tasks: { total: 2, running: 2 },
    checkpointing: { intervalMs: 2_000, timeoutMs: 60_000, retainedOnCancellation: true },
    latestCheckpoint: { id: 7, path: `file:/data/checkpoints/${JOB_ID}/chk-7`, completedAt: Date.now() - 2_000 },
    completedCheckpoints: 7,
    numRestarts: 0,
    ...overrides,
  };
}

/** A session cluster running job "counter" v1, as the observe activity reports it. */
export function sessionTarget(overrides: Partial<TargetSnapshot> = {}): TargetSnapshot {
  return {
    cluster: { namespace: 'flink', name: 'flink-jobmanager' },
    observedAt: Date.now(),
    allowedSavepointPrefixes: ['file:///data'],
    kind: 'session-job',
    versionKind: 'jar',
    restUrl: 'http://10.0.0.1:8081',
    flinkVersion: '1.20.5',
    clusterConfig: { savepointDir: 'file:///data/savepoints', checkpointDir: 'file:///data/checkpoints' },
    jobManager: { deployment: 'flink-jobmanager', container: 'jobmanager', image: 'flink:1.20', args: ['jobmanager'], replicas: 1, strategy: 'RollingUpdate' },
    taskManagers: [],
    job: runningJob(),
    currentVersion: { kind: 'jar', jar: '/jars/v1.jar', args: ['--output', '/out'] },
    lockScope: { cluster: { namespace: 'flink', name: 'flink-jobmanager' }, jobKey: 'counter-1' },
    kindChecks: [],
    kindWarnings: [],
    deployStep: 'run {version} on the session cluster {restore}',
    ...overrides,
  };
}

export const names = (calls: Call[]) => calls.map((c) => c.name);
