import { parseArgs } from 'node:util';
import { NativeConnection, Runtime, Worker, type DefaultLogger } from '@temporalio/worker';
import { createActivities, defaultActivityContext } from '../activities';
import { temporalConnectionOptions } from '../config/temporal';
import { ConfigError, describeWorkerSettings, loadWorkerSettings, workerSecrets, type WorkerSettings } from '../config/worker';
import { redactor } from '../config/secret';
import { formatDuration } from '../workflows/model/durations';
import { METRIC_BUCKETS } from '../workflows/model/metric-names';
import { activityInterceptors } from './activity-interceptors';
import { startHealthServer } from './health';
import { Readiness } from './readiness';
import { promoteWhenPolling } from './versioning';
import { createLogger } from './logging';
import { WorkerMetrics } from './worker-metrics';
import { tuneV8 } from './v8-tuning';
import { workflowSource } from './workflow-source';

const USAGE = 'usage: flinkops-worker [--config FILE] [--check-config]';

/**
 * The flinkops worker: runs the workflows and activities on the configured task queue. On SIGTERM/SIGINT it stops
 * polling, lets in-flight activities finish for worker.shutdownGraceTime (then cancels them; heartbeating
 * activities see the cancellation), and exits.
 */
async function main(argv: string[]): Promise<number> {
  tuneV8();
  let args;
  try {
    args = parseArgs({ args: argv, options: { config: { type: 'string' }, 'check-config': { type: 'boolean', default: false } } }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let settings: WorkerSettings;
  try {
    settings = loadWorkerSettings({ file: args.config });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const logger = createLogger(settings.logging, redactor(workerSecrets(settings)));
  if (args['check-config']) {
    logger.info('configuration is valid', { settings: describeWorkerSettings(settings) });
    return 0;
  }
  try {
    installRuntime(settings, logger);
  } catch (error) {
    logger.error(`cannot start the metrics endpoint: ${(error as Error).message}`, { field: 'metrics.bindAddress', bindAddress: settings.metrics.bindAddress });
    return 1;
  }
  return runWorker(settings, logger);
}

function installRuntime(settings: WorkerSettings, logger: DefaultLogger): void {
  const { bindAddress } = settings.metrics;
  Runtime.install({
    logger,
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    telemetryOptions: {
      // The SDK core's own log lines go through the same logger (JSON, redacted).
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      metrics: bindAddress ? { prometheus: { bindAddress, histogramBucketOverrides: METRIC_BUCKETS } } : undefined,
    },
  });
}

async function runWorker(settings: WorkerSettings, logger: DefaultLogger): Promise<number> {
  const { temporal } = settings;
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(temporalConnectionOptions(temporal));
  } catch (error) {
    logger.error(`cannot connect to Temporal at ${temporal.address}: ${(error as Error).message}`, { field: 'temporal.address' });
    return 1;
  }
  try {
    const { workflowInterceptorModules, ...source } = workflowSource();
    const activityContext = defaultActivityContext(settings);
    const versioning = settings.worker.versioning;
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      ...source,
      interceptors: { activity: [activityInterceptors], workflowModules: workflowInterceptorModules },
      activities: createActivities(activityContext),
      shutdownGraceTime: settings.worker.shutdownGraceTimeMs,
      ...(settings.worker.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: settings.worker.maxConcurrentActivities } : {}),
      ...(versioning
        ? {
            workerDeploymentOptions: {
              useWorkerVersioning: true,
              version: { deploymentName: versioning.deploymentName, buildId: versioning.buildId },
              defaultVersioningBehavior: versioning.defaultBehavior,
            },
          }
        : {}),
    });
    const readiness = new Readiness(connection, temporal.namespace, activityContext.kube.kc, (message, meta) => logger.warn(message, meta));
    await readiness.start();
    const health = settings.health.bindAddress
      ? await startHealthServer(settings.health.bindAddress, {
          ready: () => worker.getState() === 'RUNNING' && readiness.ready(),
          live: () => worker.getState() !== 'FAILED',
          problems: () => [...(worker.getState() === 'RUNNING' ? [] : [`worker: ${worker.getState()}`]), ...readiness.problems()],
        })
      : undefined;
    const workerMetrics = settings.metrics.bindAddress
      ? new WorkerMetrics(Runtime.instance().metricMeter, connection, { namespace: temporal.namespace, taskQueue: temporal.taskQueue, buildId: versioning?.buildId }, (message, meta) =>
          logger.warn(message, meta),
        )
      : undefined;
    workerMetrics?.start(() => worker.getState() === 'RUNNING' && readiness.ready());
    if (versioning?.promote) void promoteWhenPolling(connection, temporal.namespace, versioning, logger);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () =>
        logger.info(`${signal}: shutting down; in-flight activities have ${formatDuration(settings.worker.shutdownGraceTimeMs)} to finish before they are cancelled`),
      );
    }
    logger.info(`flinkops worker polling task queue "${temporal.taskQueue}" on ${temporal.address} (namespace ${temporal.namespace})`, {
      settings: describeWorkerSettings(settings),
    });
    try {
      await worker.run();
    } finally {
      readiness.stop();
      workerMetrics?.stop();
      health?.close();
    }
    logger.info('flinkops worker stopped');
    return 0;
  } catch (error) {
    logger.error(`flinkops worker failed: ${(error as Error).message}`, { error });
    return 1;
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
