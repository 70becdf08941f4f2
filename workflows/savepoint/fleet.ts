import { ApplicationFailure, continueAsNew, executeChild, log, patched, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { FleetTarget } from '../../activities/fleet';
import { failureMessage, QUICK, withSummary } from '../activity-profiles';
import { operationSearchAttributes } from '../search-attributes';
import { describeIssues } from '../model/validation';
import { SavepointRequestSchema, type SavepointRequestInput } from './request';
import { savepointWorkflow, type SavepointResult } from './workflow';

/** Behaviour changes of running fleet runs, each behind patched(). */
export const FLEET_PATCHES = {
  /** 0.3.0: a fleet run starts at most FLEET_CHILDREN_PER_RUN children per run, then continues as new with what is left. */
  continueAsNew: 'fleet-continue-as-new',
} as const;

/**
 * Children one run of the fleet workflow starts before it continues as new: each child costs its parent 3 to 9
 * history events (initiated, started, completed, and the workflow tasks they wake), so a run stays below ~4,500
 * events whatever the fleet's size (Temporal warns at 10,240 and stops a workflow at 51,200).
 */
export const FLEET_CHILDREN_PER_RUN = 500;

const FleetRunSchema = z.object({ target: z.string(), workflowId: z.string(), outcome: z.string(), message: z.string() });
const FleetTargetSchema = z.object({
  cluster: z.object({ namespace: z.string(), name: z.string() }),
  kind: z.string(),
  job: z.string().optional(),
});

/** What a fleet run that continued as new hands to the next: the targets not started yet and what the earlier runs did. */
const FleetProgressSchema = z.object({
  remaining: z.array(FleetTargetSchema),
  runs: z.array(FleetRunSchema),
  problems: z.array(z.string()),
  targets: z.number().int().min(0),
});
export type FleetProgress = z.infer<typeof FleetProgressSchema>;

export const FleetSavepointRequestSchema = z.object({
  /** Label selector of JobManager Deployments, e.g. "team=payments" ("" matches every Flink cluster). */
  selector: z.string(),
  /** One namespace, or every namespace when absent. */
  namespace: z.string().min(1).optional(),
  concurrency: z.number().int().min(1).max(64).default(4),
  savepoint: SavepointRequestSchema.omit({ cluster: true, job: true, restUrl: true }).partial().default({}),
  /** Set by the fleet workflow itself when it continues as new; never by a caller. */
  progress: FleetProgressSchema.optional(),
  /** Tests only: a smaller batch than FLEET_CHILDREN_PER_RUN. */
  childrenPerRun: z.number().int().min(1).optional(),
});
export type FleetSavepointInput = z.input<typeof FleetSavepointRequestSchema>;

export interface FleetSavepointResult {
  targets: number;
  completed: number;
  skipped: number;
  failed: { target: string; reason: string }[];
  problems: string[];
  runs: { target: string; workflowId: string; outcome: string; message: string }[];
}

/** Savepoints of every job on every matching cluster, as child workflows, at most `concurrency` at a time. */
export async function fleetSavepointWorkflow(input: FleetSavepointInput): Promise<FleetSavepointResult> {
  const parsed = FleetSavepointRequestSchema.safeParse(input);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid fleet savepoint request: ${describeIssues(parsed.error)}`, 'InvalidRequest');
  const request = parsed.data;
  const batching = patched(FLEET_PATCHES.continueAsNew);
  const carried = request.progress;
  // A continued run does not discover again: the targets left over are the ones it must still do, no more, no less.
  const { targets, problems } = carried
    ? { targets: carried.remaining as FleetTarget[], problems: carried.problems }
    : await withSummary('discoverFleet', QUICK, `discover clusters matching "${request.selector}"`, {
        selector: request.selector,
        namespace: request.namespace,
      });
  const total = carried ? carried.targets : targets.length;
  const done = carried?.runs.length ?? 0;
  setCurrentDetails(`savepoints of ${total} job(s), ${request.concurrency} at a time${done ? ` (${done} done in earlier runs)` : ''}`);
  const parentId = workflowInfo().workflowId;
  const perRun = request.childrenPerRun ?? FLEET_CHILDREN_PER_RUN;
  const stop = (started: number) => batching && (started >= perRun || workflowInfo().continueAsNewSuggested);

  const { results, started } = await mapWithLimit(targets, request.concurrency, stop, async (target: FleetTarget) => {
    const name = `${target.cluster.namespace}/${target.cluster.name}${target.job ? `/${target.job}` : ''}`;
    const workflowId = `${parentId}/${name}`;
    // Children get the options as given (they validate them again); the parse above only fails the run early.
    const args: SavepointRequestInput = { ...input.savepoint, cluster: target.cluster, job: target.job, trigger: input.savepoint?.trigger ?? 'schedule' };
    try {
      const result: SavepointResult = await executeChild(savepointWorkflow, {
        workflowId,
        args: [args],
        typedSearchAttributes: operationSearchAttributes('savepoint', target.cluster, target.job),
      });
      return { target: name, workflowId, outcome: result.outcome, message: result.message };
    } catch (error) {
      return { target: name, workflowId, outcome: 'failed', message: failureMessage(error) };
    }
  });
  const runs = [...(carried?.runs ?? []), ...results];
  if (started < targets.length) {
    // Every child started in this run has finished (the lanes wait for theirs): the next run starts at the first not started.
    log.info(`fleet savepoints: ${runs.length} of ${total} done; continuing as new with ${targets.length - started} left`);
    const progress: FleetProgress = { remaining: targets.slice(started), runs, problems, targets: total };
    return continueAsNew<typeof fleetSavepointWorkflow>({ ...input, progress });
  }
  const result: FleetSavepointResult = {
    targets: total,
    completed: runs.filter((r) => r.outcome === 'completed').length,
    skipped: runs.filter((r) => r.outcome === 'skipped').length,
    failed: runs.filter((r) => r.outcome === 'failed').map((r) => ({ target: r.target, reason: r.message })),
    problems,
    runs,
  };
  log.info(`fleet savepoints: ${result.completed} completed, ${result.skipped} skipped, ${result.failed.length} failed`);
  setCurrentDetails(`${result.completed} completed, ${result.skipped} skipped, ${result.failed.length} failed of ${total}`);
  if (result.failed.length > 0 || problems.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `fleet savepoints: ${result.failed.length} of ${total} failed${problems.length ? `, ${problems.length} cluster(s) unreadable` : ''}: ${[...result.failed.map((f) => `${f.target}: ${f.reason}`), ...problems].join('; ')}`,
      'FleetSavepointsFailed',
      result,
    );
  }
  return result;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight (deterministic: workflow code); starts no more once `stop` says
 * so (given how many were started), and returns when every one started has finished.
 */
async function mapWithLimit<T, R>(items: T[], limit: number, stop: (started: number) => boolean, fn: (item: T) => Promise<R>): Promise<{ results: R[]; started: number }> {
  const results: R[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !stop(next)) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(lanes);
  return { results, started: next };
}
