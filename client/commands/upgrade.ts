import { type Client } from '@temporalio/client';
import { Command, Option } from 'commander';
import { describeVersionInFull, parseClusterRef, type ClusterRef, type VersionSpec } from '../../workflows/model/target';
import { PROGRESS_QUERIES } from '../../workflows/model/progress-queries';
import { operationSearchAttributes } from '../../workflows/search-attributes';
import { upgradeWorkflowId } from '../../workflows/upgrade/ids';
import { parseUpgradeRequest, type UpgradeRequest } from '../../workflows/upgrade/request';
import type { UpgradeProgress, UpgradeResult, upgradeWorkflow } from '../../workflows/upgrade/workflow';
import { CliError, EXIT } from '../exit-codes';
import { followWorkflow, startExclusive } from '../follow';
import type { CliContext } from '../context';
import type { ConfigFile } from '../../config/schema';
import { formatData, isMachineOutput } from '../output';
import { describeWorkflow, workflowUrl } from '../links';

interface UpgradeOptions {
  namespace: string;
  job?: string;
  jar?: string;
  entryClass?: string;
  arg?: string[];
  parallelism?: string;
  image?: string;
  jarUri?: string;
  flinkVersion?: string;
  fromJar?: string;
  fromEntryClass?: string;
  fromArg?: string[];
  fromImage?: string;
  mode: string;
  allowNonRestoredState?: boolean;
  savepointDir?: string;
  restUrl?: string;
  dryRun?: boolean;
  requireApproval?: boolean;
  approvalTimeout?: string;
  savepointTimeout?: string;
  deployTimeout?: string;
  verifyTimeout?: string;
  stabilityWindow?: string;
  maxCheckpointAge?: string;
  json?: boolean;
  wait: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function upgradeCommand(context: CliContext): Command {
  return new Command('upgrade')
    .description('stop a job with a savepoint, redeploy the new version from it, verify, roll back on failure')
    .argument('<cluster>', 'NAME or NAMESPACE/NAME of the JobManager Deployment (or chart release)')
    .option('-n, --namespace <namespace>', 'namespace of the cluster', 'default')
    .option('--job <id|name>', 'the job to upgrade (session clusters)')
    .option('--jar <path|uri>', 'new jar: a path the worker can read (session clusters), or the jarURI of a FlinkSessionJob')
    .option('--entry-class <class>', 'entry class of the new jar (default: the running version\'s, or the jar manifest)')
    .option('--arg <value>', 'a program argument of the new version; repeat for each (default: the running version\'s)', collect)
    .option('--parallelism <n>', 'parallelism of the new version')
    .option('--image <ref>', 'new image (application clusters, application FlinkDeployments)')
    .option('--jar-uri <uri>', 'application FlinkDeployment: new spec.job.jarURI (default: the current one)')
    .option('--flink-version <v1_x>', 'application FlinkDeployment: new spec.flinkVersion, e.g. v1_19')
    .option('--from-jar <path>', 'the jar running now, if flinkops has no record of it (needed to roll back)')
    .option('--from-entry-class <class>', 'entry class of the running jar')
    .option('--from-arg <value>', 'a program argument of the running version; repeat for each', collect)
    .option('--from-image <ref>', 'the image running now (application clusters; read from the Deployment if omitted)')
    .addOption(new Option('--mode <mode>', 'how state moves to the new version').choices(['savepoint', 'last-state', 'stateless']).default('savepoint'))
    .option('--allow-non-restored-state', 'let the new version drop state it has no operator for')
    .option('--savepoint-dir <uri>', 'where to write the savepoint (default: the cluster\'s execution.checkpointing.savepoint-dir)')
    .option('--rest-url <url>', 'Flink REST endpoint, when the cluster\'s Service is not reachable from the worker')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--require-approval', 'wait for `flinkops approve` before stopping the job')
    .option('--approval-timeout <duration>', 'abort if not approved in time (default 1h)')
    .option('--savepoint-timeout <duration>', 'default 5m')
    .option('--deploy-timeout <duration>', 'default 5m')
    .option('--verify-timeout <duration>', 'default 5m')
    .option('--stability-window <duration>', 'how long the new version must run without a restart (default 30s)')
    .option('--max-checkpoint-age <duration>', 'last-state mode: newest checkpoint must be younger (default 10m)')
    .option('--no-wait', 'print the workflow id and return')
    .action(async (clusterArg: string, options: UpgradeOptions) => {
      const request = buildRequest(clusterArg, options, context.defaults().upgrade);
      const { client, settings, print } = await context.connect({ worker: true });
      const workflowId = upgradeWorkflowId(request.cluster, request.job);
      const target = `${request.cluster.namespace}/${request.cluster.name}${request.job ? ` job ${request.job}` : ''}`;
      const handle = await startExclusive<typeof upgradeWorkflow>(
        client,
        'upgradeWorkflow',
        {
          taskQueue: settings.taskQueue,
          workflowId,
          args: [request],
          typedSearchAttributes: operationSearchAttributes('upgrade', request.cluster, request.job),
          staticSummary: `upgrade ${target} to ${versionText(request.to)}${request.dryRun ? ' (dry run)' : ''}`,
        },
        `an upgrade of ${target}`,
      );
      if (!options.wait) {
        print(isMachineOutput() ? formatData({ workflowId, webUrl: workflowUrl(settings, workflowId) }) : workflowId);
        return;
      }
      if (!isMachineOutput()) print(`upgrade started: ${describeWorkflow(settings, workflowId)}`);
      const result = await followWorkflow<UpgradeResult>(
        handle,
        () => handle.query<UpgradeProgress>(PROGRESS_QUERIES.upgradeWorkflow),
        isMachineOutput() ? () => undefined : print,
      );
      if (isMachineOutput()) print(formatData({ workflowId, webUrl: workflowUrl(settings, workflowId), ...result }));
      else printResult(result, print);
    });
}

/** The request from the command line, validated with the workflow's own schema: bad input never starts anything. */
export function buildRequest(clusterArg: string, options: UpgradeOptions, defaults: ConfigFile['defaults']['upgrade'] = {}): UpgradeRequest {
  let cluster: ClusterRef;
  try {
    cluster = parseClusterRef(clusterArg, options.namespace);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.invalid);
  }
  if (options.jar && options.image) throw new CliError('--jar and --image: give one (a jar for a session job, an image for an application cluster)', EXIT.invalid);
  if (!options.jar && !options.image) throw new CliError('the new version is missing: --jar (session job) or --image (application cluster)', EXIT.invalid);
  const to: Record<string, unknown> = options.jar
    ? { kind: 'jar', jar: options.jar, entryClass: options.entryClass, args: options.arg, parallelism: intOption('--parallelism', options.parallelism) }
    : { kind: 'image', image: options.image, args: options.arg, entryClass: options.entryClass, jarUri: options.jarUri, flinkVersion: options.flinkVersion };
  const from = options.fromJar
    ? { kind: 'jar', jar: options.fromJar, entryClass: options.fromEntryClass, args: options.fromArg }
    : options.fromImage
      ? { kind: 'image', image: options.fromImage, args: options.fromArg }
      : undefined;
  const parsed = parseUpgradeRequest({
    cluster,
    job: options.job,
    restUrl: options.restUrl,
    to,
    from,
    mode: options.mode,
    allowNonRestoredState: options.allowNonRestoredState ?? false,
    savepointDir: options.savepointDir,
    dryRun: options.dryRun ?? false,
    // A flag wins; then the configured default; without either, the workflow's own default.
    approval: { required: options.requireApproval ?? false, ...given('timeout', options.approvalTimeout ?? defaults.approvalTimeout) },
    timeouts: {
      ...given('savepoint', options.savepointTimeout ?? defaults.savepointTimeout),
      ...given('deploy', options.deployTimeout ?? defaults.deployTimeout),
      ...given('verify', options.verifyTimeout ?? defaults.verifyTimeout),
    },
    ...given('stabilityWindow', options.stabilityWindow ?? defaults.stabilityWindow),
    ...given('maxCheckpointAge', options.maxCheckpointAge ?? defaults.maxCheckpointAge),
    requestedBy: process.env.USER ?? 'flinkops',
  });
  if (!parsed.ok) throw new CliError(`invalid upgrade: ${parsed.problem}`, EXIT.invalid);
  return parsed.request;
}

function given<K extends string>(key: K, value: string | number | undefined): Partial<Record<K, string | number>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string | number>);
}

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new CliError(`${name}: must be a positive integer, got "${value}"`, EXIT.invalid);
  return parsed;
}

function versionText(version: VersionSpec): string {
  return version.kind === 'image' ? version.image : version.jar;
}

function printResult(result: UpgradeResult, print: (line: string) => void): void {
  if (result.outcome === 'dry-run') {
    print('plan (dry run, nothing changed):');
    print(`  from: ${describeVersionInFull(result.plan.from)}`);
    print(`  to:   ${describeVersionInFull(result.plan.to)}`);
    for (const check of result.plan.checks) print(`  ✓ ${check.name}: ${check.detail}`);
    for (const warning of result.plan.warnings) print(`  ! ${warning}`);
    result.plan.steps.forEach((step, i) => print(`  ${i + 1}. ${step}`));
    return;
  }
  print(result.message);
  if (result.verification) print(`verified: ${result.verification}`);
  for (const warning of result.warnings ?? []) print(`warning: ${warning}`);
}

export type { Client };
