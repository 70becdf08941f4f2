import { canonicalLocation } from '../../../workflows/model/locations';
import type { PreflightCheck } from '../../../workflows/upgrade/decide';
import { operatorError, reconciledGeneration } from '../../kube/flink-resources';
import type { UpgradeFacts } from '../seam';
import type { OperatorResource } from './resolve';

/**
 * What an operator resource must offer before flinkops changes it (pure): the operator has reconciled the current
 * spec without an error, the job runs and is stable, the upgrade mode keeps state unless a stateless upgrade was
 * asked for, and savepoints go where the resource configures them (the operator chooses the directory, not flinkops).
 */
export function operatorUpgradeChecks(found: OperatorResource, facts: UpgradeFacts): { checks: PreflightCheck[]; warnings: string[] } {
  const checks: PreflightCheck[] = [];
  const warnings: string[] = [];
  const resource = found.resource;
  const what = `${found.kind === 'operator-session-job' ? 'FlinkSessionJob' : 'FlinkDeployment'} ${resource.metadata.namespace}/${resource.metadata.name}`;
  const fail = (name: string, detail: string) => {
    checks.push({ name, ok: false, detail });
    return { checks, warnings };
  };
  const generation = resource.metadata.generation ?? 0;
  const reconciled = reconciledGeneration(resource);
  const error = operatorError(resource);
  if (error) return fail('operator', `the Flink Kubernetes Operator reports an error on ${what}: ${error}; fix that first (flinkops changes nothing)`);
  if (reconciled === undefined || reconciled < generation) {
    return fail('operator', `the Flink Kubernetes Operator has not reconciled ${what} (generation ${generation}, last reconciled ${reconciled ?? 'never'}): is it running and watching ${resource.metadata.namespace}?`);
  }
  const lifecycle = resource.status?.lifecycleState;
  if (lifecycle !== 'STABLE' && lifecycle !== 'DEPLOYED') return fail('operator', `${what} is ${lifecycle ?? 'not deployed'}, not STABLE: the operator is still working on it`);
  if (resource.spec.job?.state === 'suspended') return fail('operator', `${what} is suspended (spec.job.state): nothing runs to upgrade`);
  checks.push({ name: 'operator', ok: true, detail: `${what} reconciled (generation ${generation}), ${lifecycle}, job ${resource.status?.jobStatus?.state ?? '?'}` });
  if (resource.spec.job?.upgradeMode === 'stateless' && facts.mode !== 'stateless') {
    warnings.push(`${what} has upgradeMode stateless; flinkops changes it to savepoint for this upgrade`);
  }
  if (facts.mode === 'last-state') return fail('mode', `--mode last-state is not offered for operator resources: flinkops would have to cancel the job through REST, which fights the operator; use savepoint`);
  const configured = found.deployment.spec.flinkConfiguration?.['execution.checkpointing.savepoint-dir'] ?? found.deployment.spec.flinkConfiguration?.['state.savepoints.dir'];
  if (facts.mode !== 'stateless') {
    if (!configured) return fail('savepoint directory', `${what} configures no savepoint directory (state.savepoints.dir in the FlinkDeployment's flinkConfiguration): the operator cannot take the savepoint`);
    if (facts.savepointDir && canonicalLocation(facts.savepointDir) !== canonicalLocation(configured)) {
      return fail('savepoint directory', `--savepoint-dir: the operator writes savepoints to ${configured} (state.savepoints.dir of ${found.deployment.metadata.name}); another directory cannot be chosen per savepoint`);
    }
  }
  return { checks, warnings };
}
