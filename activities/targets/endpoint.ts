import type { V1Service } from '@kubernetes/client-node';
import type { WorkerSettings } from '../../config/worker';

/** The REST URL of a cluster's Service as this worker reaches it (cluster DNS, or the ClusterIP). */
export function serviceRestUrl(service: V1Service, port: number, flink: Pick<WorkerSettings['flink'], 'serviceAddressing' | 'clusterDomain' | 'scheme'>): string {
  const { name, namespace } = service.metadata ?? {};
  if (flink.serviceAddressing === 'cluster-ip') {
    const ip = service.spec?.clusterIP;
    if (!ip || ip === 'None') throw new Error(`Service ${namespace}/${name} has no ClusterIP; use FLINKOPS_SERVICE_ADDRESSING=dns or a REST URL override`);
    return `${flink.scheme}://${ip}:${port}`;
  }
  return `${flink.scheme}://${name}.${namespace}.svc.${flink.clusterDomain}:${port}`;
}
