/**
 * The query each long-running operation answers with its current step, by workflow type. The names are part of
 * the public surface: the CLI, scripts and the Temporal UI's query tab use them.
 */
export const PROGRESS_QUERIES = {
  upgradeWorkflow: 'getUpgradeProgress',
  upgradeClusterWorkflow: 'getClusterUpgradeProgress',
  savepointWorkflow: 'getSavepointProgress',
  remediationWorkflow: 'getRemediationProgress',
} as const;

export function progressQueryOf(workflowType: string): string | undefined {
  return (PROGRESS_QUERIES as Record<string, string>)[workflowType];
}
