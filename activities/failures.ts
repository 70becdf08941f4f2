import { ApplicationFailure } from '@temporalio/common';
import { failureSpec, type FailureType } from '../workflows/model/failures';
import { FlinkRestError } from './flink/rest-client';
import { apiErrorMessage, apiStatus } from './kube/clients';

/**
 * Turns whatever an activity threw into an ApplicationFailure of one of flinkops' failure types (see
 * workflows/model/failures.ts): non-retryable when retrying cannot help, with a one-line message that never carries
 * request or response headers (client-node's own message dumps them). Called once, by the activity interceptor.
 */
export function toActivityFailure(error: unknown): unknown {
  const e = error as { name?: string; type?: string } | undefined;
  if (e?.name === 'ApplicationFailure' || e?.name === 'CancelledFailure') return error;
  const classified = classify(error);
  if (!classified) return error;
  const spec = failureSpec(classified.type);
  return ApplicationFailure.create({ type: classified.type, message: classified.message, nonRetryable: !(spec?.retryable ?? true) });
}

export function classify(error: unknown): { type: FailureType; message: string } | undefined {
  const named = error as { name?: string; message?: string } | undefined;
  if (named?.name === 'PolicyRefusal') return { type: 'PolicyRefused', message: named.message ?? 'refused by the worker\'s policy' };
  if (named?.name === 'RecordInvalid') return { type: 'RecordInvalid', message: named.message ?? 'invalid record' };
  if (error instanceof FlinkRestError || (error as { name?: string })?.name === 'FlinkRestError') return classifyFlink(error as FlinkRestError);
  const status = apiStatus(error);
  if (status !== undefined && isKubernetesApiError(error)) return classifyKubernetes(status, error);
  if (isNetworkError(error)) return { type: 'KubernetesUnavailable', message: `Kubernetes API not reachable: ${networkMessage(error)}` };
  return undefined;
}

/** Whatever an activity caught, as one line for a reason: the classified message, else the first line. */
export function describeError(error: unknown): string {
  return classify(error)?.message ?? String((error as { message?: unknown } | undefined)?.message ?? error).split('\n')[0]!;
}

function classifyFlink(error: FlinkRestError): { type: FailureType; message: string } {
  const status = error.status;
  if (status === undefined || status >= 500) return { type: 'FlinkUnavailable', message: error.message };
  if (status === 401 || status === 403) return { type: 'FlinkUnauthorized', message: error.message };
  if (status === 200) return { type: 'FlinkUnexpectedAnswer', message: error.message };
  return { type: 'FlinkRejected', message: error.message };
}

function classifyKubernetes(status: number, error: unknown): { type: FailureType; message: string } {
  const detail = apiErrorMessage(error).split('\n')[0]!.slice(0, 500);
  const message = `Kubernetes API answered ${status}: ${detail}`;
  if (status === 401) return { type: 'KubernetesUnauthorized', message };
  if (status === 403) return { type: 'KubernetesForbidden', message };
  if (status === 404) return { type: 'KubernetesNotFound', message };
  if (status === 409) return { type: 'KubernetesConflict', message };
  if (status === 400 || status === 422) return { type: 'KubernetesInvalid', message };
  if (status === 429 || status >= 500) return { type: 'KubernetesUnavailable', message };
  return { type: 'KubernetesInvalid', message };
}

/** client-node's ApiException: an HTTP answer with a status code and the Status body. */
function isKubernetesApiError(error: unknown): boolean {
  const e = error as { body?: unknown; message?: unknown } | undefined;
  return typeof e?.message === 'string' && e.message.startsWith('HTTP-Code:');
}

/** node-fetch's FetchError (client-node's transport) and Node's own socket errors. */
function isNetworkError(error: unknown): boolean {
  const e = error as { name?: string; code?: unknown; type?: string } | undefined;
  return e?.name === 'FetchError' || (typeof e?.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|UND_ERR_\w+)$/.test(e.code));
}

function networkMessage(error: unknown): string {
  const e = error as { code?: unknown; message?: string };
  // node-fetch's message names the URL (no credentials in it); keep its first line only.
  return `${typeof e.code === 'string' ? `${e.code}: ` : ''}${(e.message ?? String(error)).split('\n')[0]}`;
}
