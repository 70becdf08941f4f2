import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubernetesObjectApi, loadAllYaml, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { findRepoRoot } from '../config';

export const MANIFEST_DIR = join(findRepoRoot(), 'test', 'fixtures', 'k8s');

/** Reads a fixture manifest and substitutes `${VAR}`; every variable must be given. */
export function renderManifest(file: string, variables: Record<string, string | number>): KubernetesObject[] {
  const path = file.includes('/') ? file : join(MANIFEST_DIR, file);
  const text = readFileSync(path, 'utf8').replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new Error(`${path}: no value for \${${name}}`);
    return String(value);
  });
  return (loadAllYaml(text) as (KubernetesObject | null)[]).filter((o): o is KubernetesObject => o !== null);
}

/** `kubectl apply --server-side` for a list of objects, in order. */
export async function applyObjects(kc: KubeConfig, objects: KubernetesObject[], fieldManager = 'flinkops-tests'): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const object of objects) {
    await api.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
  }
}
