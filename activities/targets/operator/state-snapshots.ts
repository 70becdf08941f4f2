import { fnv1a } from '../../../workflows/model/target';
import { isConflict, isNotFound, type KubeClients } from '../../kube/clients';
import { createFlinkResource } from '../../kube/flink-resources';
import { objectName } from '../../kube/names';
import type { OperatorResource } from './resolve';

/**
 * Every savepoint flinkops takes or restores from on an operator resource also appears as a FlinkStateSnapshot
 * (`savepoint.alreadyExists: true`), where that kind is installed, so `kubectl get flinkstatesnapshots` tells the same
 * story as flinkops. One object per path (a retry finds it); never disposed of by the operator (`disposeOnDelete:
 * false`). A cluster without the CRD (operator before 1.10) skips this.
 */
export async function recordStateSnapshot(kube: KubeClients, found: OperatorResource, path: string, reason: 'stop' | 'savepoint' | 'restore'): Promise<void> {
  const { namespace, name } = found.id;
  try {
    await createFlinkResource(kube, 'flinkstatesnapshots', namespace, {
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkStateSnapshot',
      metadata: {
        name: objectName([name, 'flinkops', fnv1a(path)], 63),
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'flinkops', 'flinkops.dev/snapshot-reason': reason },
      },
      spec: {
        jobReference: { kind: found.kind === 'operator-session-job' ? 'FlinkSessionJob' : 'FlinkDeployment', name },
        savepoint: { path, alreadyExists: true, disposeOnDelete: false },
      },
    });
  } catch (error) {
    if (isConflict(error) || isNotFound(error)) return; // recorded already, or no such kind on this cluster
    throw error;
  }
}
