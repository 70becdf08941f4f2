import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { PooledKubeConfig } from './pooled-kubeconfig';

/** The Kubernetes API groups flinkops uses, from one KubeConfig. */
export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  coordination: CoordinationV1Api;
  events: EventsV1Api;
  /** The Flink Kubernetes Operator's resources (activities/kube/flink-resources.ts names them). */
  custom: CustomObjectsApi;
}

export function kubeClients(kubeconfig?: string): KubeClients {
  const kc: KubeConfig = new PooledKubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    events: kc.makeApiClient(EventsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

/** HTTP status of a failed client-node call, if it was an API answer. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return apiStatus(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return apiStatus(error) === 409;
}

/** The API server's MicroTime wants six fractional digits; a serialized Date has three. */
export function microTime(date: Date): Date {
  return date.toISOString().replace(/Z$/, '000Z') as unknown as Date;
}

/**
 * The message of an API error (the Status object's), never client-node's own message, which dumps the response
 * headers and body.
 */
export function apiErrorMessage(error: unknown): string {
  const e = error as { body?: unknown; message?: unknown; code?: unknown } | undefined;
  const body = e?.body;
  const status = typeof body === 'string' ? parseStatus(body) : (body as { message?: unknown } | undefined);
  if (typeof status?.message === 'string' && status.message) return status.message;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (message.startsWith('HTTP-Code:')) {
    const reason = /\nMessage: ([^\n]*)/.exec(message)?.[1];
    const code = typeof e?.code === 'number' ? String(e.code) : '?';
    return `HTTP ${code}${reason ? ` ${reason}` : ''}`;
  }
  return message.split('\n')[0]!;
}

function parseStatus(text: string): { message?: unknown } | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}
