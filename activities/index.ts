import type { WorkerSettings } from '../config/worker';
import { createClusterInfoActivities } from './cluster-info';
import type { ActivityContext } from './context';
import { createDeployActivities } from './deploy';
import { createFleetActivities } from './fleet';
import { failpointDelays } from './failpoints';
import { FlinkRestClient } from './flink/rest-client';
import { flinkTransport } from './flink/transport';
import { createJobControlActivities } from './job-control';
import { kubeClients } from './kube/clients';
import { createLockActivities } from './locks';
import { createObserveActivities } from './observe';
import { createRecordActivities } from './records';
import { createRemediationActivities } from './remediation';
import { createSavepointActivities } from './savepoints';
import { createVerifyActivities } from './verify';

export type { ActivityContext } from './context';

/** The worker's real dependencies: Kubernetes from the kubeconfig (or in-cluster), Flink over HTTP. */
export function defaultActivityContext(settings: WorkerSettings): ActivityContext {
  const transport = flinkTransport(settings.flink);
  return {
    settings,
    kube: kubeClients(settings.kube.kubeconfig),
    flinkClient: (baseUrl) => new FlinkRestClient({ baseUrl, ...transport }),
    failpoints: failpointDelays(),
  };
}

export function createActivities(ctx: ActivityContext) {
  return {
    ...createClusterInfoActivities(ctx.flinkClient),
    ...createObserveActivities(ctx),
    ...createJobControlActivities(ctx),
    ...createDeployActivities(ctx),
    ...createVerifyActivities(ctx),
    ...createRecordActivities(ctx),
    ...createLockActivities(ctx),
    ...createSavepointActivities(ctx),
    ...createFleetActivities(ctx),
    ...createRemediationActivities(ctx),
  };
}

export type Activities = ReturnType<typeof createActivities>;
