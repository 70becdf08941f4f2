import { createClusterInfoActivities } from './cluster-info';
import { FlinkRestClient } from './flink/rest-client';

/** Everything activities touch from the outside world; tests pass fakes or clients for the local stack. */
export interface ActivityDependencies {
  flinkClient: (restUrl: string) => FlinkRestClient;
}

export function defaultActivityDependencies(): ActivityDependencies {
  return { flinkClient: (baseUrl) => new FlinkRestClient({ baseUrl }) };
}

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createClusterInfoActivities(deps.flinkClient),
  };
}

export type Activities = ReturnType<typeof createActivities>;
