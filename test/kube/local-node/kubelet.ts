import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoordinationV1Api,
  CoreV1Api,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type Informer,
  type ObjectCache,
  type KubeConfig,
  type V1Pod,
  type V1PodCondition,
  type V1PodStatus,
} from '@kubernetes/client-node';
import { writeKubeconfig } from '../../stack/kube/kubeconfig';
import { planContainer, type ResourceReader } from './container-spec';
import type { PodNetwork } from './pod-network';
import { PodRuntime } from './pod-runtime';
import type { ServiceCatalog } from './services';

export interface KubeletOptions {
  nodeName: string;
  cacheDir: string;
  /** Per-pod work directories and container logs. */
  podsDir: string;
  apiServer: string;
  caFile: string;
  backoffBaseMs: number;
  log: (message: string) => void;
}

interface PodEntry {
  pod: V1Pod;
  runtime: PodRuntime;
  conditions: V1PodCondition[];
  lastStatus?: string;
  deleting?: boolean;
}

const LEASE_NAMESPACE = 'kube-node-lease';
const HEARTBEAT_MS = 10_000;

/**
 * The kubelet (and the scheduler) of a single local node: registers the Node and keeps its Lease fresh, binds
 * pending pods to itself, runs each pod's Flink container as a local process, reports pod status, and stops the
 * process when the pod is deleted.
 */
export class LocalKubelet {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly pods: Informer<V1Pod> & ObjectCache<V1Pod>;
  private readonly entries = new Map<string, PodEntry>();
  private readonly queue = new Map<string, Promise<void>>();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    kc: KubeConfig,
    private readonly network: PodNetwork,
    private readonly catalog: ServiceCatalog,
    private readonly options: KubeletOptions,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.pods = makeInformer(kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces());
  }

  async start(): Promise<void> {
    await this.registerNode();
    await this.heartbeat();
    this.timers.push(setInterval(() => void this.heartbeat().catch((e: unknown) => this.options.log(`heartbeat failed: ${String(e)}`)), HEARTBEAT_MS));
    this.pods.on('add', (pod) => this.enqueue(pod));
    this.pods.on('update', (pod) => this.enqueue(pod));
    this.pods.on('delete', (pod) => this.enqueueRemoval(pod));
    this.pods.on('error', (error: unknown) => {
      this.options.log(`pod watch failed (${String(error)}); restarting`);
      setTimeout(() => void this.pods.start().catch(() => undefined), 1_000);
    });
    await this.pods.start();
    this.timers.push(setInterval(() => void this.tick(), 1_000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.pods.stop();
    await Promise.all([...this.entries.values()].map((e) => e.runtime.stop(5_000)));
  }

  refreshHosts(): void {
    for (const entry of this.entries.values()) entry.runtime.refreshHosts();
  }

  private enqueue(pod: V1Pod): void {
    this.serialize(pod, () => this.sync(pod));
  }

  private enqueueRemoval(pod: V1Pod): void {
    this.serialize(pod, async () => {
      const entry = this.entries.get(pod.metadata!.uid!);
      if (!entry) return;
      this.entries.delete(pod.metadata!.uid!);
      await entry.runtime.stop(2_000);
      this.network.release(entry.runtime.podIp);
    });
  }

  /** Work on one pod never overlaps; different pods proceed in parallel. */
  private serialize(pod: V1Pod, work: () => Promise<void>): void {
    const uid = pod.metadata?.uid ?? '';
    const previous = this.queue.get(uid) ?? Promise.resolve();
    const next = previous
      .then(work)
      .catch((error: unknown) => this.options.log(`${podKey(pod)}: ${error instanceof Error ? error.message : String(error)}`));
    this.queue.set(uid, next);
    void next.then(() => {
      if (this.queue.get(uid) === next) this.queue.delete(uid);
    });
  }

  private async sync(pod: V1Pod): Promise<void> {
    if (this.stopped) return;
    const uid = pod.metadata!.uid!;
    if (!pod.spec?.nodeName) {
      if (!pod.metadata?.deletionTimestamp && (pod.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler') await this.bind(pod);
      return;
    }
    if (pod.spec.nodeName !== this.options.nodeName) return;

    const existing = this.entries.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      if (existing?.deleting) return;
      if (existing) {
        existing.deleting = true;
        const graceSeconds = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
        await existing.runtime.stop(graceSeconds * 1000);
        this.network.release(existing.runtime.podIp);
        this.entries.delete(uid);
      }
      // The kubelet's final delete: the container is gone, the API object may go now.
      await this.core
        // gracePeriodSeconds goes in the body: client-node drops a query parameter of 0.
        .deleteNamespacedPod({ name: pod.metadata.name!, namespace: pod.metadata.namespace!, body: { gracePeriodSeconds: 0, preconditions: { uid } } })
        .catch((error: { code?: number; body?: unknown }) => {
          if (error.code !== 404) this.options.log(`${podKey(pod)}: final delete failed: ${error.code} ${JSON.stringify(error.body)}`);
        });
      return;
    }
    if (existing) {
      existing.pod = pod;
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    this.entries.set(uid, this.createEntry(pod));
    await this.reportStatus(this.entries.get(uid)!);
  }

  private createEntry(pod: V1Pod): PodEntry {
    const podIp = pod.status?.podIP && !this.isTaken(pod.status.podIP) ? pod.status.podIP : this.network.allocate();
    this.network.claim(podIp);
    const address = this.network.toLoopback(podIp);
    const namespace = pod.metadata!.namespace!;
    const container = pod.spec!.containers[0]!;
    const workDir = join(this.options.podsDir, namespace, pod.metadata!.name!);
    mkdirSync(workDir, { recursive: true });
    const runtime = new PodRuntime({
      key: podKey(pod),
      container,
      restartPolicy: pod.spec!.restartPolicy ?? 'Always',
      podIp,
      address,
      workDir: join(workDir, 'container'),
      logFile: join(workDir, `${container.name}.log`),
      cacheDir: this.options.cacheDir,
      backoffBaseMs: this.options.backoffBaseMs,
      plan: async () => {
        const plan = await planContainer(pod, container, address, this.resourceReader());
        if (plan.ok && pod.spec!.automountServiceAccountToken !== false && !plan.config['kubernetes.config.file']) {
          plan.config['kubernetes.config.file'] = await this.serviceAccountKubeconfig(pod, workDir);
        }
        return plan;
      },
      hosts: () => ({ ...this.catalog.hostsFor(namespace, (ip) => this.network.toLoopback(ip)), [pod.metadata!.name!]: address }),
      log: this.options.log,
    });
    return { pod, runtime, conditions: [] };
  }

  private isTaken(podIp: string): boolean {
    return [...this.entries.values()].some((e) => e.runtime.podIp === podIp);
  }

  /** The pod's service account token, as a kubeconfig Flink's Kubernetes HA services can use. */
  private async serviceAccountKubeconfig(pod: V1Pod, workDir: string): Promise<string> {
    const serviceAccount = pod.spec?.serviceAccountName ?? 'default';
    const tokenRequest = await this.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace: pod.metadata!.namespace!,
      body: {
        spec: {
          audiences: [],
          expirationSeconds: 24 * 3600,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! },
        },
      },
    });
    return writeKubeconfig(join(workDir, 'serviceaccount.kubeconfig'), this.options.apiServer, this.options.caFile, { token: tokenRequest.status!.token }, serviceAccount);
  }

  private resourceReader(): ResourceReader {
    return {
      configMap: async (namespace, name) => {
        try {
          return (await this.core.readNamespacedConfigMap({ name, namespace })).data ?? {};
        } catch {
          return undefined;
        }
      },
      secret: async (namespace, name) => {
        try {
          const data = (await this.core.readNamespacedSecret({ name, namespace })).data ?? {};
          return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
        } catch {
          return undefined;
        }
      },
    };
  }

  private async bind(pod: V1Pod): Promise<void> {
    await this.core
      .createNamespacedBinding({
        namespace: pod.metadata!.namespace!,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata!.name!, uid: pod.metadata!.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: this.options.nodeName },
        },
      })
      .catch((error: unknown) => this.options.log(`${podKey(pod)}: binding failed: ${String(error)}`));
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        if (entry.deleting) return;
        await entry.runtime.tick(now);
        await this.reportStatus(entry).catch((error: unknown) => this.options.log(`${podKey(entry.pod)}: status update failed: ${String(error)}`));
      }),
    );
  }

  private async reportStatus(entry: PodEntry): Promise<void> {
    const status = this.podStatus(entry);
    const serialized = JSON.stringify(status);
    if (serialized === entry.lastStatus) return;
    await this.core.patchNamespacedPodStatus(
      { name: entry.pod.metadata!.name!, namespace: entry.pod.metadata!.namespace!, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    entry.lastStatus = serialized;
  }

  private podStatus(entry: PodEntry): V1PodStatus {
    const { runtime } = entry;
    const ready = runtime.ready;
    entry.conditions = updateConditions(entry.conditions, {
      PodReadyToStartContainers: true,
      Initialized: true,
      ContainersReady: ready,
      Ready: ready,
      PodScheduled: true,
    });
    return {
      phase: runtime.phase(),
      conditions: entry.conditions,
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      podIP: runtime.podIp,
      podIPs: [{ ip: runtime.podIp }],
      startTime: entry.pod.status?.startTime ?? new Date(),
      containerStatuses: [runtime.containerStatus()],
      // The API server computes the QoS class when it creates the pod and refuses to change it: keep it.
      qosClass: entry.pod.status?.qosClass ?? 'BestEffort',
    };
  }

  private async registerNode(): Promise<void> {
    const name = this.options.nodeName;
    const node = {
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
    };
    await this.core.createNode({ body: node }).catch((error: { code?: number }) => {
      if (error.code !== 409) throw error;
    });
    await this.patchNodeStatus();
  }

  private async patchNodeStatus(): Promise<void> {
    const now = new Date();
    const condition = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
    const capacity = { cpu: '32', memory: '64Gi', pods: '250', 'ephemeral-storage': '100Gi' };
    await this.core.patchNodeStatus(
      {
        name: this.options.nodeName,
        body: {
          status: {
            conditions: [
              condition('Ready', 'True', 'KubeletReady', 'flinkops local node is posting ready status'),
              condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'ok'),
              condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'ok'),
              condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'ok'),
            ],
            addresses: [
              { type: 'InternalIP', address: '127.0.0.1' },
              { type: 'Hostname', address: this.options.nodeName },
            ],
            capacity,
            allocatable: capacity,
            nodeInfo: {
              architecture: 'amd64',
              bootID: '',
              containerRuntimeVersion: 'flinkops-local://1',
              kernelVersion: '',
              kubeProxyVersion: '',
              kubeletVersion: 'v1.35.4',
              machineID: '',
              operatingSystem: 'linux',
              osImage: 'flinkops local node',
              systemUUID: '',
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  private heartbeats = 0;

  private async heartbeat(): Promise<void> {
    const name = this.options.nodeName;
    const body = {
      metadata: { name, namespace: LEASE_NAMESPACE },
      // MicroTime: the API server wants six fractional digits, which a serialized Date does not have.
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') as unknown as Date },
    };
    try {
      const lease = await this.coordination.readNamespacedLease({ name, namespace: LEASE_NAMESPACE });
      lease.spec = { ...lease.spec, ...body.spec };
      await this.coordination.replaceNamespacedLease({ name, namespace: LEASE_NAMESPACE, body: lease });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await this.coordination.createNamespacedLease({ namespace: LEASE_NAMESPACE, body });
    }
    if (this.heartbeats++ % 3 === 0) await this.patchNodeStatus();
  }
}

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

/** Keeps lastTransitionTime stable unless a condition's status changes. */
function updateConditions(previous: V1PodCondition[], wanted: Record<string, boolean>): V1PodCondition[] {
  return Object.entries(wanted).map(([type, value]) => {
    const status = value ? 'True' : 'False';
    const old = previous.find((c) => c.type === type);
    return old && old.status === status ? old : { type, status, lastTransitionTime: new Date() };
  });
}
