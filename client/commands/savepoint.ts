import { Command } from 'commander';
import { parseDuration } from '../../workflows/model/durations';
import { parseClusterRef } from '../../workflows/model/target';
import { PROGRESS_QUERIES } from '../../workflows/model/progress-queries';
import { manualSavepointWorkflowId } from '../../workflows/savepoint/ids';
import { parseSavepointRequest, type SavepointRequestInput } from '../../workflows/savepoint/request';
import type { SavepointProgress, SavepointResult, savepointWorkflow } from '../../workflows/savepoint/workflow';
import { operationSearchAttributes } from '../../workflows/search-attributes';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { followWorkflow } from '../follow';
import { formatData, isMachineOutput } from '../output';
import { describeWorkflow, workflowUrl } from '../links';

export interface SavepointOptions {
  namespace: string;
  job?: string;
  restUrl?: string;
  savepointDir?: string;
  keep?: string;
  maxAge?: string;
  timeout?: string;
  blackout?: string[];
  timeZone?: string;
  disposeOperatorSavepoints?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Options shared by `flinkops savepoint` and `flinkops schedule create`. */
export function withSavepointOptions(command: Command): Command {
  return command
    .option('--savepoint-dir <uri>', "where savepoints go (default: the cluster's execution.checkpointing.savepoint-dir)")
    .option('--keep <n>', 'retention: keep the newest N savepoints')
    .option('--max-age <duration>', 'retention: keep savepoints younger than this (e.g. 7d); with --keep, either keeps one')
    .option('--timeout <duration>', 'give up on a savepoint after this long (default 10m)')
    .option('--blackout <window>', 'no savepoint in this recurring window, e.g. "Mon-Fri 09:00-18:00"; repeat for more', collect)
    .option('--time-zone <zone>', 'IANA time zone of the schedule and blackout windows (default UTC)')
    .option('--rest-url <url>', 'Flink REST endpoint override')
    .option('--dispose-operator-savepoints', 'retention may also dispose of savepoints the Flink Kubernetes Operator manages');
}

/** The configured default savepoint timeout where --timeout is not given. */
export function withSavepointDefaults<T extends SavepointOptions>(options: T, defaults: { timeout?: number }): T {
  return options.timeout === undefined && defaults.timeout !== undefined ? { ...options, timeout: `${defaults.timeout}ms` } : options;
}

/** Savepoint options shared by single targets and fleets (no cluster, no job). */
export function savepointOptionsInput(options: SavepointOptions, trigger: 'manual' | 'schedule'): Omit<SavepointRequestInput, 'cluster'> {
  return {
    savepointDir: options.savepointDir,
    trigger,
    retention: {
      ...(options.keep !== undefined ? { keepLast: integer('--keep', options.keep) } : {}),
      ...(options.maxAge !== undefined ? { maxAge: positiveDuration('--max-age', options.maxAge) } : {}),
    },
    blackouts: options.blackout ?? [],
    ...(options.disposeOperatorSavepoints ? { disposeOperatorSavepoints: true } : {}),
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
    ...(options.timeout ? { timeout: positiveDuration('--timeout', options.timeout) } : {}),
  };
}

/** The savepoint request from the command line, validated before anything starts. */
export function savepointInput(cluster: string, options: SavepointOptions, trigger: 'manual' | 'schedule'): SavepointRequestInput {
  let ref;
  try {
    ref = parseClusterRef(cluster, options.namespace);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.invalid);
  }
  const input: SavepointRequestInput = { ...savepointOptionsInput(options, trigger), cluster: ref, job: options.job, restUrl: options.restUrl };
  const parsed = parseSavepointRequest(input);
  if (!parsed.ok) throw new CliError(`invalid savepoint request: ${parsed.problem}`, EXIT.invalid);
  return input;
}

export function integer(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new CliError(`${name}: must be a whole number, got "${value}"`, EXIT.invalid);
  if (parsed < 1) throw new CliError(`${name}: must be at least 1, got ${parsed}`, EXIT.invalid);
  return parsed;
}

export function duration(name: string, value: string): number {
  if (value.trim().startsWith('-')) throw new CliError(`${name}: must be positive, got "${value}"`, EXIT.invalid);
  try {
    return parseDuration(value);
  } catch (error) {
    throw new CliError(`${name}: ${(error as Error).message}`, EXIT.invalid);
  }
}

/** A duration that must be longer than 0 (an interval, a timeout). */
export function positiveDuration(name: string, value: string): number {
  const ms = duration(name, value);
  if (ms <= 0) throw new CliError(`${name}: must be longer than 0, got "${value}"`, EXIT.invalid);
  return ms;
}

export function savepointCommand(context: CliContext): Command {
  return withSavepointOptions(
    new Command('savepoint')
      .description('take a savepoint of a running job now (it keeps running), then apply retention')
      .argument('<cluster>', 'NAME or NAMESPACE/NAME')
      .option('-n, --namespace <namespace>', 'namespace of the cluster', 'default')
      .option('--job <id|name>', 'the job (session clusters)'),
  ).action(async (cluster: string, options: SavepointOptions & { json?: boolean }) => {
    const input = savepointInput(cluster, withSavepointDefaults(options, context.defaults().savepoint), 'manual');
    const { client, settings, print } = await context.connect({ worker: true });
    const handle = await client.workflow.start<typeof savepointWorkflow>('savepointWorkflow', {
      taskQueue: settings.taskQueue,
      workflowId: manualSavepointWorkflowId(input.cluster, input.job, Date.now()),
      args: [input],
      typedSearchAttributes: operationSearchAttributes('savepoint', input.cluster, input.job),
      staticSummary: `savepoint of ${input.cluster.namespace}/${input.cluster.name}${input.job ? ` job ${input.job}` : ''}`,
    });
    if (!isMachineOutput()) print(`savepoint started: ${describeWorkflow(settings, handle.workflowId)}`);
    const result = await followWorkflow<SavepointResult>(handle, () => handle.query<SavepointProgress>(PROGRESS_QUERIES.savepointWorkflow), isMachineOutput() ? () => undefined : print);
    print(isMachineOutput() ? formatData({ workflowId: handle.workflowId, webUrl: workflowUrl(settings, handle.workflowId), ...result }) : result.message);
  });
}
