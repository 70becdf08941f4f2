import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { V1Container, V1ContainerState, V1ContainerStatus } from '@kubernetes/client-node';
import { flinkDistribution } from '../../stack/flink/distribution';
import { prepareFlinkProcess, writeHostsFile, type FlinkCommand } from '../../stack/flink/process';
import type { ContainerPlan } from './container-spec';
import { ProbeState, runProbe } from './probes';
import { RestartBackoff } from './restart-backoff';

export interface PodRuntimeOptions {
  /** namespace/name, for logs. */
  key: string;
  container: V1Container;
  restartPolicy: string;
  podIp: string;
  /** The loopback twin of podIp that the process binds. */
  address: string;
  workDir: string;
  logFile: string;
  cacheDir: string;
  /** Crash-loop back-off: the first restart is immediate, then this, doubling up to five minutes, as in the kubelet. */
  backoffBaseMs: number;
  plan: () => Promise<ContainerPlan>;
  /** Service and pod names the process must resolve, kept current by the node. */
  hosts: () => Record<string, string>;
  log: (message: string) => void;
}

const MAX_BACKOFF_MS = 300_000;

/** One pod's container, run as a local Flink process: start, probes, restarts with back-off, graceful stop. */
export class PodRuntime {
  private child: ChildProcess | undefined;
  private state: V1ContainerState = { waiting: { reason: 'ContainerCreating' } };
  private lastState: V1ContainerState | undefined;
  private restartCount = 0;
  private startedAtMs = 0;
  private nextStartMs = 0;
  /** Retries of a container that cannot be created (image, configuration). */
  private backoffMs: number;
  private readonly restartBackoff: RestartBackoff;
  private readiness: ProbeState | undefined;
  private liveness: ProbeState | undefined;
  private stopping = false;
  private starting = false;
  private hostsFile: string | undefined;
  /** The container will not run again (restart policy satisfied or pod being deleted). */
  finished = false;

  constructor(private readonly options: PodRuntimeOptions) {
    this.backoffMs = options.backoffBaseMs;
    this.restartBackoff = new RestartBackoff(options.backoffBaseMs, MAX_BACKOFF_MS);
  }

  get podIp(): string {
    return this.options.podIp;
  }

  /** Called about once a second: starts the container when due and runs due probes. */
  async tick(nowMs: number): Promise<void> {
    if (this.stopping || this.finished) return;
    if (!this.child && !this.starting && nowMs >= this.nextStartMs) {
      this.starting = true;
      try {
        await this.start();
      } finally {
        this.starting = false;
      }
      return;
    }
    if (!this.child || !('running' in this.state)) return;
    await Promise.all(
      [this.readiness, this.liveness].map(async (probe) => {
        if (probe?.due(nowMs)) probe.record(await runProbe(probe.probe, this.options.address, this.namedPorts()), Date.now());
      }),
    );
    if (this.liveness && !this.liveness.passing && this.child) {
      this.options.log(`${this.options.key}: liveness probe failed, restarting container`);
      this.kill('SIGKILL');
    }
  }

  private async start(): Promise<void> {
    mkdirSync(dirname(this.options.logFile), { recursive: true });
    const plan = await this.options.plan();
    if (!plan.ok) {
      const backoff = plan.reason === 'ErrImagePull' ? 'ImagePullBackOff' : plan.reason;
      this.state = { waiting: { reason: this.restartCount > 0 || plan.reason !== 'ErrImagePull' ? backoff : plan.reason, message: plan.message } };
      this.scheduleRetry(Date.now());
      this.options.log(`${this.options.key}: cannot start container: ${plan.reason}: ${plan.message}`);
      return;
    }
    let command: FlinkCommand;
    try {
      command = await prepareFlinkProcess({
        dist: flinkDistribution(this.options.cacheDir, plan.flinkVersion),
        role: plan.role,
        address: this.options.address,
        workDir: this.options.workDir,
        config: plan.config,
        userJars: plan.userJars,
        hosts: this.options.hosts(),
        logFile: this.options.logFile,
        forceBindToAddress: true,
      });
      this.hostsFile = command.hostsFile;
      // Services may have changed while the process was being prepared (refreshHosts skipped it then).
      this.refreshHosts();
    } catch (error) {
      // In a real image the start script computes memory settings inside the container, so a configuration it
      // rejects is a container that starts and exits with 1: record it that way (CrashLoopBackOff follows).
      appendFileSync(this.options.logFile, `${new Date().toISOString()} flink start script failed: ${(error as Error).message}\n`);
      this.startedAtMs = Date.now();
      this.recordExit(1, null);
      return;
    }
    const out = openSync(this.options.logFile, 'a');
    try {
      // Not detached: pod processes share the node agent's process group, so stopping the agent stops them all.
      this.child = spawn(command.command, command.args, { env: { ...command.env, ...plan.env }, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    this.startedAtMs = Date.now();
    this.state = { running: { startedAt: new Date(this.startedAtMs) } };
    const { readinessProbe, livenessProbe } = this.options.container;
    this.readiness = readinessProbe ? new ProbeState(readinessProbe, false, this.startedAtMs) : undefined;
    this.liveness = livenessProbe ? new ProbeState(livenessProbe, true, this.startedAtMs) : undefined;
    const child = this.child;
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    this.options.log(`${this.options.key}: started ${plan.role.kind} (pid ${child.pid}) on ${this.options.address}`);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.recordExit(code, signal);
  }

  private recordExit(code: number | null, signal: NodeJS.Signals | null): void {
    const nowMs = Date.now();
    const exitCode = code ?? 128 + signalNumber(signal);
    const terminated = {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: new Date(this.startedAtMs),
      finishedAt: new Date(nowMs),
      ...(signal ? { signal: signalNumber(signal) } : {}),
    };
    this.options.log(`${this.options.key}: container exited with ${exitCode}${signal ? ` (${signal})` : ''}`);
    this.readiness = undefined;
    this.liveness = undefined;
    const restarts =
      !this.stopping &&
      (this.options.restartPolicy === 'Always' || (this.options.restartPolicy === 'OnFailure' && exitCode !== 0));
    if (!restarts) {
      this.state = { terminated };
      this.finished = true;
      return;
    }
    this.lastState = { terminated };
    this.restartCount++;
    const delayMs = this.restartBackoff.next(nowMs);
    this.nextStartMs = nowMs + delayMs;
    // Like the kubelet: restarted at once after the first failure, CrashLoopBackOff only while a back-off runs.
    this.state = delayMs > 0 ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delayMs / 1000)}s restarting failed container` } } : { terminated };
  }

  private scheduleRetry(nowMs: number): void {
    this.nextStartMs = nowMs + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  /** Rewrites the process's hosts file after Services changed. */
  refreshHosts(): void {
    if (this.hostsFile) writeHostsFile(this.hostsFile, this.options.address, this.options.hosts());
  }

  /** SIGTERM, SIGKILL after the grace period; the container does not restart. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    this.finished = true;
  }

  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  get ready(): boolean {
    return this.child !== undefined && 'running' in this.state && (this.readiness ? this.readiness.passing : true);
  }

  containerStatus(): V1ContainerStatus {
    return {
      name: this.options.container.name,
      image: this.options.container.image ?? '',
      imageID: '',
      ready: this.ready,
      started: this.child !== undefined,
      restartCount: this.restartCount,
      state: this.state,
      ...(this.lastState ? { lastState: this.lastState } : {}),
    };
  }

  /** Pending until the container first runs; Succeeded/Failed when it finished for good. */
  phase(): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
    if (this.finished && 'terminated' in this.state) return this.state.terminated?.exitCode === 0 ? 'Succeeded' : 'Failed';
    if (this.child || this.restartCount > 0) return 'Running';
    return 'Pending';
  }

  private namedPorts(): Record<string, number> {
    return Object.fromEntries((this.options.container.ports ?? []).filter((p) => p.name).map((p) => [p.name!, p.containerPort]));
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGABRT: 6, SIGSEGV: 11 };
  return signal ? numbers[signal] ?? 1 : 0;
}
