import type { DefaultLogger, NativeConnection } from '@temporalio/worker';

/**
 * With Worker Versioning, tasks go to the deployment's current version only. A worker configured to promote itself
 * makes its own version current once Temporal knows it (it registers by polling), so rolling out a new worker image
 * moves new work, and auto-upgrading running workflows, to it.
 */
export async function promoteWhenPolling(
  connection: Pick<NativeConnection, 'workflowService'>,
  namespace: string,
  version: { deploymentName: string; buildId: string },
  logger: Pick<DefaultLogger, 'info' | 'warn'>,
  attempts = 30,
): Promise<void> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await connection.workflowService.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        identity: `flinkops-worker ${version.buildId}`,
        ignoreMissingTaskQueues: true,
      });
      logger.info(`worker deployment ${version.deploymentName}: build ${version.buildId} is the current version`, { deploymentName: version.deploymentName, buildId: version.buildId });
      return;
    } catch (error) {
      if (attempt === attempts) {
        logger.warn(`could not make build ${version.buildId} the current version of ${version.deploymentName}: ${(error as Error).message}`, { deploymentName: version.deploymentName });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
