import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOptions } from '@temporalio/client';
import { Command } from 'commander';
import { formatDuration } from '../../workflows/model/durations';
import { parseClusterRef, type ClusterRef } from '../../workflows/model/target';
import { PROGRESS_QUERIES } from '../../workflows/model/progress-queries';
import { describeAction, type Diagnosis, type Finding } from '../../workflows/remediation/diagnose';
import { doctorWorkflowId, registerWorkflowId, remediationWorkflowId, WATCH_SCHEDULE_PREFIX, watchScheduleId } from '../../workflows/remediation/ids';
import type { registerJobWorkflow, RegisterRequestInput } from '../../workflows/remediation/register';
import { LOST_JOB_RECOVERY, parseRemediationRequest, type LostJobRecovery, type RemediationLimits, type RemediationRequestInput } from '../../workflows/remediation/request';
import type { doctorWorkflow, EscalationDetails, RemediationProgress, RemediationResult, remediationWorkflow } from '../../workflows/remediation/workflow';
import { operationSearchAttributes } from '../../workflows/search-attributes';
import type { ConfigFile } from '../../config/schema';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { followWorkflow, startExclusive, workflowFailure } from '../follow';
import { duration, integer } from './savepoint';
import { formatData, isMachineOutput } from '../output';
import { describeWorkflow, workflowUrl } from '../links';

interface LimitOptions {
  maxPerHour?: string;
  podDeletionWindow?: string;
  haRecoveryTimeout?: string;
  jobmanagerTimeout?: string;
  verifyTimeout?: string;
  stabilityWindow?: string;
  escalationRepeat?: string;
  lostJobRecovery?: string;
  taskmanagerRestartWindow?: string;
}

interface ClusterOptions extends LimitOptions {
  namespace: string;
  restUrl?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function clusterCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .argument('<cluster>', 'NAME or NAMESPACE/NAME of the JobManager Deployment (or chart release)')
    .option('-n, --namespace <namespace>', 'namespace of the cluster', 'default')
    .option('--rest-url <url>', "Flink REST endpoint, when the cluster's Service is not reachable from the worker");
}

function withLimitOptions(command: Command): Command {
  return command
    .option('--max-per-hour <n>', 'remediations that act, per cluster and hour (default 3); beyond it: escalate')
    .option('--pod-deletion-window <duration>', 'a JobManager pod is deleted at most once in this window (default 30m)')
    .option('--ha-recovery-timeout <duration>', "with HA: Flink's own recovery gets this long before any destructive action (default 2m)")
    .option('--jobmanager-timeout <duration>', 'how long a JobManager may take to be ready (default 3m)')
    .option('--verify-timeout <duration>', 'how long a recovered job may take to prove it runs with its state (default 3m)')
    .option('--stability-window <duration>', 'how long a recovered job must run without a restart (default 10s)')
    .option('--escalation-repeat <duration>', 'the same escalation is notified again only after this long (default 1h)')
    .option(
      '--lost-job-recovery <how>',
      `a job lost with its JobManager (no HA): ${LOST_JOB_RECOVERY.join(' or ')} (default restart-taskmanagers: TaskManagers still tied to the lost JobManager are restarted while the new one runs no job, instead of waiting about 50 s for their heartbeat timeout)`,
    )
    .option('--taskmanager-restart-window <duration>', "a cluster's TaskManagers are restarted at most once in this window; within it flinkops waits for them (default 30m)");
}

function clusterRef(arg: string, namespace: string): ClusterRef {
  try {
    return parseClusterRef(arg, namespace);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.invalid);
  }
}

type RemediationDefaults = ConfigFile['defaults']['remediation'];

/**
 * The request from the command line, validated with the workflow's own schema: bad input never starts anything.
 * A flag wins; then the configured default; without either, the workflow's own default.
 */
export function remediationInput(arg: string, options: ClusterOptions, extra: Partial<RemediationRequestInput>, defaults: RemediationDefaults = {}): RemediationRequestInput {
  const limits: Partial<RemediationLimits> = {
    ...pick('maxRemediationsPerHour', options.maxPerHour, (v) => integer('--max-per-hour', v), defaults),
    ...pick('podDeletionWindow', options.podDeletionWindow, (v) => duration('--pod-deletion-window', v), defaults),
    ...pick('haRecoveryTimeout', options.haRecoveryTimeout, (v) => duration('--ha-recovery-timeout', v), defaults),
    ...pick('jobManagerTimeout', options.jobmanagerTimeout, (v) => duration('--jobmanager-timeout', v), defaults),
    ...pick('verifyTimeout', options.verifyTimeout, (v) => duration('--verify-timeout', v), defaults),
    ...pick('stabilityWindow', options.stabilityWindow, (v) => duration('--stability-window', v), defaults),
    ...pick('escalationRepeat', options.escalationRepeat, (v) => duration('--escalation-repeat', v), defaults),
    ...pick('taskManagerRestartWindow', options.taskmanagerRestartWindow, (v) => duration('--taskmanager-restart-window', v), defaults),
    ...pick('lostJobRecovery', options.lostJobRecovery, (v) => lostJobRecovery(v), defaults),
  };
  const input: RemediationRequestInput = { cluster: clusterRef(arg, options.namespace), restUrl: options.restUrl, limits, ...extra };
  const parsed = parseRemediationRequest(input);
  if (!parsed.ok) throw new CliError(`invalid request: ${parsed.problem}`, EXIT.invalid);
  return input;
}

function lostJobRecovery(value: string): LostJobRecovery {
  if (!(LOST_JOB_RECOVERY as readonly string[]).includes(value)) throw new CliError(`--lost-job-recovery: one of ${LOST_JOB_RECOVERY.join(', ')}, not "${value}"`, EXIT.invalid);
  return value as LostJobRecovery;
}

function pick<K extends keyof RemediationLimits>(
  key: K,
  flag: string | undefined,
  parse: (value: string) => RemediationLimits[K],
  defaults: RemediationDefaults,
): Partial<RemediationLimits> {
  const value = flag !== undefined ? parse(flag) : defaults[key];
  return value === undefined ? {} : { [key]: value };
}

/** `flinkops doctor`: diagnosis only; the worker observes and nothing is written anywhere. */
export function doctorCommand(context: CliContext): Command {
  return clusterCommand('doctor', "diagnose a cluster's JobManagers, HA and known jobs (read-only: changes nothing)")
    .action(async (arg: string, options: ClusterOptions) => {
      const input = remediationInput(arg, options, { mode: 'diagnose' }, context.defaults().remediation);
      const { client, settings, print } = await context.connect({ worker: true });
      const result = await client.workflow
        .execute<typeof doctorWorkflow>('doctorWorkflow', {
          taskQueue: settings.taskQueue,
          workflowId: doctorWorkflowId(input.cluster, Date.now()),
          args: [input],
          typedSearchAttributes: operationSearchAttributes('doctor', input.cluster),
          staticSummary: `doctor ${input.cluster.namespace}/${input.cluster.name}`,
          // A read-only look: if nobody runs it within this, it ends by itself instead of lingering.
          workflowExecutionTimeout: '5 minutes',
        })
        .catch((error: unknown) => {
          throw workflowFailure(error);
        });
      const missing = result.diagnosis.findings.find((f) => f.code === 'cluster-not-found');
      if (missing) throw new CliError(`unknown cluster: ${missing.reason}`, EXIT.invalid);
      if (isMachineOutput()) print(formatData(result.diagnosis));
      else printDiagnosis(result.diagnosis, print);
      if (result.diagnosis.status !== 'healthy') throw new CliError(result.diagnosis.summary, EXIT.unhealthy);
    });
}

/** `flinkops remediate`: one run with live progress. */
export function remediateCommand(context: CliContext): Command {
  return withLimitOptions(clusterCommand('remediate', 'diagnose a cluster and fix what flinkops safely can (scale, restart a pod, resubmit lost jobs), verify, or escalate'))
    .option('--dry-run', 'diagnose and print the plan, change nothing')
    .option('--no-wait', 'print the workflow id and return')
    .action(async (arg: string, options: ClusterOptions & { dryRun?: boolean; wait: boolean }) => {
      const input = remediationInput(arg, options, { mode: 'remediate', dryRun: options.dryRun ?? false, trigger: 'manual' }, context.defaults().remediation);
      const { client, settings, print } = await context.connect({ worker: true });
      const workflowId = remediationWorkflowId(input.cluster);
      const target = `${input.cluster.namespace}/${input.cluster.name}`;
      const handle = await startExclusive<typeof remediationWorkflow>(
        client,
        'remediationWorkflow',
        {
          taskQueue: settings.taskQueue,
          workflowId,
          args: [input],
          typedSearchAttributes: operationSearchAttributes('remediation', input.cluster),
          staticSummary: `remediate ${target}${input.dryRun ? ' (dry run)' : ''}`,
        },
        `a remediation of ${target}`,
      );
      if (!options.wait) {
        print(isMachineOutput() ? formatData({ workflowId, webUrl: workflowUrl(settings, workflowId) }) : workflowId);
        return;
      }
      if (!isMachineOutput()) print(`remediation started: ${describeWorkflow(settings, workflowId)}`);
      let result: RemediationResult;
      try {
        result = await followWorkflow<RemediationResult>(handle, () => handle.query<RemediationProgress>(PROGRESS_QUERIES.remediationWorkflow), isMachineOutput() ? () => undefined : print);
      } catch (error) {
        // followWorkflow keeps the message; the diagnosis is in the failure's details.
        const details = escalationDetails(await handle.result().then(() => undefined, (failure: unknown) => failure));
        if (details && isMachineOutput()) print(formatData({ workflowId, outcome: 'needs-human', ...details }));
        else if (details) printDiagnosis(details.diagnosis, print);
        throw error;
      }
      if (isMachineOutput()) print(formatData({ workflowId, webUrl: workflowUrl(settings, workflowId), ...result }));
      else printResult(result, print);
      if (result.outcome === 'skipped') throw new CliError(result.message, EXIT.alreadyRunning);
    });
}

/** `flinkops watch enable|disable|list`: a health-check schedule per cluster whose runs remediate. */
export function watchCommand(context: CliContext): Command {
  const watch = new Command('watch').description('health-check schedules: every interval, a remediation run within the configured limits');
  watch.addCommand(
    withLimitOptions(clusterCommand('enable', 'create or update the health-check schedule of a cluster'))
      .option('--every <duration>', 'how often (default 1m)')
      .option('--paused', 'create it paused')
      .action(async (arg: string, options: ClusterOptions & { every?: string; paused?: boolean }) => {
        const input = remediationInput(arg, options, { mode: 'remediate', trigger: 'watch' }, context.defaults().remediation);
        const every = options.every ? duration('--every', options.every) : 60_000;
        if (every < 5_000) throw new CliError('--every: at least 5s', EXIT.invalid);
        const { client, settings, print } = await context.connect({ worker: true });
        await refuseUnknownCluster(client, settings.taskQueue, input);
        const plan = watchSchedule(input, every, settings.taskQueue, options.paused ?? false);
        try {
          await client.schedule.create(plan);
          print(`created schedule ${plan.scheduleId}: a health check of ${input.cluster.namespace}/${input.cluster.name} every ${formatDuration(every)}`);
        } catch (error) {
          if (!(error instanceof ScheduleAlreadyRunning)) throw error;
          await client.schedule.getHandle(plan.scheduleId).update((previous) => ({ ...previous, spec: plan.spec, action: plan.action, policies: plan.policies }));
          print(`updated schedule ${plan.scheduleId}: a health check of ${input.cluster.namespace}/${input.cluster.name} every ${formatDuration(every)}`);
        }
      }),
  );
  watch.addCommand(
    clusterCommand('disable', 'delete the health-check schedule of a cluster').action(async (arg: string, options: ClusterOptions) => {
      const ref = clusterRef(arg, options.namespace);
      const { client, print } = await context.connect();
      const handle = client.schedule.getHandle(watchScheduleId(ref));
      await handle.delete().catch((error: unknown) => {
        if (error instanceof ScheduleNotFoundError || (error as { name?: string }).name === 'ScheduleNotFoundError') throw new CliError(`no health-check schedule for ${ref.namespace}/${ref.name}`, EXIT.invalid);
        throw error;
      });
      print(`deleted schedule ${handle.scheduleId}`);
    }),
  );
  watch.addCommand(
    new Command('list')
      .description('list health-check schedules and their last run')
      .action(async () => {
        const { client, print } = await context.connect();
        const rows: { scheduleId: string; cluster: string; every: string; paused: boolean; lastRun?: string; lastStatus?: string }[] = [];
        for await (const summary of client.schedule.list()) {
          if (!summary.scheduleId.startsWith(WATCH_SCHEDULE_PREFIX)) continue;
          const description = await client.schedule.getHandle(summary.scheduleId).describe();
          const request = description.action.type === 'startWorkflow' ? (description.action.args?.[0] as RemediationRequestInput | undefined) : undefined;
          const last = summary.info.recentActions.at(-1)?.action.workflow;
          const status = last ? await client.workflow.getHandle(last.workflowId, last.firstExecutionRunId).describe().then((d) => d.status.name, () => undefined) : undefined;
          rows.push({
            scheduleId: summary.scheduleId,
            cluster: request ? `${request.cluster.namespace}/${request.cluster.name}` : '?',
            every: (description.spec.intervals ?? []).map((i) => formatDuration(Number(i.every))).join(', '),
            paused: description.state.paused,
            ...(last ? { lastRun: last.workflowId } : {}),
            ...(status ? { lastStatus: status } : {}),
          });
        }
        if (isMachineOutput()) print(formatData(rows));
        else if (rows.length === 0) print('no health-check schedules');
        else for (const r of rows) print(`${r.cluster.padEnd(40)} every ${r.every.padEnd(6)} ${r.paused ? 'paused' : 'active'}  last run ${r.lastStatus ?? '-'}  (${r.scheduleId})`);
      }),
  );
  return watch;
}

/** `flinkops register`: a job flinkops never operated, so remediation knows how to bring it back. */
export function registerCommand(context: CliContext): Command {
  return clusterCommand('register', 'tell flinkops about a running job (its jar, entry class, arguments) so remediation can resubmit it if a JobManager loses it')
    .requiredOption('--job <name>', 'the job, by name')
    .option('--jar <path>', 'the jar it runs from, a path the worker can read')
    .option('--entry-class <class>', 'its entry class')
    .option('--arg <value>', 'a program argument; repeat for each', collect)
    .option('--parallelism <n>', 'its parallelism')
    .option('--job-id <id>', 'its job id, if it does not run now')
    .option('--forget', 'stop expecting the job to run: remediation no longer resubmits it')
    .action(async (arg: string, options: ClusterOptions & { job: string; jar?: string; entryClass?: string; arg?: string[]; parallelism?: string; jobId?: string; forget?: boolean }) => {
      const input: RegisterRequestInput = {
        cluster: clusterRef(arg, options.namespace),
        restUrl: options.restUrl,
        job: options.job,
        jobId: options.jobId,
        forget: options.forget ?? false,
        ...(options.jar
          ? { version: { kind: 'jar', jar: options.jar, entryClass: options.entryClass, args: options.arg, parallelism: options.parallelism ? integer('--parallelism', options.parallelism) : undefined } }
          : {}),
      };
      if (!options.forget && !options.jar) throw new CliError('--jar: the jar the job runs from is required (or --forget)', EXIT.invalid);
      const { client, settings, print } = await context.connect({ worker: true });
      const result = await client.workflow
        .execute<typeof registerJobWorkflow>('registerJobWorkflow', {
          taskQueue: settings.taskQueue,
          workflowId: registerWorkflowId(input.cluster, input.job, Date.now()),
          args: [input],
          typedSearchAttributes: operationSearchAttributes('register', input.cluster, input.job),
        })
        .catch((error: unknown) => {
          const failure = workflowFailure(error);
          throw failureType(error) === 'RegisterRefused' ? new CliError(failure.message, EXIT.invalid) : failure;
        });
      print(isMachineOutput() ? formatData(result) : result.message);
    });
}

async function refuseUnknownCluster(client: Client, taskQueue: string, input: RemediationRequestInput): Promise<void> {
  const result = await client.workflow
    .execute<typeof doctorWorkflow>('doctorWorkflow', {
      taskQueue,
      workflowId: doctorWorkflowId(input.cluster, Date.now()),
      args: [input],
      typedSearchAttributes: operationSearchAttributes('doctor', input.cluster),
      workflowExecutionTimeout: '5 minutes',
    })
    .catch((error: unknown) => {
      throw workflowFailure(error);
    });
  const missing = result.diagnosis.findings.find((f) => f.code === 'cluster-not-found');
  if (missing) throw new CliError(`unknown cluster: ${missing.reason}`, EXIT.invalid);
}

function watchSchedule(input: RemediationRequestInput, every: number, taskQueue: string, paused: boolean): ScheduleOptions {
  const scheduleId = watchScheduleId(input.cluster);
  return {
    scheduleId,
    spec: { intervals: [{ every }] },
    // A missed health check is not worth catching up on, and one run at a time per cluster.
    policies: { overlap: 'SKIP', catchupWindow: Math.max(every, 60_000) },
    action: {
      type: 'startWorkflow',
      workflowType: 'remediationWorkflow',
      workflowId: scheduleId,
      taskQueue,
      args: [input],
      typedSearchAttributes: operationSearchAttributes('remediation', input.cluster),
    },
    typedSearchAttributes: operationSearchAttributes('watch-schedule', input.cluster),
    state: { paused, note: paused ? 'created paused' : undefined },
  };
}

type FailureChain = { cause?: unknown; type?: string; details?: unknown[] } | undefined;

/** The diagnosis carried by a "needs a human" failure, if that is what ended the workflow. */
function escalationDetails(error: unknown): EscalationDetails | undefined {
  for (let cause = error as FailureChain; cause; cause = cause.cause as FailureChain) {
    if (cause.type === 'NeedsHuman') return cause.details?.[0] as EscalationDetails | undefined;
  }
  return undefined;
}

function failureType(error: unknown): string | undefined {
  for (let cause = error as FailureChain; cause; cause = cause.cause as FailureChain) if (cause.type) return cause.type;
  return undefined;
}

const MARK: Record<Finding['severity'], string> = { info: '  ok  ', warning: ' WARN ', critical: ' CRIT ' };

export function printDiagnosis(diagnosis: Diagnosis, print: (line: string) => void): void {
  print(`${diagnosis.cluster}: ${diagnosis.status}${diagnosis.ha !== 'none' ? ` (${diagnosis.ha} HA)` : ' (no HA)'}`);
  for (const finding of diagnosis.findings) {
    print(`[${MARK[finding.severity]}] ${finding.reason}`);
    if (finding.action.kind !== 'none') print(`         -> ${describeAction(finding.action)}`);
  }
  if (diagnosis.escalation) print(`needs a human: ${diagnosis.escalation}`);
  else diagnosis.plan.forEach((action, i) => print(`plan ${i + 1}: ${describeAction(action)}`));
}

function printResult(result: RemediationResult, print: (line: string) => void): void {
  print(result.message);
  for (const verification of result.verified) print(`verified ${verification.jobName} (${verification.jobId}): ${verification.summary}`);
  if (result.outcome === 'dry-run') printDiagnosis(result.diagnosis, print);
  if (result.detectedAt !== undefined && result.recoveredAt !== undefined) print(`healthy again ${formatDuration(result.recoveredAt - result.detectedAt)} after this run saw the problem`);
}
