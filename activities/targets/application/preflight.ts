import type { PreflightCheck } from '../../../workflows/upgrade/decide';

export interface ApplicationFacts {
  deployment: string;
  /** The JobManager container's arguments. */
  args: readonly string[];
  strategy: string;
  shutdownOnApplicationFinish?: boolean;
  mode: 'savepoint' | 'last-state' | 'stateless';
}

/**
 * What an application cluster must offer before flinkops upgrades it (pure): a JobManager running standalone-job
 * (flinkops passes the savepoint through its arguments), and a JobManager that outlives its job, so the stop does
 * not make Kubernetes restart it and run the old job again.
 */
export function applicationUpgradeChecks(facts: ApplicationFacts): { checks: PreflightCheck[]; warnings: string[] } {
  const checks: PreflightCheck[] = [];
  const warnings: string[] = [];
  if (facts.args[0] !== 'standalone-job') {
    checks.push({ name: 'deployment', ok: false, detail: `the JobManager container of ${facts.deployment} does not run standalone-job, so flinkops cannot pass it a savepoint` });
    return { checks, warnings };
  }
  if (facts.mode !== 'stateless' && facts.shutdownOnApplicationFinish !== false) {
    checks.push({
      name: 'deployment',
      ok: false,
      detail: `${facts.deployment} shuts its JobManager down when the job finishes, so after stop-with-savepoint Kubernetes would restart it and re-run the old job: set execution.shutdown-on-application-finish: false (as the Flink Kubernetes Operator does)`,
    });
    return { checks, warnings };
  }
  checks.push({ name: 'deployment', ok: true, detail: `${facts.deployment} runs standalone-job${facts.mode !== 'stateless' ? ' and outlives its job' : ''}` });
  if (facts.strategy !== 'Recreate') {
    warnings.push(`${facts.deployment} uses the ${facts.strategy} strategy: two JobManagers may overlap during the rollout; Recreate is safer for Flink`);
  }
  return { checks, warnings };
}
