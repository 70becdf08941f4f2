import type { FlinkRestClient } from './flink/rest-client';
import type { ClusterOverview, JobOverview } from './flink/schemas';

export interface ClusterInfo {
  restUrl: string;
  overview: ClusterOverview;
  jobs: JobOverview[];
}

/** Read-only: what a Flink cluster reports about itself and its jobs. */
export function createClusterInfoActivities(flinkClient: (restUrl: string) => FlinkRestClient) {
  return {
    async describeFlinkCluster(restUrl: string): Promise<ClusterInfo> {
      const client = flinkClient(restUrl);
      const [overview, jobs] = await Promise.all([client.overview(), client.listJobs()]);
      return { restUrl, overview, jobs };
    },
  };
}
