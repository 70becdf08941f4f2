import type { ActivityContext } from './context';
import type { ClusterOverview, JobOverview } from './flink/schemas';
import { checkRestUrl } from './policy';

export interface ClusterInfo {
  restUrl: string;
  overview: ClusterOverview;
  jobs: JobOverview[];
}

/** Read-only: what a Flink cluster reports about itself and its jobs, at a URL the worker's policy allows. */
export function createClusterInfoActivities(ctx: ActivityContext) {
  return {
    async describeFlinkCluster(restUrl: string): Promise<ClusterInfo> {
      const url = await checkRestUrl(restUrl, ctx.settings.flink.restUrlOverride);
      const client = ctx.flinkClient(url, 'override');
      const [overview, jobs] = await Promise.all([client.overview(), client.listJobs()]);
      return { restUrl: url, overview, jobs };
    },
  };
}
