import type { ClusterRef, TargetKind } from '../workflows/model/target';
import type { ActivityContext } from './context';
import { openTarget } from './targets/seam';
import { TERMINAL_JOB_STATES } from './flink/schemas';
import { COMPONENT_LABEL } from './targets/resolve';

export interface FleetTarget {
  cluster: ClusterRef;
  kind: TargetKind;
  /** Session clusters: the job's name when it is unique on the cluster, else its id. */
  job?: string;
}

/** Every running job of every Flink cluster whose JobManager Deployment matches a label selector. */
export function createFleetActivities(ctx: ActivityContext) {
  return {
    async discoverFleet(request: { selector: string; namespace?: string }): Promise<{ targets: FleetTarget[]; problems: string[] }> {
      const labelSelector = [request.selector, `${COMPONENT_LABEL}=jobmanager`].filter(Boolean).join(',');
      const deployments = request.namespace
        ? await ctx.kube.apps.listNamespacedDeployment({ namespace: request.namespace, labelSelector })
        : await ctx.kube.apps.listDeploymentForAllNamespaces({ labelSelector });
      const targets: FleetTarget[] = [];
      const problems: string[] = [];
      for (const deployment of deployments.items) {
        const cluster = { namespace: deployment.metadata!.namespace!, name: deployment.metadata!.name! };
        const target = await openTarget(ctx, { cluster });
        if ('problem' in target) {
          problems.push(`${cluster.namespace}/${cluster.name}: ${target.problem}`);
          continue;
        }
        try {
          const jobs = (await target.flink.listJobs()).filter((j) => !TERMINAL_JOB_STATES.includes(j.state));
          if (target.singleJob) {
            targets.push({ cluster, kind: target.kind });
            continue;
          }
          for (const job of jobs) {
            const unique = jobs.filter((j) => j.name === job.name).length === 1;
            targets.push({ cluster, kind: target.kind, job: unique ? job.name : job.jid });
          }
        } catch (error) {
          problems.push(`${cluster.namespace}/${cluster.name}: ${(error as Error).message}`);
        }
      }
      return { targets, problems };
    },
  };
}
