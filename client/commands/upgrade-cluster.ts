import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parse } from 'yaml';
import type { ConfigFile } from '../../config/schema';
import { PROGRESS_QUERIES } from '../../workflows/model/progress-queries';
import { parseClusterRef, type ClusterRef } from '../../workflows/model/target';
import { operationSearchAttributes } from '../../workflows/search-attributes';
import type { ClusterUpgradeProgress, ClusterUpgradeResult } from '../../workflows/cluster-upgrade/contract';
import { clusterUpgradeWorkflowId } from '../../workflows/cluster-upgrade/ids';
import { parseClusterUpgradeRequest, type ClusterUpgradeRequest } from '../../workflows/cluster-upgrade/request';
import type { upgradeClusterWorkflow } from '../../workflows/cluster-upgrade/workflow';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { followWorkflow, startExclusive } from '../follow';
import { describeWorkflow, workflowUrl } from '../links';
import { formatData, isMachineOutput, outputFormat } from '../output';

interface UpgradeClusterOptions {
  namespace: string;
  image?: string;
  flinkVersion?: string;
  set?: string[];
  unset?: string[];
  jobs?: string;
  allowDrop?: string[];
  onFailure: string;
  concurrency?: string;
  savepointDir?: string;
  restUrl?: string;
  dryRun?: boolean;
  requireApproval?: boolean;
  approvalTimeout?: string;
  savepointTimeout?: string;
  deployTimeout?: string;
  verifyTimeout?: string;
  stabilityWindow?: string;
  wait: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function upgradeClusterCommand(context: CliContext): Command {
  return new Command('upgrade-cluster')
    .description('change a session cluster\'s image and/or configuration, carrying every job on it: stop each with a savepoint, roll the cluster, restore and verify each; roll back as a whole on failure')
    .argument('<cluster>', 'NAME or NAMESPACE/NAME of the JobManager Deployment (or chart release)')
    .option('-n, --namespace <namespace>', 'namespace of the cluster', 'default')
    .option('--image <ref>', 'new image of the JobManager and TaskManager containers, e.g. flink:2.2.1')
    .option('--flink-version <x.y[.z]>', 'the Flink version of --image, when its tag does not say')
    .option('--set <key=value>', 'a configuration key to set; repeat for each', collect)
    .option('--unset <key>', 'a configuration key to remove; repeat for each', collect)
    .option('--jobs <file>', 'YAML/JSON mapping job name -> {jar, entryClass, args, parallelism, rollback: {...}}: how each job runs on the new cluster (wins over flinkops\' records)')
    .option('--allow-drop <job>', 'a job (name or id) flinkops may stop with a savepoint and not start again; repeat for each', collect)
    .addOption(new Option('--on-failure <policy>', 'a job that does not come back: roll the whole cluster back, or keep the jobs that verified').choices(['rollback', 'keep-going']).default('rollback'))
    .option('--concurrency <n>', 'jobs stopped and started at once (default 4)')
    .option('--savepoint-dir <uri>', 'where the savepoints go (default: the cluster\'s execution.checkpointing.savepoint-dir)')
    .option('--rest-url <url>', 'Flink REST endpoint, when the cluster\'s Service is not reachable from the worker')
    .option('--dry-run', 'print the plan (every job, the configuration changes) and change nothing')
    .option('--require-approval', 'wait for `flinkops approve --cluster-upgrade` before stopping any job')
    .option('--approval-timeout <duration>', 'abort if not approved in time (default 1h)')
    .option('--savepoint-timeout <duration>', 'per job (default 5m)')
    .option('--deploy-timeout <duration>', 'the cluster\'s rollout, and each job\'s submission (default 5m)')
    .option('--verify-timeout <duration>', 'per job (default 5m)')
    .option('--stability-window <duration>', 'how long each job must run without a restart (default 30s)')
    .option('--no-wait', 'print the workflow id and return')
    .action(async (clusterArg: string, options: UpgradeClusterOptions) => {
      const request = buildClusterUpgradeRequest(clusterArg, options, context.defaults().upgrade);
      const { client, settings, print } = await context.connect({ worker: true });
      const workflowId = clusterUpgradeWorkflowId(request.cluster);
      const name = `${request.cluster.namespace}/${request.cluster.name}`;
      const handle = await startExclusive<typeof upgradeClusterWorkflow>(
        client,
        'upgradeClusterWorkflow',
        {
          taskQueue: settings.taskQueue,
          workflowId,
          args: [request],
          typedSearchAttributes: operationSearchAttributes('upgrade-cluster', request.cluster),
          staticSummary: `upgrade cluster ${name}${request.image ? ` to ${request.image}` : ''}${request.dryRun ? ' (dry run)' : ''}`,
        },
        `an upgrade of cluster ${name}`,
      );
      if (!options.wait) {
        print(isMachineOutput() ? formatData({ workflowId, webUrl: workflowUrl(settings, workflowId) }) : workflowId);
        return;
      }
      if (!isMachineOutput()) print(`cluster upgrade started: ${describeWorkflow(settings, workflowId)}`);
      const result = await followWorkflow<ClusterUpgradeResult>(
        handle,
        () => handle.query<ClusterUpgradeProgress>(PROGRESS_QUERIES.upgradeClusterWorkflow),
        isMachineOutput() ? () => undefined : print,
      );
      if (isMachineOutput()) print(formatData({ workflowId, webUrl: workflowUrl(settings, workflowId), ...result }));
      else printClusterResult(result, print);
      if (result.outcome === 'partially-upgraded') throw new CliError(`partially upgraded: ${result.jobs.filter((j) => j.step !== 'verified').map((j) => j.jobName).join(', ')} did not come back (see above)`, EXIT.failed);
    });
}

/** The request from the command line, validated with the workflow's own schema: bad input never starts anything. */
export function buildClusterUpgradeRequest(clusterArg: string, options: UpgradeClusterOptions, defaults: ConfigFile['defaults']['upgrade'] = {}): ClusterUpgradeRequest {
  let cluster: ClusterRef;
  try {
    cluster = parseClusterRef(clusterArg, options.namespace);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.invalid);
  }
  const set: Record<string, string> = {};
  for (const pair of options.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--set: "${pair}" is not KEY=VALUE`, EXIT.invalid);
    set[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const concurrency = options.concurrency === undefined ? undefined : Number(options.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency <= 0)) throw new CliError(`--concurrency: must be a positive integer, got "${options.concurrency}"`, EXIT.invalid);
  const parsed = parseClusterUpgradeRequest({
    cluster,
    restUrl: options.restUrl,
    image: options.image,
    flinkVersion: options.flinkVersion,
    set,
    unset: options.unset ?? [],
    jobs: options.jobs ? readJobsFile(options.jobs) : {},
    allowDrop: options.allowDrop ?? [],
    onFailure: options.onFailure,
    ...(concurrency !== undefined ? { concurrency } : {}),
    savepointDir: options.savepointDir,
    dryRun: options.dryRun ?? false,
    approval: { required: options.requireApproval ?? false, ...given('timeout', options.approvalTimeout ?? defaults.approvalTimeout) },
    timeouts: {
      ...given('savepoint', options.savepointTimeout ?? defaults.savepointTimeout),
      ...given('deploy', options.deployTimeout ?? defaults.deployTimeout),
      ...given('verify', options.verifyTimeout ?? defaults.verifyTimeout),
    },
    ...given('stabilityWindow', options.stabilityWindow ?? defaults.stabilityWindow),
    requestedBy: process.env.USER ?? 'flinkops',
  });
  if (!parsed.ok) throw new CliError(`invalid cluster upgrade: ${parsed.problem.replace(/^jobs\./, '--jobs: ')}`, EXIT.invalid);
  return parsed.request;
}

/** --jobs FILE: `{jobs: {NAME: {...}}}` or `{NAME: {...}}`, YAML or JSON. */
function readJobsFile(file: string): unknown {
  let document: unknown;
  try {
    document = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`--jobs: cannot read ${file}: ${(error as Error).message}`, EXIT.invalid);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new CliError(`--jobs: ${file} must map job names to {jar, entryClass, args}`, EXIT.invalid);
  const jobs = (document as { jobs?: unknown }).jobs ?? document;
  return jobs;
}

function given<K extends string>(key: K, value: string | number | undefined): Partial<Record<K, string | number>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string | number>);
}

function printClusterResult(result: ClusterUpgradeResult, print: (line: string) => void): void {
  const plan = result.plan;
  if (result.outcome === 'dry-run') {
    print('plan (dry run, nothing changed):');
    print(`  cluster: ${plan.cluster.namespace}/${plan.cluster.name}: ${plan.from.image} (Flink ${plan.fromVersion}) -> ${plan.to.image} (Flink ${plan.toVersion})`);
    for (const change of plan.configChanges) print(`  config ${change.change.padEnd(10)} ${change.key}: ${change.detail}`);
    for (const check of plan.checks) print(`  ✓ ${check.name}: ${check.detail}`);
    for (const warning of plan.warnings) print(`  ! ${warning}`);
    plan.steps.forEach((step, i) => print(`  ${i + 1}. ${step}`));
    return;
  }
  print(result.message);
  const wide = outputFormat() === 'wide';
  print(`${'JOB'.padEnd(24)} ${'STEP'.padEnd(10)} ${'JOB ID'.padEnd(32)}${wide ? ' SAVEPOINT' : ''}`);
  for (const job of result.jobs) print(`${job.jobName.padEnd(24)} ${job.step.padEnd(10)} ${(job.jobId ?? job.oldJobId).padEnd(32)}${wide ? ` ${job.savepoint ?? ''}` : ''}`);
  for (const warning of result.warnings ?? []) print(`warning: ${warning}`);
}
