import type { WorkerSettings } from '../config/worker';
import { createClusterInfoActivities } from './cluster-info';
import { createClusterUpgradeActivities } from './cluster-upgrade';
import type { ActivityContext } from './context';
import { createDeployActivities } from './deploy';
import { createFleetActivities } from './fleet';
import { failpointDelays } from './failpoints';
import { flinkClientFactory } from './flink/transport';
import { createJobControlActivities } from './job-control';
import { kubeClients } from './kube/clients';
import { createLockActivities } from './locks';
import { createObserveActivities } from './observe';
import { createRecordActivities } from './records';
import { createRemediationActivities } from './remediation';
import { createSavepointRunActivities } from './savepoint-run';
import { createSavepointActivities } from './savepoints';
import { createVerifyActivities } from './verify';

export type { ActivityContext } from './context';

/** The worker's real dependencies: Kubernetes from the kubeconfig (or in-cluster), Flink over HTTP. */
export function defaultActivityContext(settings: WorkerSettings): ActivityContext {
  return {
    settings,
    kube: kubeClients(settings.kube.kubeconfig),
    flinkClient: flinkClientFactory(settings.flink),
    failpoints: failpointDelays(),
  };
}

export function createActivities(ctx: ActivityContext) {
  return {
    ...createClusterInfoActivities(ctx),
    ...createObserveActivities(ctx),
    ...createJobControlActivities(ctx),
    ...createDeployActivities(ctx),
    ...createVerifyActivities(ctx),
    ...createRecordActivities(ctx),
    ...createLockActivities(ctx),
    ...createSavepointActivities(ctx),
    ...createSavepointRunActivities(ctx),
    ...createFleetActivities(ctx),
    ...createRemediationActivities(ctx),
    ...createClusterUpgradeActivities(ctx),
  };
}

export type Activities = ReturnType<typeof createActivities>;
