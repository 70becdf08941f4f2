import type { V1ConfigMap } from '@kubernetes/client-node';
import type { KubeClients } from '../../activities/kube/clients';
import type { FlinkResource } from '../../activities/kube/flink-resources';
import { completeRecreation, pendingRecreation, recordRecreationIntent } from '../../activities/targets/operator/recreation';
import { suspensionSettled } from '../../activities/targets/operator/target';

// Recreating an operator resource is delete-then-create: a worker that dies in between must not lose the resource.

/** An in-memory API server for the calls recreation.ts makes: custom objects and ConfigMaps of one namespace. */
function fakeKube(): { kube: KubeClients; objects: Map<string, object>; configMaps: Map<string, V1ConfigMap> } {
  const objects = new Map<string, object>();
  const configMaps = new Map<string, V1ConfigMap>();
  const apiError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });
  const custom = {
    createNamespacedCustomObject: ({ plural, body }: { plural: string; body: { metadata: { name: string } } }) => {
      const key = `${plural}/${body.metadata.name}`;
      if (objects.has(key)) return Promise.reject(apiError(409));
      objects.set(key, body);
      return Promise.resolve(body);
    },
  };
  const core = {
    readNamespacedConfigMap: ({ name }: { name: string }) => (configMaps.has(name) ? Promise.resolve(configMaps.get(name)!) : Promise.reject(apiError(404))),
    createNamespacedConfigMap: ({ body }: { body: V1ConfigMap }) => {
      configMaps.set(body.metadata!.name!, { ...body, metadata: { ...body.metadata, resourceVersion: '1' } });
      return Promise.resolve(body);
    },
    replaceNamespacedConfigMap: ({ name, body }: { name: string; body: V1ConfigMap }) => {
      if (configMaps.get(name)?.metadata?.resourceVersion !== body.metadata?.resourceVersion) return Promise.reject(apiError(409));
      configMaps.set(name, { ...body, metadata: { ...body.metadata, resourceVersion: String(Number(body.metadata?.resourceVersion) + 1) } });
      return Promise.resolve(body);
    },
  };
  return { kube: { custom, core } as unknown as KubeClients, objects, configMaps };
}

const intended: FlinkResource = {
  apiVersion: 'flink.apache.org/v1beta1',
  kind: 'FlinkSessionJob',
  metadata: { name: 'counter', namespace: 'flink', labels: { team: 'payments' }, annotations: { 'flinkops.dev/deployment-step': 'step-1' } },
  spec: { deploymentName: 'session', job: { jarURI: 'file:///jars/v2.jar', state: 'running', upgradeMode: 'savepoint', initialSavepointPath: 'file:///sp/savepoint-1' } },
};

describe('recreating an operator resource', () => {
  test('the intent written before the delete lets a later attempt create the resource the dead worker did not', async () => {
    const { kube, objects } = fakeKube();
    await recordRecreationIntent(kube, 'flinksessionjobs', intended, 'step-1');
    // ... the worker deletes the resource and dies before creating it.
    const pending = await pendingRecreation(kube, 'flinksessionjobs', 'flink', 'counter');
    expect(pending?.resource.spec.job?.initialSavepointPath).toBe('file:///sp/savepoint-1');
    expect(pending?.step).toBe('step-1');

    await completeRecreation(kube, 'flinksessionjobs', pending!);
    expect(objects.get('flinksessionjobs/counter')).toMatchObject({ metadata: { name: 'counter', labels: { team: 'payments' } }, spec: { job: { initialSavepointPath: 'file:///sp/savepoint-1' } } });
    // Done: no one creates it a second time (after a user deletes it on purpose, say).
    expect(await pendingRecreation(kube, 'flinksessionjobs', 'flink', 'counter')).toBeUndefined();
  });

  test('completing twice (two attempts racing) creates the resource once and does not fail', async () => {
    const { kube, objects } = fakeKube();
    const intent = await recordRecreationIntent(kube, 'flinksessionjobs', intended, 'step-1');
    await completeRecreation(kube, 'flinksessionjobs', intent);
    await expect(completeRecreation(kube, 'flinksessionjobs', intent)).resolves.toBeUndefined();
    expect([...objects.keys()]).toEqual(['flinksessionjobs/counter']);
  });

  test('an intent per kind: a FlinkDeployment of the same name is not affected', async () => {
    const { kube } = fakeKube();
    await recordRecreationIntent(kube, 'flinksessionjobs', intended, 'step-1');
    expect(await pendingRecreation(kube, 'flinkdeployments', 'flink', 'counter')).toBeUndefined();
  });

  test('a damaged intent is ignored rather than followed', async () => {
    const { kube, configMaps } = fakeKube();
    await recordRecreationIntent(kube, 'flinksessionjobs', intended, 'step-1');
    const [name] = [...configMaps.keys()];
    configMaps.get(name!)!.data = { 'recreation.json': '{"state":"pending","resource":{}}' };
    expect(await pendingRecreation(kube, 'flinksessionjobs', 'flink', 'counter')).toBeUndefined();
  });
});

describe('a suspended resource that will not run again', () => {
  const withStatus = (state: 'running' | 'suspended', status: FlinkResource['status']): FlinkResource => ({ ...intended, spec: { ...intended.spec, job: { ...intended.spec.job, state } }, status });
  const reconciled = { state: 'DEPLOYED', lastReconciledSpec: { resource_metadata: { metadata: { generation: 2 } } } };

  test.each<[string, FlinkResource, boolean]>([
    ['suspended by the operator', withStatus('suspended', { lifecycleState: 'SUSPENDED', reconciliationStatus: reconciled }), true],
    ['first deployment failed, spec suspended (the operator has nothing to reconcile)', withStatus('suspended', { lifecycleState: 'FAILED', reconciliationStatus: { state: 'UPGRADING' } }), true],
    ['failed after running once: the operator still owes the suspension', withStatus('suspended', { lifecycleState: 'FAILED', reconciliationStatus: reconciled }), false],
    ['still upgrading', withStatus('suspended', { lifecycleState: 'UPGRADING', reconciliationStatus: reconciled }), false],
    ['spec says running', withStatus('running', { lifecycleState: 'SUSPENDED', reconciliationStatus: reconciled }), false],
  ])('%s -> %s', (_name, resource, settled) => {
    expect(suspensionSettled(resource)).toBe(settled);
  });
});
