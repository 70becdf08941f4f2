import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A fault-injecting HTTP proxy on loopback, for tests only: in front of the Flink REST API (answers 5xx, resets the
 * connection before the request reaches Flink or after Flink answered, answers slowly) or of the Kubernetes API
 * server (409, 429, 5xx). Faults are drawn from a seeded generator, so a run can be repeated; counts say what was
 * injected.
 */
export interface FaultPlan {
  /** Probability of answering 503 (or `errorStatus`) without forwarding. */
  error?: number;
  errorStatus?: number;
  /** Probability of closing the connection before forwarding: the request never arrives. */
  resetBefore?: number;
  /** Probability of forwarding, letting the upstream answer, and closing the connection instead of passing it on. */
  resetAfter?: number;
  /** Probability of holding the request `slowMs` before forwarding. */
  slow?: number;
  slowMs?: number;
  /** Probability of 409 Conflict on writes (POST, PUT, PATCH, DELETE) without forwarding. */
  conflictOnWrite?: number;
  /** Probability of 429 Too Many Requests (Retry-After: 1) without forwarding. */
  tooManyRequests?: number;
  /** Requests whose path matches are passed through untouched (e.g. jar uploads, to keep a test's duration bounded). */
  spare?: RegExp;
}

export type FaultKind = 'error' | 'resetBefore' | 'resetAfter' | 'slow' | 'conflict' | 'tooManyRequests' | 'passed';

export interface FaultProxy {
  url: string;
  plan: FaultPlan;
  counts: Record<FaultKind, number>;
  /** Faults on/off without restarting (a test's setup runs clean, its operation under faults). */
  enabled: boolean;
  close(): Promise<void>;
}

export interface Upstream {
  url: string;
  /** Client certificate, key and CA (PEM files) for an https upstream such as the API server. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

export async function startFaultProxy(upstream: Upstream, plan: FaultPlan, seed = 1): Promise<FaultProxy> {
  const random = mulberry32(seed);
  const target = new URL(upstream.url);
  const tls = upstream.tls && { cert: readFileSync(upstream.tls.certFile), key: readFileSync(upstream.tls.keyFile), ca: readFileSync(upstream.tls.caFile) };
  const counts: Record<FaultKind, number> = { error: 0, resetBefore: 0, resetAfter: 0, slow: 0, conflict: 0, tooManyRequests: 0, passed: 0 };
  const proxy = { plan, counts, enabled: true } as FaultProxy;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, dropAnswer: boolean) => {
    const headers = { ...req.headers, host: target.host };
    const options = { method: req.method, headers, agent: false as const, ...(tls ?? {}) };
    const url = new URL(req.url ?? '/', target);
    const upstreamRequest = (target.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (answer) => {
      if (dropAnswer) {
        answer.resume();
        answer.on('end', () => res.socket?.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstreamRequest.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502).end(JSON.stringify({ errors: [`fault proxy: upstream ${error.message}`] }));
    });
    upstreamRequest.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const p = proxy.plan;
      const write = req.method !== 'GET' && req.method !== 'HEAD';
      if (!proxy.enabled || (p.spare && p.spare.test(req.url ?? ''))) {
        counts.passed++;
        forward(req, res, body, false);
        return;
      }
      const draw = random();
      let threshold = 0;
      const hit = (probability = 0) => draw < (threshold += probability);
      if (hit(p.resetBefore)) {
        counts.resetBefore++;
        req.socket.destroy();
        return;
      }
      if (hit(p.error)) {
        counts.error++;
        res.writeHead(p.errorStatus ?? 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: ['fault proxy: injected error'], kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'fault proxy: injected error', code: p.errorStatus ?? 503 }));
        return;
      }
      if (write && hit(p.conflictOnWrite)) {
        counts.conflict++;
        res.writeHead(409, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'fault proxy: injected conflict', reason: 'Conflict', code: 409 }));
        return;
      }
      if (hit(p.tooManyRequests)) {
        counts.tooManyRequests++;
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'fault proxy: too many requests', reason: 'TooManyRequests', code: 429 }));
        return;
      }
      if (hit(p.resetAfter)) {
        counts.resetAfter++;
        forward(req, res, body, true);
        return;
      }
      if (hit(p.slow)) {
        counts.slow++;
        setTimeout(() => forward(req, res, body, false), p.slowMs ?? 2_000);
        return;
      }
      counts.passed++;
      forward(req, res, body, false);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/** A small seeded generator (mulberry32): repeatable fault sequences. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The fault proxy in front of the Kubernetes API server: it holds the admin client certificate of the given
 * kubeconfig, and the returned kubeconfig (plain http to the proxy, no credentials) is the worker's.
 */
export async function startKubeFaultProxy(adminKubeconfig: string, plan: FaultPlan, kubeconfigPath: string, seed = 2): Promise<{ proxy: FaultProxy; kubeconfig: string }> {
  const config = JSON.parse(readFileSync(adminKubeconfig, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority': string } }[];
    users: { user: { 'client-certificate': string; 'client-key': string } }[];
  };
  const cluster = config.clusters[0]!.cluster;
  const user = config.users[0]!.user;
  const proxy = await startFaultProxy({ url: cluster.server, tls: { certFile: user['client-certificate'], keyFile: user['client-key'], caFile: cluster['certificate-authority'] } }, plan, seed);
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    // Plain http to the proxy on loopback: client-node wants that said explicitly.
    clusters: [{ name: 'faulty', cluster: { server: proxy.url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'proxy', user: {} }],
    contexts: [{ name: 'faulty', context: { cluster: 'faulty', user: 'proxy' } }],
    'current-context': 'faulty',
  };
  writeFileSync(kubeconfigPath, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
  return { proxy, kubeconfig: kubeconfigPath };
}
