import type { ClusterRef, TargetKind } from '../workflows/model/target';
import type { ActivityContext } from './context';
import { openTarget } from './targets/seam';
import { TERMINAL_JOB_STATES } from './flink/schemas';
import { listFlinkResources } from './kube/flink-resources';
import { OWNED_BY_FLINK_DEPLOYMENT } from './targets/operator/resolve';
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
        // A JobManager the Flink Kubernetes Operator created is found through its FlinkDeployment or FlinkSessionJobs.
        if (deployment.metadata?.ownerReferences?.some((o) => o.kind === OWNED_BY_FLINK_DEPLOYMENT)) continue;
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
      // The operator's resources that run a job, by the same selector: every FlinkSessionJob, and application FlinkDeployments.
      for (const job of await listFlinkResources(ctx.kube, 'flinksessionjobs', request.namespace, request.selector || undefined)) {
        targets.push({ cluster: { namespace: job.metadata.namespace, name: job.metadata.name }, kind: 'operator-session-job' });
      }
      for (const deployment of await listFlinkResources(ctx.kube, 'flinkdeployments', request.namespace, request.selector || undefined)) {
        if (deployment.spec.job) targets.push({ cluster: { namespace: deployment.metadata.namespace, name: deployment.metadata.name }, kind: 'operator-deployment' });
      }
      return { targets, problems };
    },
  };
}
