export { clusterInfoWorkflow } from './cluster-info/workflow';
export { upgradeWorkflow } from './upgrade/workflow';
export { describeTargetWorkflow } from './describe/workflow';
export { savepointWorkflow } from './savepoint/workflow';
export { fleetSavepointWorkflow } from './savepoint/fleet';
export { doctorWorkflow, remediationWorkflow } from './remediation/workflow';
export { registerJobWorkflow } from './remediation/register';
export { upgradeClusterWorkflow } from './cluster-upgrade/workflow';
