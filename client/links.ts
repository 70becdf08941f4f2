import type { TemporalSettings } from '../config/temporal';

/**
 * The Temporal Web UI page of a workflow: under FLINKOPS_WEB_UI (the UI's base URL, e.g. http://127.0.0.1:8233) when
 * set, Temporal Cloud's UI for a Cloud address (<namespace>.<account>.tmprl.cloud); otherwise unknown.
 */
export function workflowUrl(settings: Pick<TemporalSettings, 'address' | 'namespace'> & { webUi?: string }, workflowId: string): string | undefined {
  const path = `namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  if (settings.webUi) return `${settings.webUi.replace(/\/+$/, '')}/${path}`;
  if (/\.tmprl\.cloud:\d+$/.test(settings.address)) return `https://cloud.temporal.io/${path}`;
  return undefined;
}

/** "workflow ID: URL", or the id and how to get a link. */
export function describeWorkflow(settings: Parameters<typeof workflowUrl>[0], workflowId: string): string {
  const url = workflowUrl(settings, workflowId);
  return url ? `workflow ${workflowId}: ${url}` : `workflow ${workflowId} (set FLINKOPS_WEB_UI to the Temporal Web UI's address for a link)`;
}
