import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, defaultActivityContext } from '../activities';
import { workerSettingsFromEnv } from '../config/worker';
import { workflowSource } from './workflow-source';

/** The flinkops worker: runs the workflows and activities on the configured task queue until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const settings = workerSettingsFromEnv();
  const { temporal } = settings;
  const connection = await NativeConnection.connect({ address: temporal.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      ...workflowSource(),
      activities: createActivities(defaultActivityContext(settings)),
      shutdownGraceTime: '30 seconds',
    });
    console.log(`flinkops worker polling task queue "${temporal.taskQueue}" on ${temporal.address} (namespace ${temporal.namespace})`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
