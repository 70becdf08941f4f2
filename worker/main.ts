import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, defaultActivityDependencies } from '../activities';
import { temporalSettingsFromEnv } from '../config/temporal';
import { workflowSource } from './workflow-source';

/** The flinkops worker: runs the workflows and activities on the configured task queue until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const settings = temporalSettingsFromEnv();
  const connection = await NativeConnection.connect({ address: settings.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      ...workflowSource(),
      activities: createActivities(defaultActivityDependencies()),
      shutdownGraceTime: '30 seconds',
    });
    console.log(`flinkops worker polling task queue "${settings.taskQueue}" on ${settings.address} (namespace ${settings.namespace})`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
