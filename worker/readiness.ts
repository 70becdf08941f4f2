import { VersionApi, type KubeConfig } from '@kubernetes/client-node';
import type { NativeConnection } from '@temporalio/worker';
import { apiErrorMessage, apiStatus } from '../activities/kube/clients';

export interface DependencyStatus {
  ok: boolean;
  /** What is wrong, when not ok (never a credential). */
  detail?: string;
}

/**
 * Whether the worker can do its work: Temporal answers on the worker's connection, and the Kubernetes API server
 * answers and accepts the worker's credentials. Checked in the background (a probe must answer at once), so a
 * worker with a wrong kubeconfig or an unreachable API server reports not ready instead of failing every activity.
 */
export class Readiness {
  private status: Record<'temporal' | 'kubernetes', DependencyStatus> = { temporal: { ok: false, detail: 'not checked yet' }, kubernetes: { ok: false, detail: 'not checked yet' } };
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly connection: Pick<NativeConnection, 'workflowService'>,
    private readonly namespace: string,
    private readonly kubeconfig: KubeConfig,
    private readonly log: (message: string, meta: Record<string, unknown>) => void,
  ) {}

  async start(intervalMs = 10_000): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  ready(): boolean {
    return this.status.temporal.ok && this.status.kubernetes.ok;
  }

  /** Why not ready, for /readyz's body and the log. */
  problems(): string[] {
    return Object.entries(this.status).flatMap(([name, s]) => (s.ok ? [] : [`${name}: ${s.detail ?? 'not ok'}`]));
  }

  private async check(): Promise<void> {
    const [temporal, kubernetes] = await Promise.all([within(this.checkTemporal(), 'Temporal'), within(this.checkKubernetes(), 'the Kubernetes API server')]);
    for (const [name, next] of [['temporal', temporal], ['kubernetes', kubernetes]] as const) {
      const previous = this.status[name];
      if (previous.ok !== next.ok) this.log(next.ok ? `${name} is reachable again` : `${name} is not usable: ${next.detail}`, { dependency: name });
    }
    this.status = { temporal, kubernetes };
  }

  private async checkTemporal(): Promise<DependencyStatus> {
    try {
      await this.connection.workflowService.describeNamespace({ namespace: this.namespace });
      return { ok: true };
    } catch (error) {
      return { ok: false, detail: (error as Error).message.split('\n')[0] };
    }
  }

  private async checkKubernetes(): Promise<DependencyStatus> {
    try {
      await this.kubeconfig.makeApiClient(VersionApi).getCode();
      return { ok: true };
    } catch (error) {
      const status = apiStatus(error);
      if (status === 401) return { ok: false, detail: "the API server refused the worker's credentials (401): check its kubeconfig or ServiceAccount token" };
      return { ok: false, detail: status !== undefined ? `the API server answered ${status}: ${apiErrorMessage(error)}` : `the API server is not reachable: ${apiErrorMessage(error)}` };
    }
  }
}

const CHECK_TIMEOUT_MS = 5_000;

function within(check: Promise<DependencyStatus>, what: string): Promise<DependencyStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DependencyStatus>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `${what} did not answer within ${CHECK_TIMEOUT_MS / 1000}s` }), CHECK_TIMEOUT_MS);
  });
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}
