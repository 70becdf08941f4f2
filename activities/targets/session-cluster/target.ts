import { PatchStrategy, setHeaderOptions, type V1ConfigMap, type V1Deployment } from '@kubernetes/client-node';
import { sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterConfigSource, ClusterDeployment, ClusterSpec } from '../../../workflows/model/cluster-snapshot';
import type { ConfigFileKey } from '../../../workflows/cluster-upgrade/config';
import { majorVersion } from '../../../workflows/cluster-upgrade/config';
import { TERMINAL_JOB_STATES } from '../../flink/schemas';
import { isConflict, isNotFound } from '../../kube/clients';
import { CLUSTER_LABEL, labelValue, MANAGED_BY_LABELS } from '../../kube/names';
import { podsOfOtherRevisions, rolloutState } from '../../kube/rollout';
import type { ResolvedCluster } from '../resolve';
import type { ClusterShape, ClusterTarget, RolledCluster, TargetDeps, TargetEndpoint } from '../seam';
import { parseConfigFile, renderConfigFile } from './config-file';

const CONF_DIR = /^(\/opt\/flink|\$\(FLINK_HOME\)|\/flink)\/conf\/?$/;
export const CLUSTER_CONFIG_LABEL = 'flinkops.dev/cluster-config';

/**
 * A session cluster as a whole (the Bitnami chart's shape: a JobManager Deployment, TaskManager Deployments of the same
 * release, the configuration in a ConfigMap mounted at /opt/flink/conf). Its image and configuration change through
 * declarative strategic-merge patches of the Deployments; a new configuration goes into a new ConfigMap (owned by the
 * JobManager Deployment), so the old one is still there for a rollback.
 */
export class SessionClusterTarget implements ClusterTarget {
  readonly restUrl: string;
  readonly flink: ClusterTarget['flink'];

  constructor(
    private readonly deps: TargetDeps,
    private readonly cluster: ResolvedCluster,
    endpoint: TargetEndpoint,
  ) {
    this.restUrl = endpoint.restUrl;
    this.flink = endpoint.flink;
  }

  get id() {
    return this.cluster.id;
  }

  async describe(flinkVersion?: string): Promise<ClusterShape> {
    const image = this.cluster.jobManagerContainer.image ?? '';
    const describeDeployment = (deployment: V1Deployment): ClusterDeployment => ({
      deployment: deployment.metadata!.name!,
      replicas: deployment.spec?.replicas ?? 1,
      flinkContainers: (deployment.spec?.template.spec?.containers ?? []).filter((c) => c.image === image).map((c) => c.name),
    });
    const shape: ClusterShape = {
      image,
      jobManager: describeDeployment(this.cluster.jobManager),
      taskManagers: this.cluster.taskManagers.map(describeDeployment),
    };
    const config = await this.configSource(flinkVersion);
    return { ...shape, ...('problem' in config ? { configProblem: config.problem } : { config }) };
  }

  async prepare(spec: ClusterSpec): Promise<void> {
    const write = spec.config?.write;
    if (!spec.config || !write) return;
    const others = write.copyFrom ? await this.otherFiles(write.copyFrom) : {};
    const body: V1ConfigMap = {
      metadata: {
        name: spec.config.configMap,
        namespace: this.id.namespace,
        labels: { ...MANAGED_BY_LABELS, [CLUSTER_LABEL]: labelValue(this.id.name), [CLUSTER_CONFIG_LABEL]: 'true' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: this.cluster.jobManager.metadata!.name!, uid: this.cluster.jobManager.metadata!.uid! }],
      },
      data: { ...others, [write.file]: renderConfigFile(write.options) },
    };
    try {
      await this.deps.kube.core.createNamespacedConfigMap({ namespace: this.id.namespace, body });
    } catch (error) {
      if (!isConflict(error)) throw error;
      // Written by an earlier attempt (its name comes from its content): make sure it still says the same.
      await this.deps.kube.core.replaceNamespacedConfigMap({ name: spec.config.configMap, namespace: this.id.namespace, body });
    }
  }

  /** The files of a configuration ConfigMap besides the Flink configuration itself (log4j settings, ...). */
  private async otherFiles(configMap: string): Promise<Record<string, string>> {
    const data = (await this.deps.kube.core.readNamespacedConfigMap({ name: configMap, namespace: this.id.namespace })).data ?? {};
    return Object.fromEntries(Object.entries(data).filter(([key]) => key !== 'flink-conf.yaml' && key !== 'config.yaml'));
  }

  async discard(spec: ClusterSpec): Promise<void> {
    if (!spec.config?.write) return;
    const inUse = [this.cluster.jobManager, ...this.cluster.taskManagers].some((d) =>
      (d.spec?.template.spec?.volumes ?? []).some((v) => v.configMap?.name === spec.config!.configMap),
    );
    if (inUse) return;
    await this.deps.kube.core.deleteNamespacedConfigMap({ name: spec.config.configMap, namespace: this.id.namespace }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  /**
   * The JobManager first, alone: its rollout finished, no pod of its old revision left, the new one answering; only
   * then the TaskManagers. A session cluster's Deployments usually roll with RollingUpdate, so rolled together the new
   * TaskManagers would start while the old JobManager still answers behind the Service: a 2.x TaskManager registers
   * with a 1.x ResourceManager (a failed RPC), then keeps retrying the old JobManager's address after it is gone, and
   * never joins the new one before its registration timeout. Idempotent: a retried attempt patches the same spec.
   */
  async roll(spec: ClusterSpec, timeoutMs: number, heartbeat: (progress: string) => void): Promise<RolledCluster> {
    await this.prepare(spec);
    const deadline = Date.now() + timeoutMs;
    const jobManager = this.cluster.jobManager.metadata!.name!;
    await this.patchDeployment(this.cluster.jobManager, spec);
    await this.waitForRollout([jobManager], deadline, heartbeat);
    await this.waitForOldRevisionsGone(jobManager, deadline, heartbeat);
    await this.waitForFlink(spec, 0, deadline, heartbeat);
    for (const taskManager of this.cluster.taskManagers) await this.patchDeployment(taskManager, spec);
    await this.waitForRollout(
      this.cluster.taskManagers.map((d) => d.metadata!.name!),
      deadline,
      heartbeat,
    );
    const taskManagers = this.cluster.taskManagers.reduce((sum, d) => sum + (d.spec?.replicas ?? 1), 0);
    return this.waitForFlink(spec, taskManagers, deadline, heartbeat);
  }

  /** The new image on the Flink containers and the spec's ConfigMap as the configuration volume, as a declarative patch. */
  private async patchDeployment(deployment: V1Deployment, spec: ClusterSpec): Promise<void> {
    const oldImage = this.cluster.jobManagerContainer.image;
    const containers = (deployment.spec?.template.spec?.containers ?? []).filter((c) => c.image === oldImage || c.image === spec.image).map((c) => ({ name: c.name, image: spec.image }));
    const volumes = spec.config ? [{ name: spec.config.volume, configMap: { name: spec.config.configMap } }] : undefined;
    await this.deps.kube.apps.patchNamespacedDeployment(
      {
        name: deployment.metadata!.name!,
        namespace: this.id.namespace,
        body: { spec: { template: { spec: { containers, ...(volumes ? { volumes } : {}) } } } },
        fieldManager: 'flinkops',
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }

  private async waitForRollout(names: string[], deadline: number, heartbeat: (progress: string) => void): Promise<void> {
    for (;;) {
      const states = await Promise.all(names.map((name) => rolloutState(this.deps.kube, this.id.namespace, name)));
      const failed = states.find((s) => !s.done && s.failed);
      if (failed && !failed.done) throw ApplicationFailure.nonRetryable(`rollout failed: ${failed.failed}`, 'RolloutFailed');
      const pending = states.filter((s): s is Extract<typeof s, { done: false }> => !s.done);
      if (pending.length === 0) return;
      const progress = pending.map((s) => s.progress).join('; ');
      if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`rollout not finished in time: ${progress}`, 'RolloutTimedOut');
      heartbeat(progress);
      await sleep(1_000);
    }
  }

  /** A finished rollout does not count pods still terminating: wait until none of an older revision is left at all. */
  private async waitForOldRevisionsGone(name: string, deadline: number, heartbeat: (progress: string) => void): Promise<void> {
    for (;;) {
      const old = await podsOfOtherRevisions(this.deps.kube, this.id.namespace, name);
      if (old.length === 0) return;
      const progress = `${name}: waiting for the old revision's pod(s) ${old.join(', ')} to go`;
      if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`rollout not finished in time: ${progress}`, 'RolloutTimedOut');
      heartbeat(progress);
      await sleep(1_000);
    }
  }

  /** The new JobManager answers with the expected version and `taskManagers` TaskManagers have registered with it. */
  private async waitForFlink(spec: ClusterSpec, taskManagers: number, deadline: number, heartbeat: (progress: string) => void): Promise<RolledCluster> {
    let last: string;
    for (;;) {
      try {
        const overview = await this.flink.overview();
        const version = overview['flink-version'];
        if (spec.flinkVersion && !version.startsWith(spec.flinkVersion)) last = `the JobManager runs Flink ${version}, not ${spec.flinkVersion} yet`;
        else if (overview.taskmanagers < taskManagers) last = `${overview.taskmanagers}/${taskManagers} TaskManagers registered`;
        else {
          const jobs = (await this.flink.listJobs()).filter((j) => !TERMINAL_JOB_STATES.includes(j.state)).map((j) => j.jid);
          return { flinkVersion: version, taskManagers: overview.taskmanagers, slots: overview['slots-total'], activeJobs: jobs };
        }
      } catch (error) {
        last = `the JobManager does not answer: ${(error as Error).message}`;
      }
      if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`the cluster did not come up in time: ${last}`, 'RolloutTimedOut');
      heartbeat(last);
      await sleep(1_000);
    }
  }

  /** The ConfigMap mounted as the configuration directory of the JobManager (and the same volume on the TaskManagers). */
  private async configSource(flinkVersion?: string): Promise<ClusterConfigSource | { problem: string }> {
    const mount = (this.cluster.jobManagerContainer.volumeMounts ?? []).find((m) => CONF_DIR.test(m.mountPath));
    if (!mount) return { problem: `the JobManager container mounts nothing at /opt/flink/conf` };
    const volume = (this.cluster.jobManager.spec?.template.spec?.volumes ?? []).find((v) => v.name === mount.name);
    const configMap = volume?.configMap?.name;
    if (!configMap) return { problem: `the volume ${mount.name} mounted at ${mount.mountPath} is not a ConfigMap` };
    for (const taskManager of this.cluster.taskManagers) {
      const tmVolume = (taskManager.spec?.template.spec?.volumes ?? []).find((v) => v.name === mount.name);
      if (tmVolume?.configMap?.name !== configMap) return { problem: `${taskManager.metadata?.name} does not mount ConfigMap ${configMap} as volume ${mount.name}` };
    }
    if (volume.configMap?.items?.length) return { problem: `the volume ${mount.name} selects items of ConfigMap ${configMap}: flinkops only replaces whole ConfigMaps` };
    let data: Record<string, string>;
    try {
      data = (await this.deps.kube.core.readNamespacedConfigMap({ name: configMap, namespace: this.id.namespace })).data ?? {};
    } catch (error) {
      if (isNotFound(error)) return { problem: `ConfigMap ${configMap} does not exist` };
      throw error;
    }
    // Flink 1.x reads flink-conf.yaml when it is there, config.yaml otherwise; Flink 2 reads config.yaml only.
    const legacyFirst = (majorVersion(flinkVersion) ?? 1) < 2;
    const file: ConfigFileKey | undefined = legacyFirst && data['flink-conf.yaml'] !== undefined ? 'flink-conf.yaml' : data['config.yaml'] !== undefined ? 'config.yaml' : undefined;
    if (!file) return { problem: `ConfigMap ${configMap} has neither config.yaml nor flink-conf.yaml` };
    try {
      return { configMap, volume: mount.name, file, options: parseConfigFile(file, data[file]!) };
    } catch (error) {
      return { problem: `ConfigMap ${configMap}/${file} is not valid YAML: ${(error as Error).message}` };
    }
  }
}

export function sessionClusterTarget(deps: TargetDeps, cluster: ResolvedCluster, endpoint: TargetEndpoint): ClusterTarget {
  return new SessionClusterTarget(deps, cluster, endpoint);
}
