import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { findRepoRoot } from '../stack/config';

/**
 * The Kubernetes permissions flinkops needs, derived from its code rather than written down by hand:
 *   1. every `kube.<api>.<method>(` call under activities/ (the only place that talks to Kubernetes);
 *   2. which client-node API class each `<api>` is (activities/kube/clients.ts);
 *   3. the HTTP request that method really sends (called against a recording transport), turned into the
 *      (apiGroup, resource, verb) the API server authorizes it as.
 * test/unit/rbac.test.ts compares that set with the Roles in deploy/kubernetes/.
 */
export interface Permission {
  apiGroup: string;
  resource: string;
  verb: string;
}

export interface KubeCall {
  api: string;
  method: string;
  where: string;
}

const repoRoot = findRepoRoot();
const ACTIVITIES = join(repoRoot, 'activities');
const CLIENTS_FILE = join(ACTIVITIES, 'kube', 'clients.ts');

/** `core: kc.makeApiClient(CoreV1Api)` -> { core: 'CoreV1Api' } */
export function apiClasses(): Record<string, string> {
  const source = readFileSync(CLIENTS_FILE, 'utf8');
  return Object.fromEntries([...source.matchAll(/(\w+):\s*kc\.makeApiClient\((\w+)\)/g)].map((m) => [m[1]!, m[2]!]));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every Kubernetes API call in activities/, and anything that would hide one from this scan. */
export function kubeCalls(): { calls: KubeCall[]; hidden: string[] } {
  const apis = Object.keys(apiClasses());
  const calls: KubeCall[] = [];
  const hidden: string[] = [];
  for (const file of sourceFiles(ACTIVITIES)) {
    const source = readFileSync(file, 'utf8');
    const where = (index: number) => `${relative(repoRoot, file)}:${source.slice(0, index).split('\n').length}`;
    for (const match of source.matchAll(/\bkube\.(\w+)\.(\w+)\s*\(/g)) {
      calls.push({ api: match[1]!, method: match[2]!, where: where(match.index) });
    }
    if (file === CLIENTS_FILE) continue;
    // `const { apps } = ctx.kube`, `kube.apps[name](...)`, `kube.kc.makeApiClient(...)`: calls the scan could not see.
    for (const match of source.matchAll(/\bkube\.(\w+)\b(?!\.\w+\s*\()/g)) {
      if (apis.includes(match[1]!) || match[1] === 'kc') hidden.push(`${where(match.index)}: kube.${match[1]} is used other than as kube.${match[1]}.<method>(...)`);
    }
    for (const match of source.matchAll(/\{[^}]*\}\s*=\s*(?:\w+\.)*kube\b/g)) hidden.push(`${where(match.index)}: destructures the Kubernetes clients`);
  }
  return { calls, hidden };
}

/**
 * The Flink Kubernetes Operator's resources the code may address through kube.custom (CustomObjectsApi): every call
 * takes `flinkResource(plural)`, so each call needs its verb on every plural the type allows.
 */
export function flinkPlurals(): string[] {
  const source = readFileSync(join(ACTIVITIES, 'kube', 'flink-resources.ts'), 'utf8');
  const union = /export type FlinkPlural = ([^;]+);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'([a-z]+)'/g)].map((m) => m[1]!);
}

/** The request a client-node method sends, recorded instead of sent. */
export async function requestOf(apiClass: string, method: string, extra: Record<string, string> = {}): Promise<{ httpMethod: string; path: string }> {
  const ApiClass = (k8s as unknown as Record<string, new (config: k8s.Configuration) => Record<string, (params: unknown) => Promise<unknown>>>)[apiClass];
  if (!ApiClass) throw new Error(`@kubernetes/client-node has no ${apiClass}`);
  let recorded: { httpMethod: string; path: string } | undefined;
  const config = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration('https://kubernetes.invalid', {}),
    httpApi: {
      send(request: k8s.RequestContext) {
        recorded = { httpMethod: request.getHttpMethod(), path: new URL(request.getUrl()).pathname };
        return k8s.wrapHttpLibrary({ send: () => Promise.reject(new Error('recorded, not sent')) }).send(request);
      },
    },
  });
  const api = new ApiClass(config);
  if (typeof api[method] !== 'function') throw new Error(`${apiClass} has no method ${method}`);
  await api[method]({ name: 'n', namespace: 'ns', path: 'p', body: {}, ...extra }).catch(() => undefined);
  if (!recorded) throw new Error(`${apiClass}.${method} sent no request`);
  return recorded;
}

/** /api/v1/namespaces/ns/pods/n/log, GET -> ('', 'pods/log', 'get') — the API server's own request attributes. */
export function permissionOf(httpMethod: string, path: string): Permission {
  const parts = path.split('/').filter(Boolean);
  const [apiGroup, rest] = parts[0] === 'api' ? ['', parts.slice(2)] : [parts[1]!, parts.slice(3)];
  const scoped = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  const [resource, name, subresource] = scoped;
  if (!resource) throw new Error(`cannot tell the resource of ${path}`);
  const verbs: Record<string, [string, string]> = {
    GET: ['list', 'get'],
    POST: ['create', 'create'],
    PUT: ['update', 'update'],
    PATCH: ['patch', 'patch'],
    DELETE: ['deletecollection', 'delete'],
  };
  const verb = verbs[httpMethod]?.[name === undefined ? 0 : 1];
  if (!verb) throw new Error(`unknown HTTP method ${httpMethod} for ${path}`);
  return { apiGroup, resource: subresource ? `${resource}/${subresource}` : resource, verb };
}

export function permissionKey(p: Permission): string {
  return `${p.apiGroup || 'core'} ${p.resource} ${p.verb}`;
}

/** The permissions flinkops' code needs, each with the calls that need it. */
export async function requiredPermissions(): Promise<Map<string, { permission: Permission; calls: string[] }>> {
  const classes = apiClasses();
  const { calls, hidden } = kubeCalls();
  if (hidden.length > 0) throw new Error(`Kubernetes calls the RBAC scan cannot see:\n${hidden.join('\n')}`);
  const required = new Map<string, { permission: Permission; calls: string[] }>();
  for (const call of calls) {
    const apiClass = classes[call.api];
    if (!apiClass) throw new Error(`${call.where}: kube.${call.api} is not one of the clients in activities/kube/clients.ts`);
    const targets = apiClass === 'CustomObjectsApi' ? flinkPlurals().map((plural) => ({ group: 'flink.apache.org', version: 'v1beta1', plural })) : [{}];
    for (const extra of targets) {
      const request = await requestOf(apiClass, call.method, extra);
      const permission = permissionOf(request.httpMethod, request.path);
      const key = permissionKey(permission);
      const entry = required.get(key) ?? { permission, calls: [] };
      entry.calls.push(`${call.api}.${call.method} (${call.where})`);
      required.set(key, entry);
    }
  }
  return required;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** Every (apiGroup, resource, verb) a Role or ClusterRole grants; wildcards are refused, not expanded. */
export function grantedPermissions(role: { kind?: string; rules?: PolicyRule[] }): string[] {
  const granted = new Set<string>();
  for (const rule of role.rules ?? []) {
    for (const list of [rule.apiGroups, rule.resources, rule.verbs]) {
      if (list?.includes('*')) throw new Error(`${role.kind} grants "*": least privilege means naming each permission`);
    }
    for (const apiGroup of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        for (const verb of rule.verbs ?? []) granted.add(permissionKey({ apiGroup, resource, verb }));
      }
    }
  }
  return [...granted].sort();
}
