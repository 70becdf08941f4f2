import { ApplicationFailure, executeChild, log, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { FleetTarget } from '../../activities/fleet';
import { failureMessage, QUICK, withSummary } from '../activity-profiles';
import { operationSearchAttributes } from '../search-attributes';
import { describeIssues } from '../model/validation';
import { SavepointRequestSchema, type SavepointRequestInput } from './request';
import { savepointWorkflow, type SavepointResult } from './workflow';

export const FleetSavepointRequestSchema = z.object({
  /** Label selector of JobManager Deployments, e.g. "team=payments" ("" matches every Flink cluster). */
  selector: z.string(),
  /** One namespace, or every namespace when absent. */
  namespace: z.string().min(1).optional(),
  concurrency: z.number().int().min(1).max(64).default(4),
  savepoint: SavepointRequestSchema.omit({ cluster: true, job: true, restUrl: true }).partial().default({}),
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
  const { targets, problems } = await withSummary('discoverFleet', QUICK, `discover clusters matching "${request.selector}"`, {
    selector: request.selector,
    namespace: request.namespace,
  });
  setCurrentDetails(`savepoints of ${targets.length} job(s), ${request.concurrency} at a time`);
  const parentId = workflowInfo().workflowId;

  const runs = await mapWithLimit(targets, request.concurrency, async (target: FleetTarget) => {
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
  const result: FleetSavepointResult = {
    targets: targets.length,
    completed: runs.filter((r) => r.outcome === 'completed').length,
    skipped: runs.filter((r) => r.outcome === 'skipped').length,
    failed: runs.filter((r) => r.outcome === 'failed').map((r) => ({ target: r.target, reason: r.message })),
    problems,
    runs,
  };
  log.info(`fleet savepoints: ${result.completed} completed, ${result.skipped} skipped, ${result.failed.length} failed`);
  setCurrentDetails(`${result.completed} completed, ${result.skipped} skipped, ${result.failed.length} failed of ${targets.length}`);
  if (result.failed.length > 0 || problems.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `fleet savepoints: ${result.failed.length} of ${targets.length} failed${problems.length ? `, ${problems.length} cluster(s) unreadable` : ''}: ${[...result.failed.map((f) => `${f.target}: ${f.reason}`), ...problems].join('; ')}`,
      'FleetSavepointsFailed',
      result,
    );
  }
  return result;
}

/** Runs `fn` over `items` with at most `limit` in flight (deterministic: workflow code). */
async function mapWithLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
