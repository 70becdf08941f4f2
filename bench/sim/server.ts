import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for what a fleet savepoint run talks to: the Kubernetes API objects flinkops reads and writes
 * (JobManager Deployments, REST Services, record ConfigMaps, lock Leases, Events) and one Flink REST endpoint per
 * cluster answering the savepoint calls at once (constant time). For measuring flinkops' own overhead (worker,
 * Temporal) at scale only; it proves nothing about Flink or Kubernetes. Listens on 127.0.0.1 only.
 */
export interface SimulationSpec {
  clusters: number;
  jobsPerCluster: number;
  namespace?: string;
}

export interface Simulation {
  kubeUrl: string;
  requests: { kube: number; flink: number };
  savepoints: number;
  close(): Promise<void>;
}

interface KubeObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export async function startSimulation(spec: SimulationSpec): Promise<Simulation> {
  const namespace = spec.namespace ?? 'sim';
  const requests = { kube: 0, flink: 0 };
  const store = new Map<string, KubeObject>();
  let version = 1;
  const put = (resource: string, object: KubeObject) => {
    object.metadata.resourceVersion = String(version++);
    store.set(`${resource}/${object.metadata.namespace ?? ''}/${object.metadata.name}`, object);
  };
  const servers: Server[] = [];
  let savepoints = 0;

  for (let c = 0; c < spec.clusters; c++) {
    const name = `sim-${c}`;
    const jobs = Array.from({ length: spec.jobsPerCluster }, (_, j) => ({ jid: jobId(c, j), name: `job-${c}-${j}` }));
    const server = createServer((req, res) => {
      requests.flink++;
      void handleFlink(req, res, jobs, () => savepoints++);
    });
    await listen(server);
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    const labels = { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'jobmanager', 'flinkops.sim/fleet': 'sim' };
    put('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels, uid: `uid-${name}` },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        strategy: { type: 'Recreate' },
        template: { metadata: { labels }, spec: { containers: [{ name: 'jobmanager', image: 'flink:1.20', args: ['jobmanager'] }] } },
      },
      status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 },
    });
    put('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${name}-rest`, namespace },
      spec: { clusterIP: '127.0.0.1', selector: labels, ports: [{ name: 'rest', port, targetPort: port }] },
    });
  }

  const kube = createServer((req, res) => {
    requests.kube++;
    void handleKube(req, res, store, put);
  });
  await listen(kube);
  servers.push(kube);
  return {
    kubeUrl: `http://127.0.0.1:${(kube.address() as AddressInfo).port}`,
    requests,
    get savepoints() {
      return savepoints;
    },
    async close() {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); })));
    },
  };
}

export function jobId(cluster: number, job: number): string {
  return `${cluster.toString(16).padStart(16, '0')}${job.toString(16).padStart(16, '0')}`;
}

/** A kubeconfig for the simulated API server (plain HTTP on loopback, no credentials). */
export function simulatedKubeconfig(kubeUrl: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sim', cluster: { server: kubeUrl, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'sim', user: {} }],
    contexts: [{ name: 'sim', context: { cluster: 'sim', user: 'sim' } }],
    'current-context': 'sim',
  });
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const SAVEPOINT_DIR = 'file:///sim/savepoints';

async function handleFlink(req: IncomingMessage, res: ServerResponse, jobs: { jid: string; name: string }[], countSavepoint: () => void): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const text = method === 'GET' ? '' : await body(req);
  const now = Date.now();
  if (path === '/overview') return send(res, 200, { taskmanagers: 1, 'slots-total': jobs.length, 'slots-available': 0, 'jobs-running': jobs.length, 'flink-version': '1.20.5' });
  if (path === '/jobmanager/config') return send(res, 200, [{ key: 'state.savepoints.dir', value: SAVEPOINT_DIR }, { key: 'state.checkpoints.dir', value: 'file:///sim/checkpoints' }]);
  if (path === '/jobs/overview') return send(res, 200, { jobs: jobs.map((j) => ({ jid: j.jid, name: j.name, state: 'RUNNING', 'start-time': now - 3_600_000, 'end-time': -1 })) });
  if (path === '/savepoint-disposal' && method === 'POST') return send(res, 202, { 'request-id': 'disposal' });
  if (path.startsWith('/savepoint-disposal/')) return send(res, 200, { status: { id: 'COMPLETED' }, operation: {} });
  const match = /^\/jobs\/([0-9a-f]{32})(\/.*)?$/.exec(path);
  const job = match && jobs.find((j) => j.jid === match[1]);
  if (!match || !job) return send(res, 404, { errors: [`not found: ${path}`] });
  const rest = match[2] ?? '';
  if (rest === '') {
    return send(res, 200, {
      jid: job.jid, name: job.name, state: 'RUNNING', 'start-time': now - 3_600_000, 'end-time': -1, now, timestamps: { RUNNING: now - 3_600_000 },
      vertices: [{ id: 'v1', name: 'source', parallelism: 1, status: 'RUNNING', tasks: { RUNNING: 1 } }],
    });
  }
  if (rest === '/checkpoints/config') return send(res, 200, { mode: 'exactly_once', interval: 10_000, timeout: 600_000, externalization: { enabled: true, delete_on_cancellation: false } });
  if (rest === '/checkpoints') {
    return send(res, 200, {
      counts: { restored: 0, total: 10, in_progress: 0, completed: 10, failed: 0 },
      latest: { completed: { id: 10, external_path: `file:///sim/checkpoints/${job.jid}/chk-10`, latest_ack_timestamp: now - 5_000 }, savepoint: null, failed: null, restored: null },
    });
  }
  if (rest.startsWith('/metrics')) return send(res, 200, [{ id: 'numRestarts', value: '0' }]);
  if (rest === '/savepoints' && method === 'POST') {
    const request = JSON.parse(text || '{}') as { triggerId?: string };
    return send(res, 202, { 'request-id': request.triggerId ?? 'trigger' });
  }
  const status = /^\/savepoints\/([^/]+)$/.exec(rest);
  if (status) {
    countSavepoint();
    return send(res, 200, { status: { id: 'COMPLETED' }, operation: { location: `${SAVEPOINT_DIR}/savepoint-${job.jid.slice(-6)}-${status[1]}` } });
  }
  return send(res, 404, { errors: [`not simulated: ${method} ${path}`] });
}

/** Paths: /api/v1/namespaces/NS/RESOURCE[/NAME], /apis/GROUP/VERSION/namespaces/NS/RESOURCE[/NAME], /apis/GROUP/VERSION/RESOURCE. */
async function handleKube(req: IncomingMessage, res: ServerResponse, store: Map<string, KubeObject>, put: (resource: string, object: KubeObject) => void): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const method = req.method ?? 'GET';
  const text = method === 'GET' ? '' : await body(req);
  if (url.pathname === '/version') return send(res, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0-sim' });
  const parts = url.pathname.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  let namespace: string | undefined;
  let resource: string;
  let name: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) [, namespace, resource, name] = rest as [string, string, string, string | undefined];
  else [resource, name] = rest as [string, string | undefined];
  const notFound = () => send(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${resource} "${name ?? ''}" not found` });
  const conflict = () => send(res, 409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: `${resource} "${name ?? ''}" conflict` });
  if (!resource) return notFound();
  const key = (n: string) => `${resource}/${namespace ?? ''}/${n}`;

  if (method === 'GET' && name) {
    const found = store.get(key(name));
    return found ? send(res, 200, found) : notFound();
  }
  if (method === 'GET') {
    if (['flinkdeployments', 'flinksessionjobs'].includes(resource)) return notFound();
    const selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
    const items = [...store.entries()]
      .filter(([k]) => k.startsWith(`${resource}/`) && (namespace === undefined || k.startsWith(`${resource}/${namespace}/`)))
      .map(([, o]) => o)
      .filter((o) => selector.every(([k, v]) => o.metadata.labels?.[k] === v));
    return send(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items });
  }
  if (method === 'POST') {
    const object = JSON.parse(text) as KubeObject;
    object.metadata.namespace = namespace;
    if (resource === 'events') {
      object.metadata.name ??= `event-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      return send(res, 201, object); // not kept: nothing reads them back
    }
    if (store.has(key(object.metadata.name))) return conflict();
    put(resource, object);
    return send(res, 201, object);
  }
  if (method === 'PUT' && name) {
    const existing = store.get(key(name));
    if (!existing) return notFound();
    const object = JSON.parse(text) as KubeObject;
    if (object.metadata.resourceVersion && object.metadata.resourceVersion !== existing.metadata.resourceVersion) return conflict();
    object.metadata.namespace = namespace;
    put(resource, object);
    return send(res, 200, object);
  }
  if (method === 'DELETE' && name) {
    const existing = store.get(key(name));
    if (!existing) return notFound();
    const options = text ? (JSON.parse(text) as { preconditions?: { resourceVersion?: string } }) : {};
    if (options.preconditions?.resourceVersion && options.preconditions.resourceVersion !== existing.metadata.resourceVersion) return conflict();
    store.delete(key(name));
    return send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
  }
  return send(res, 405, { kind: 'Status', code: 405, message: `not simulated: ${method} ${url.pathname}` });
}

function parseSelector(selector: string): [string, string][] {
  return selector
    .split(',')
    .filter(Boolean)
    .map((term) => {
      const [k, v] = term.split('=');
      return [k!, v ?? ''];
    });
}
