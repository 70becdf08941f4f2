import { Command } from 'commander';
import type { DescribeTargetInput, describeTargetWorkflow } from '../../workflows/describe/workflow';
import { formatDuration } from '../../workflows/model/durations';
import { PROGRESS_QUERIES, progressQueryOf } from '../../workflows/model/progress-queries';
import type { TargetSnapshot } from '../../workflows/model/snapshot';
import { describeVersion, parseClusterRef, type ClusterRef } from '../../workflows/model/target';
import { upgradeWorkflowId } from '../../workflows/upgrade/ids';
import { clusterUpgradeWorkflowId } from '../../workflows/cluster-upgrade/ids';
import { operationSearchAttributes } from '../../workflows/search-attributes';
import type { UpgradeProgress } from '../../workflows/upgrade/workflow';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { workflowFailure } from '../follow';
import { formatData, isMachineOutput } from '../output';

interface TargetOptions {
  namespace: string;
  job?: string;
  workflowId?: string;
  clusterUpgrade?: boolean;
}

/** The workflow a command is about: given, the cluster's upgrade (--cluster-upgrade), or the job's (or cluster's) upgrade. */
function operationWorkflowId(ref: ClusterRef, options: TargetOptions): string {
  if (options.workflowId) return options.workflowId;
  return options.clusterUpgrade ? clusterUpgradeWorkflowId(ref) : upgradeWorkflowId(ref, options.job);
}

function cluster(arg: string, namespace: string): ClusterRef {
  try {
    return parseClusterRef(arg, namespace);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.invalid);
  }
}

function targetCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .argument('<cluster>', 'NAME or NAMESPACE/NAME')
    .option('-n, --namespace <namespace>', 'namespace of the cluster', 'default')
    .option('--job <id|name>', 'the job (session clusters), as given to `flinkops upgrade`')
    .option('--cluster-upgrade', 'the upgrade of the whole cluster (flinkops upgrade-cluster), not of a job')
    .option('--workflow-id <id>', 'the workflow, if not the default upgrade workflow of the target');
}

export function approveCommand(context: CliContext): Command {
  return targetCommand('approve', 'approve an upgrade that waits for approval')
    .requiredOption('--by <name>', 'who approves (recorded)')
    .option('--comment <text>')
    .action(async (arg: string, options: TargetOptions & { by: string; comment?: string }) => {
      const ref = cluster(arg, options.namespace);
      const { client, print } = await context.connect();
      const handle = client.workflow.getHandle(operationWorkflowId(ref, options));
      try {
        print(await handle.executeUpdate<string, [{ by: string; comment?: string }]>('approveUpgrade', { args: [{ by: options.by, comment: options.comment }] }));
      } catch (error) {
        throw updateRefused(error);
      }
    });
}

export function abortCommand(context: CliContext): Command {
  return targetCommand('abort', 'abort an upgrade before it stops the job')
    .requiredOption('--by <name>', 'who aborts (recorded)')
    .option('--reason <text>')
    .action(async (arg: string, options: TargetOptions & { by: string; reason?: string }) => {
      const ref = cluster(arg, options.namespace);
      const { client, print } = await context.connect();
      const handle = client.workflow.getHandle(operationWorkflowId(ref, options));
      try {
        print(await handle.executeUpdate<string, [{ by: string; reason?: string }]>('abortUpgrade', { args: [{ by: options.by, reason: options.reason }] }));
      } catch (error) {
        throw updateRefused(error);
      }
    });
}

export function cancelCommand(context: CliContext): Command {
  return targetCommand('cancel', 'cancel a running upgrade; flinkops leaves a job running (old or new version)').action(
    async (arg: string, options: TargetOptions) => {
      const ref = cluster(arg, options.namespace);
      const { client, print } = await context.connect();
      const handle = client.workflow.getHandle(operationWorkflowId(ref, options));
      const description = await handle.describe().catch((error: unknown) => {
        if ((error as { name?: string }).name === 'WorkflowNotFoundError') throw new CliError(`no upgrade ${handle.workflowId} to cancel: it never ran (or its history expired)`, EXIT.invalid);
        throw error;
      });
      if (description.status.name !== 'RUNNING') {
        const ended = description.closeTime ? ` at ${description.closeTime.toISOString()}` : '';
        throw new CliError(`nothing to cancel: upgrade ${handle.workflowId} already ended${ended} (${description.status.name}); \`flinkops status\` shows its outcome`, EXIT.invalid);
      }
      await handle.cancel();
      print(`cancellation requested for ${handle.workflowId}; waiting for it to leave a job running...`);
      try {
        await handle.result();
        print('the workflow completed before the cancellation took effect');
      } catch (error) {
        print(workflowFailure(error).message);
      }
      const progress = await handle.query<UpgradeProgress>(progressQueryOf(description.type) ?? PROGRESS_QUERIES.upgradeWorkflow).catch(() => undefined);
      if (progress) print(`last step: ${progress.step}: ${progress.message}`);
    },
  );
}

export function statusCommand(context: CliContext): Command {
  return targetCommand('status', 'show the job, flinkops\' record of it and running operations')
    .option('--rest-url <url>', 'Flink REST endpoint override')
    .action(async (arg: string, options: TargetOptions & { json?: boolean; restUrl?: string }) => {
      const ref = cluster(arg, options.namespace);
      const { client, settings, print } = await context.connect({ worker: true });
      const input: DescribeTargetInput = { cluster: ref, job: options.job, restUrl: options.restUrl };
      const snapshot = await client.workflow
        .execute<typeof describeTargetWorkflow>('describeTargetWorkflow', {
          taskQueue: settings.taskQueue,
          workflowId: `flinkops-status-${ref.namespace}-${ref.name}-${Date.now()}`,
          args: [input],
          typedSearchAttributes: operationSearchAttributes('status', ref),
          // A read-only look: if nobody runs it within this, it ends by itself instead of lingering.
          workflowExecutionTimeout: '2 minutes',
        })
        .catch((error: unknown) => {
          throw workflowFailure(error);
        });
      const running: { workflowId: string; type: string; step?: string; jobs?: { jobName: string; step: string; message: string }[] }[] = [];
      // Operations hold the canonical name (the JobManager Deployment) once they have resolved it, the name they were
      // given until then: both are asked for.
      const names = [...new Set([`${ref.namespace}/${ref.name}`, `${snapshot.cluster.namespace}/${snapshot.cluster.name}`])].map((n) => `"${n}"`).join(', ');
      for await (const execution of client.workflow.list({ query: `FlinkCluster IN (${names}) AND ExecutionStatus = "Running" AND FlinkopsOperation != "status" AND FlinkopsOperation != "doctor"` })) {
        const progressQuery = progressQueryOf(execution.type);
        const progress = progressQuery
          ? await client.workflow.getHandle(execution.workflowId).query<{ step: string; message: string; jobs?: { jobName: string; step: string; message: string }[] }>(progressQuery).catch(() => undefined)
          : undefined;
        running.push({
          workflowId: execution.workflowId,
          type: execution.type,
          step: progress ? `${progress.step}: ${progress.message}` : undefined,
          // A cluster upgrade tells each job's step.
          ...(progress?.jobs ? { jobs: progress.jobs.map((j) => ({ jobName: j.jobName, step: j.step, message: j.message })) } : {}),
        });
      }
      if (isMachineOutput()) print(formatData({ target: snapshot, running }));
      else printStatus(snapshot, running, print);
      const unknown = snapshot.problem ?? snapshot.refusals?.map((r) => `${r.field}: ${r.problem}`).join('; ') ?? (options.job !== undefined ? snapshot.jobProblem : undefined);
      if (unknown) throw new CliError(`${ref.namespace}/${ref.name}${options.job ? ` job ${options.job}` : ''}: ${unknown}`, EXIT.invalid);
    });
}

function printStatus(snapshot: TargetSnapshot, running: { workflowId: string; type: string; step?: string; jobs?: { jobName: string; step: string; message: string }[] }[], print: (line: string) => void): void {
  const name = `${snapshot.cluster.namespace}/${snapshot.cluster.name}`;
  if (snapshot.problem) {
    print(`${name}: ${snapshot.problem}`);
  } else {
    print(`${name}: ${snapshot.kind} cluster, Flink ${snapshot.flinkVersion} at ${snapshot.restUrl}`);
    const job = snapshot.job;
    if (job) {
      print(`job ${job.id} (${job.name}): ${job.state}, ${job.tasks.running}/${job.tasks.total} tasks running, ${job.numRestarts ?? 0} restarts`);
      if (job.checkpointing) print(`  checkpoints every ${formatDuration(job.checkpointing.intervalMs)}, ${job.completedCheckpoints} completed${job.latestCheckpoint ? `, latest ${job.latestCheckpoint.path}` : ''}`);
      if (job.restoredFrom) print(`  restored from ${job.restoredFrom.path}`);
    } else {
      print(`job: ${snapshot.jobProblem}`);
    }
    if (snapshot.currentVersion) print(`version: ${describeVersion(snapshot.currentVersion)}`);
    const record = snapshot.record;
    if (record?.lastGoodSavepoint) print(`last good savepoint: ${record.lastGoodSavepoint.path} (${record.lastGoodSavepoint.at})`);
    for (const entry of record?.history.slice(-3) ?? []) print(`  ${entry.at} ${entry.operation} ${entry.outcome}: ${entry.message ?? ''}`);
  }
  if (running.length === 0) print('no flinkops operation running');
  for (const r of running) {
    print(`running: ${r.type} ${r.workflowId}${r.step ? ` (${r.step})` : ''}`);
    for (const job of [...(r.jobs ?? [])].sort((a, b) => a.jobName.localeCompare(b.jobName))) print(`  ${job.jobName}: ${job.step}: ${job.message}`);
  }
}

function updateRefused(error: unknown): CliError {
  const failure = error as { cause?: { message?: string }; message?: string; name?: string };
  if (failure.name === 'WorkflowNotFoundError') return new CliError(`no such upgrade is running (${failure.message})`, EXIT.invalid);
  return new CliError(`refused: ${failure.cause?.message ?? failure.message ?? String(error)}`, EXIT.invalid);
}
