export { clusterInfoWorkflow } from './cluster-info/workflow';
