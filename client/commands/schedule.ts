import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions, type ScheduleSpec } from '@temporalio/client';
import { Command } from 'commander';
import type { describeTargetWorkflow } from '../../workflows/describe/workflow';
import { formatDuration } from '../../workflows/model/durations';
import { parseClusterRef } from '../../workflows/model/target';
import { assertTimeZone } from '../../workflows/savepoint/blackout';
import { cronLongestGapMs, validateCron } from '../../workflows/savepoint/cron';
import { FleetSavepointRequestSchema, type FleetSavepointInput } from '../../workflows/savepoint/fleet';
import { fleetScheduleId, savepointScheduleId } from '../../workflows/savepoint/ids';
import type { SavepointRequestInput } from '../../workflows/savepoint/request';
import { FLINKOPS_OPERATION, operationSearchAttributes } from '../../workflows/search-attributes';
import { describeIssues } from '../../workflows/model/validation';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { workflowFailure } from '../follow';
import { duration, integer, positiveDuration, savepointInput, savepointOptionsInput, withSavepointDefaults, withSavepointOptions, type SavepointOptions } from './savepoint';
import { ago, formatData, isMachineOutput, outputFormat, table } from '../output';

interface TargetSelection {
  namespace: string;
  job?: string;
  fleet?: string;
  id?: string;
}

interface CreateOptions extends SavepointOptions, TargetSelection {
  cron?: string;
  every?: string;
  jitter?: string;
  catchupWindow?: string;
  selector?: string;
  allNamespaces?: boolean;
  concurrency?: string;
  paused?: boolean;
}

const SCHEDULE_OPERATION = 'savepoint-schedule';
const DEFAULT_CRON = '0 2 * * *';

/** `flinkops schedule ...`: Temporal Schedules of savepoint runs, one per cluster/job or one per fleet. */
export function scheduleCommand(context: CliContext): Command {
  const schedule = new Command('schedule').description('scheduled savepoints (Temporal Schedules): daily by default, with retention');

  schedule.addCommand(
    withSavepointOptions(
      target(new Command('create'))
        .description('create or update the savepoint schedule of a cluster/job (or of a fleet: --fleet NAME --selector LABELS)')
        .option('--cron <expr>', `when, as a 5-field cron in --time-zone (default "${DEFAULT_CRON}": daily at 02:00)`)
        .option('--every <duration>', 'instead of --cron: every interval, e.g. 6h')
        .option('--jitter <duration>', 'random delay up to this much, so many schedules do not fire at once (default 10m)')
        .option('--catchup-window <duration>', 'after an outage, still take missed savepoints this late (default 1h)')
        .option('--selector <labels>', 'fleet: label selector of JobManager Deployments')
        .option('--all-namespaces', 'fleet: every namespace (default: --namespace only)')
        .option('--concurrency <n>', 'fleet: savepoints running at once (default 4)')
        .option('--paused', 'create it paused'),
    ).action(async (cluster: string | undefined, options: CreateOptions) => {
      const { client, settings, print } = await context.connect();
      // Options are checked first; the target is then checked through a worker, which must be there.
      const plan = await scheduleOptions(client, settings.taskQueue, cluster, withSavepointDefaults(options, context.defaults().savepoint), () => context.connect({ worker: true }));
      try {
        await client.schedule.create(plan);
        print(`created schedule ${plan.scheduleId}: ${describeSpec(plan.spec)}`);
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        await client.schedule.getHandle(plan.scheduleId).update((previous) => ({ ...previous, spec: plan.spec, action: plan.action, policies: plan.policies, state: { ...previous.state, note: plan.state?.note } }));
        print(`updated schedule ${plan.scheduleId}: ${describeSpec(plan.spec)}`);
      }
    }),
  );

  schedule.addCommand(
    new Command('list').description('list flinkops savepoint schedules (health-check schedules: `flinkops watch list`)').action(async () => {
      const { client, print } = await context.connect();
      const rows: { scheduleId: string; paused: boolean; note?: string; when?: string; nextActionTimes: Date[]; recentRunAt?: Date; recentRun?: string }[] = [];
      for await (const summary of client.schedule.list()) {
        if (!isSavepointSchedule(summary.scheduleId)) continue;
        const recent = summary.info.recentActions.at(-1);
        rows.push({
          scheduleId: summary.scheduleId,
          paused: summary.state.paused,
          ...(summary.state.note ? { note: summary.state.note } : {}),
          when: summary.spec ? describedSpec(summary.spec) : undefined,
          nextActionTimes: summary.info.nextActionTimes.slice(0, 1),
          ...(recent ? { recentRunAt: recent.takenAt, recentRun: recent.action.workflow.workflowId } : {}),
        });
      }
      if (isMachineOutput()) print(formatData(rows));
      else if (rows.length === 0) print('no flinkops savepoint schedules');
      else {
        const wide = outputFormat() === 'wide';
        const headers = ['SCHEDULE', 'STATE', 'WHEN', 'NEXT', 'LAST RUN', ...(wide ? ['NOTE', 'LAST WORKFLOW'] : [])];
        const cells = rows.map((r) => [
          r.scheduleId,
          r.paused ? 'paused' : 'active',
          r.when ?? '',
          r.nextActionTimes[0] ? ago(r.nextActionTimes[0]) : '-',
          ago(r.recentRunAt),
          ...(wide ? [r.note ?? '', r.recentRun ?? '-'] : []),
        ]);
        for (const line of table(headers, cells)) print(line);
      }
    }),
  );

  schedule.addCommand(
    target(new Command('describe')).description('show a schedule: spec, retention, blackout windows, recent runs and their outcome').action(
      async (cluster: string | undefined, options: TargetSelection & { json?: boolean }) => {
        const { client, print } = await context.connect();
        const handle = client.schedule.getHandle(scheduleIdOf(cluster, options));
        const description = await handle.describe().catch(notFound(handle.scheduleId));
        const runs = await recentRuns(client, description);
        if (isMachineOutput()) {
          print(formatData({ scheduleId: description.scheduleId, when: describedSpec(description.spec), spec: description.spec, policies: description.policies, state: description.state, request: description.action.args?.[0] as unknown, nextActionTimes: description.info.nextActionTimes, runs }));
          return;
        }
        printDescription(description, runs, print);
      },
    ),
  );

  for (const [name, text] of [['pause', 'pause a schedule'], ['resume', 'resume a paused schedule'], ['delete', 'delete a schedule (savepoints and records stay)'], ['trigger', 'run a schedule now']] as const) {
    schedule.addCommand(
      target(new Command(name))
        .description(text)
        .option('--note <text>', 'why (pause/resume)')
        .action(async (cluster: string | undefined, options: TargetSelection & { note?: string }) => {
          const { client, print } = await context.connect();
          const handle = client.schedule.getHandle(scheduleIdOf(cluster, options));
          const act = {
            pause: () => handle.pause(options.note ?? 'paused with flinkops'),
            resume: () => handle.unpause(options.note ?? 'resumed with flinkops'),
            delete: () => handle.delete(),
            trigger: () => handle.trigger(),
          }[name];
          await act().catch(notFound(handle.scheduleId));
          print(`${name === 'trigger' ? 'triggered' : `${name}d`.replace('ed', 'ed').replace('eed', 'ed')} schedule ${handle.scheduleId}`);
        }),
    );
  }
  return schedule;
}

function target(command: Command): Command {
  return command
    .argument('[cluster]', 'NAME or NAMESPACE/NAME (omit with --fleet or --id)')
    .option('-n, --namespace <namespace>', 'namespace of the cluster', 'default')
    .option('--job <id|name>', 'the job (session clusters)')
    .option('--fleet <name>', 'a fleet schedule (label selector form)')
    .option('--id <scheduleId>', 'the schedule id itself');
}

function scheduleIdOf(cluster: string | undefined, options: TargetSelection): string {
  if (options.id) return options.id;
  if (options.fleet) return fleetScheduleId(options.fleet);
  if (!cluster) throw new CliError('name the cluster (or --fleet NAME, or --id SCHEDULE_ID)', EXIT.invalid);
  try {
    return savepointScheduleId(parseClusterRef(cluster, options.namespace), options.job);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.invalid);
  }
}

/** Everything validated (and the target checked through the worker) before a schedule is created. */
async function scheduleOptions(client: Client, taskQueue: string, cluster: string | undefined, options: CreateOptions, requireWorker: () => Promise<unknown>): Promise<ScheduleOptions> {
  const timeZone = options.timeZone ?? 'UTC';
  try {
    assertTimeZone(timeZone);
  } catch (error) {
    throw new CliError(`--time-zone: ${(error as Error).message}`, EXIT.invalid);
  }
  if (options.cron && options.every) throw new CliError('--cron and --every: give one', EXIT.invalid);
  const cron = options.cron ?? (options.every ? undefined : DEFAULT_CRON);
  if (cron) {
    try {
      validateCron(cron);
    } catch (error) {
      throw new CliError(`--cron: ${(error as Error).message}`, EXIT.invalid);
    }
  }
  const spec: ScheduleSpec = {
    ...(cron ? { cronExpressions: [cron] } : { intervals: [{ every: positiveDuration('--every', options.every!) }] }),
    timezone: timeZone,
    jitter: options.jitter ? duration('--jitter', options.jitter) : options.every ? 0 : 600_000,
  };
  const policies = { overlap: 'SKIP' as const, catchupWindow: options.catchupWindow ? duration('--catchup-window', options.catchupWindow) : 3_600_000 };
  // The savepoint-age alert allows the longest gap between two runs (jitter included), from each run's metrics.
  const scheduleInterval = (cron ? cronLongestGapMs(cron) : Number(spec.intervals![0]!.every)) + Number(spec.jitter ?? 0);

  if (options.fleet) {
    if (options.selector === undefined) throw new CliError('--fleet needs --selector (labels of the JobManager Deployments)', EXIT.invalid);
    const fleet: FleetSavepointInput = {
      selector: options.selector,
      namespace: options.allNamespaces ? undefined : options.namespace,
      concurrency: options.concurrency ? integer('--concurrency', options.concurrency) : 4,
      savepoint: { ...savepointOptionsInput(options, 'schedule'), scheduleInterval },
    };
    const parsed = FleetSavepointRequestSchema.safeParse(fleet);
    if (!parsed.success) throw new CliError(`invalid fleet schedule: ${describeIssues(parsed.error)}`, EXIT.invalid);
    const scheduleId = fleetScheduleId(options.fleet);
    return {
      scheduleId,
      spec,
      policies,
      action: {
        type: 'startWorkflow',
        workflowType: 'fleetSavepointWorkflow',
        workflowId: scheduleId,
        taskQueue,
        args: [fleet],
        typedSearchAttributes: [{ key: FLINKOPS_OPERATION, value: 'fleet-savepoint' }],
      },
      typedSearchAttributes: [{ key: FLINKOPS_OPERATION, value: SCHEDULE_OPERATION }],
      state: { paused: options.paused ?? false, note: scheduleNote(cron, options, timeZone) },
    };
  }

  if (!cluster) throw new CliError('name the cluster (or --fleet NAME --selector LABELS)', EXIT.invalid);
  const request: SavepointRequestInput = { ...savepointInput(cluster, options, 'schedule'), scheduleInterval };
  // An unknown cluster or job is refused now, not at 02:00.
  await requireWorker();
  const snapshot = await client.workflow
    .execute<typeof describeTargetWorkflow>('describeTargetWorkflow', {
      taskQueue,
      workflowId: `flinkops-status-${request.cluster.namespace}-${request.cluster.name}-${Date.now()}`,
      args: [{ cluster: request.cluster, job: request.job, restUrl: request.restUrl }],
      workflowExecutionTimeout: '2 minutes',
    })
    .catch((error: unknown) => {
      throw workflowFailure(error);
    });
  const refusal = snapshot.refusals?.[0];
  if (refusal) throw new CliError(`${refusal.field}: ${refusal.problem}`, EXIT.invalid);
  if (snapshot.problem) throw new CliError(`unknown target: ${snapshot.problem}`, EXIT.invalid);
  if (!snapshot.job) throw new CliError(`unknown target: ${snapshot.jobProblem ?? 'no job'}`, EXIT.invalid);
  const scheduleId = savepointScheduleId(request.cluster, request.job);
  return {
    scheduleId,
    spec,
    policies,
    action: {
      type: 'startWorkflow',
      workflowType: 'savepointWorkflow',
      workflowId: scheduleId,
      taskQueue,
      args: [request],
      typedSearchAttributes: operationSearchAttributes('savepoint', request.cluster, request.job),
    },
    typedSearchAttributes: operationSearchAttributes(SCHEDULE_OPERATION, request.cluster),
    state: { paused: options.paused ?? false, note: options.paused ? 'created paused' : undefined },
  };
}

/** The timing of a schedule being created, in words. */
function describeSpec(spec: ScheduleSpec): string {
  const when = spec.cronExpressions?.length
    ? `cron "${spec.cronExpressions.join('", "')}"`
    : `every ${(spec.intervals ?? []).map((i) => formatDuration(typeof i.every === 'number' ? i.every : Number(i.every))).join(', ')}`;
  const jitter = spec.jitter ? `, jitter up to ${formatDuration(Number(spec.jitter))}` : '';
  return `${when} in ${spec.timezone ?? 'UTC'}${jitter}`;
}

/** The timing of an existing schedule: the server keeps cron expressions as calendars, shown here as cron again. */
function describedSpec(spec: Pick<ScheduleDescription['spec'], 'calendars' | 'intervals' | 'timezone' | 'jitter'>): string {
  const crons = (spec.calendars ?? []).map((c) => `cron "${calendarAsCron(c)}"`);
  const intervals = (spec.intervals ?? []).map((i) => `every ${formatDuration(Number(i.every))}`);
  const jitter = spec.jitter ? `, jitter up to ${formatDuration(Number(spec.jitter))}` : '';
  return `${[...crons, ...intervals].join(', ')} in ${spec.timezone ?? 'UTC'}${jitter}`;
}

const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];
const WEEKDAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

function calendarAsCron(calendar: NonNullable<ScheduleDescription['spec']['calendars']>[number]): string {
  const field = (ranges: { start: number; end?: number; step?: number }[], min: number, max: number): string => {
    const covers = ranges.length === 1 && ranges[0]!.start === min && (ranges[0]!.end ?? ranges[0]!.start) === max && (ranges[0]!.step ?? 1) === 1;
    if (covers || ranges.length === 0) return '*';
    return ranges
      .map((r) => {
        const end = r.end ?? r.start;
        const span = end === r.start ? String(r.start) : `${r.start}-${end}`;
        return r.step && r.step > 1 ? `${span}/${r.step}` : span;
      })
      .join(',');
  };
  const named = <T extends string>(ranges: { start: T; end?: T; step?: number }[], names: string[], offset: number) =>
    ranges.map((r) => ({ start: names.indexOf(r.start) + offset, end: r.end === undefined ? undefined : names.indexOf(r.end) + offset, step: r.step }));
  return [
    field(calendar.minute, 0, 59),
    field(calendar.hour, 0, 23),
    field(calendar.dayOfMonth, 1, 31),
    field(named(calendar.month, MONTHS, 1), 1, 12),
    field(named(calendar.dayOfWeek, WEEKDAYS, 0), 0, 6),
  ].join(' ');
}

interface RunSummary {
  workflowId: string;
  scheduledAt: string;
  status: string;
  outcome?: string;
}

async function recentRuns(client: Client, description: ScheduleDescription): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  for (const action of description.info.recentActions.slice(-10)) {
    const handle = client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
    const info = await handle.describe().catch(() => undefined);
    const run: RunSummary = { workflowId: handle.workflowId, scheduledAt: action.scheduledAt.toISOString(), status: info?.status.name ?? 'UNKNOWN' };
    if (info?.status.name === 'COMPLETED') run.outcome = ((await handle.result()) as { message?: string }).message;
    else if (info?.status.name === 'FAILED') run.outcome = await handle.result().then(() => undefined, (error: unknown) => workflowFailure(error).message);
    runs.push(run);
  }
  return runs;
}

function printDescription(description: ScheduleDescription, runs: RunSummary[], print: (line: string) => void): void {
  const request = description.action.args?.[0] as (SavepointRequestInput & Partial<FleetSavepointInput>) | undefined;
  print(`${description.scheduleId}${description.state.paused ? ` (PAUSED: ${description.state.note ?? ''})` : ''}`);
  print(`  when:      ${describedSpec(description.spec)}; overlap ${description.policies.overlap}, catch-up window ${formatDuration(description.policies.catchupWindow)}`);
  if (request?.selector !== undefined) {
    print(`  fleet:     JobManager Deployments matching "${request.selector}" in ${request.namespace ?? 'all namespaces'}, ${request.concurrency ?? 4} at a time`);
  } else if (request?.cluster) {
    print(`  target:    ${request.cluster.namespace}/${request.cluster.name}${request.job ? ` job ${request.job}` : ''}`);
  }
  const options = (request?.savepoint ?? request) as SavepointRequestInput | undefined;
  const retention = options?.retention;
  const rules = [retention?.keepLast !== undefined ? `keep newest ${retention.keepLast}` : '', retention?.maxAge !== undefined ? `keep younger than ${formatDuration(Number(retention.maxAge))}` : ''].filter(Boolean);
  print(`  retention: ${rules.length ? rules.join(' or ') : 'none (keep all)'}`);
  print(`  blackouts: ${options?.blackouts?.length ? options.blackouts.join('; ') : 'none'}${options?.blackouts?.length ? ` (${options.timeZone ?? 'UTC'})` : ''}`);
  print(`  next:      ${description.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()).join(', ') || '-'}`);
  print(`  runs:      ${description.info.numActionsTaken} taken, ${description.info.numActionsSkippedOverlap} skipped (overlap), ${description.info.numActionsMissedCatchupWindow} missed`);
  for (const run of runs) print(`    ${run.scheduledAt} ${run.status.padEnd(10)} ${run.outcome ?? ''}`);
}

function notFound(scheduleId: string): (error: unknown) => never {
  return (error: unknown) => {
    if (error instanceof ScheduleNotFoundError || (error as { name?: string }).name === 'ScheduleNotFoundError') throw new CliError(`no schedule ${scheduleId}`, EXIT.invalid);
    throw error;
  };
}

/** flinkops' savepoint schedules (one per cluster/job, or per fleet), not the health-check schedules of `watch`. */
function isSavepointSchedule(scheduleId: string): boolean {
  return scheduleId.startsWith('flinkops-savepoint-') || scheduleId.startsWith('flinkops-fleet-savepoint-');
}

/**
 * The note the Temporal UI shows on the Schedules page: the schedule in words, e.g. "daily 02:00 Europe/Berlin,
 * keep 7, max age 14d".
 */
export function scheduleNote(cron: string | undefined, options: Pick<CreateOptions, 'every' | 'keep' | 'maxAge' | 'paused' | 'blackout' | 'fleet' | 'selector'>, timeZone: string): string {
  const when = cron ? cronInWords(cron) : `every ${options.every}`;
  const parts = [
    `${when} ${timeZone}`,
    ...(options.keep ? [`keep ${options.keep}`] : []),
    ...(options.maxAge ? [`max age ${options.maxAge}`] : []),
    ...(options.blackout?.length ? [`not ${options.blackout.join(', ')}`] : []),
    ...(options.fleet ? [`fleet ${options.fleet} (${options.selector ?? ''})`] : []),
  ];
  return `${parts.join(', ')}${options.paused ? ' (created paused)' : ''}`;
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** "0 2 * * *" -> "daily 02:00", "30 1 * * 1-5" -> "Mon-Fri 01:30"; anything else as cron "...". */
export function cronInWords(cron: string): string {
  const [minute, hour, day, month, weekday] = cron.trim().split(/\s+/);
  if (!/^\d+$/.test(minute ?? '') || !/^\d+$/.test(hour ?? '') || day !== '*' || month !== '*') return `cron "${cron}"`;
  const time = `${hour!.padStart(2, '0')}:${minute!.padStart(2, '0')}`;
  if (weekday === '*') return `daily ${time}`;
  const days = weekday!.replace(/\d/g, (d) => DAY_NAMES[Number(d)] ?? d);
  return /^[A-Za-z,-]+$/.test(days) ? `${days} ${time}` : `cron "${cron}"`;
}
