import { temporal } from '@temporalio/proto';
import type { FleetTarget } from '../../activities/fleet';
import type { FleetSavepointInput, FleetSavepointResult } from '../../workflows/savepoint/fleet';
import type { SavepointEntry } from '../../workflows/model/record';
import { emptyRecord } from '../../workflows/model/record';
import { names, runningJob, sessionTarget, WorkflowHarness, type StubActivities } from './support/workflow-harness';

// The fleet workflow over more targets than one run may start: it continues as new, carrying what is left and what
// is done, so every job gets exactly one savepoint run and discovery happens once.
const h = new WorkflowHarness();
beforeAll(() => h.start(), 60_000);
afterAll(() => h.stop());

const cluster = (i: number) => ({ namespace: 'flink', name: `cluster-${i}` });
const TARGETS: FleetTarget[] = Array.from({ length: 7 }, (_, i) => ({ cluster: cluster(i % 3), kind: 'session-job', job: `job-${i}` }));

function stubs(): StubActivities {
  return {
    discoverFleet: () => ({ targets: TARGETS, problems: [] }),
    observeTarget: ({ cluster, job }) => {
      const id = job!.replace('job-', '').padStart(32, '0');
      return sessionTarget({ cluster, job: runningJob({ id, name: job }), lockScope: { cluster, jobKey: job! } });
    },
    takeSavepoint: ({ identity, entry }) => {
      const saved: SavepointEntry = { ...entry, path: `file:///data/savepoints/${identity.jobName}`, at: new Date().toISOString() };
      return { status: 'completed', entry: saved, record: { ...emptyRecord({ cluster: `${identity.cluster.namespace}/${identity.cluster.name}`, kind: identity.kind, jobKey: identity.jobKey, jobName: identity.jobName, currentJobId: identity.jobId }), savepoints: [saved] } };
    },
    finishSavepointRun: () => ({ disposed: [], failed: [] }),
  };
}

async function historyOf(workflowId: string, runId: string) {
  return (await h.env!.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

test('a fleet larger than one run continues as new: each job once, discovery once, nothing lost', async () => {
  const { result, calls } = await h.withWorker(stubs(), async (taskQueue) => {
    const workflowId = `fleet-${Math.random().toString(16).slice(2)}`;
    const input: FleetSavepointInput = { selector: 'team=a', concurrency: 2, childrenPerRun: 3 };
    const handle = await h.env!.client.workflow.start('fleetSavepointWorkflow', { taskQueue, workflowId, args: [input] });
    const value = (await handle.result()) as FleetSavepointResult;
    // Follow the chain of runs from the first.
    const runs: number[] = [];
    for (let runId: string | undefined = handle.firstExecutionRunId; runId; ) {
      const events = await historyOf(workflowId, runId);
      runs.push(events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length);
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    return { value, runs, workflowId };
  });
  // 7 targets, at most 3 children per run: three runs of 3, 3 and 1.
  expect(result.runs).toEqual([3, 3, 1]);
  expect(result.value.targets).toBe(7);
  expect(result.value.completed).toBe(7);
  expect(result.value.runs.map((r) => r.target)).toEqual(TARGETS.map((t) => `${t.cluster.namespace}/${t.cluster.name}/${t.job}`));
  expect(new Set(result.value.runs.map((r) => r.workflowId)).size).toBe(7);
  expect(result.value.runs.every((r) => r.workflowId.startsWith(`${result.workflowId}/`))).toBe(true);
  expect(names(calls).filter((n) => n === 'discoverFleet')).toHaveLength(1);
  const jobs = calls.filter((c) => c.name === 'takeSavepoint').map((c) => (c.args[0] as { identity: { jobName: string } }).identity.jobName);
  expect(jobs.sort()).toEqual(TARGETS.map((t) => t.job).sort());
}, 120_000);

test('a fleet within one run does not continue as new', async () => {
  const { result } = await h.withWorker(stubs(), async (taskQueue) => {
    const workflowId = `fleet-${Math.random().toString(16).slice(2)}`;
    const handle = await h.env!.client.workflow.start('fleetSavepointWorkflow', { taskQueue, workflowId, args: [{ selector: '', concurrency: 4 }] });
    const value = (await handle.result()) as FleetSavepointResult;
    const events = await historyOf(workflowId, handle.firstExecutionRunId);
    return { value, last: events.at(-1)?.eventType };
  });
  expect(result.value.completed).toBe(7);
  expect(result.last).toBe(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
}, 120_000);

test('a completed savepoint run writes at most 30 history events, with one patch marker', async () => {
  const { result } = await h.withWorker(stubs(), async (taskQueue) => {
    const workflowId = `savepoint-${Math.random().toString(16).slice(2)}`;
    const handle = await h.env!.client.workflow.start('savepointWorkflow', { taskQueue, workflowId, args: [{ cluster: cluster(0), job: 'job-1' }] });
    const value = (await handle.result()) as { outcome: string };
    return { value, events: await historyOf(workflowId, handle.firstExecutionRunId) };
  });
  expect(result.value.outcome).toBe('completed');
  const markers = result.events.filter((e) => e.markerRecordedEventAttributes);
  expect(markers).toHaveLength(1);
  expect(result.events.length).toBeLessThanOrEqual(30);
  // The FlinkCluster attribute is the resolved cluster, FlinkJob the job.
  const upserted = result.events.flatMap((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}));
  expect(upserted).toEqual(expect.arrayContaining(['FlinkCluster', 'FlinkJob']));
}, 120_000);
