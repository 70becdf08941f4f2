import { createServer, type Server } from 'node:http';
import { parseHostPort } from '../config/schema';

export interface HealthState {
  /** The worker polls its task queue: ready for work. */
  ready: () => boolean;
  /** The process can still make progress (false once the worker has failed). */
  live: () => boolean;
  /** Why not ready, for the body of a 503 from /readyz (no secrets). */
  problems?: () => string[];
}

/**
 * /healthz (liveness) and /readyz (readiness) for Kubernetes probes. A draining worker is live but not ready, so
 * it is not restarted while its activities finish within the grace period.
 */
export async function startHealthServer(bindAddress: string, state: HealthState): Promise<Server> {
  const { host, port } = parseHostPort(bindAddress)!;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const ok = path === '/healthz' ? state.live() : path === '/readyz' ? state.ready() : undefined;
    if (ok === undefined) {
      response.writeHead(404).end('not found\n');
      return;
    }
    const detail = !ok && path === '/readyz' ? (state.problems?.() ?? []) : [];
    response.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : `unavailable\n${detail.map((d) => `${d}\n`).join('')}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`health.bindAddress: cannot listen on ${bindAddress} (${error.code ?? error.message})`)),
    );
    server.listen(port, host.replace(/^\[|\]$/g, ''), () => resolve());
  });
  server.unref();
  return server;
}
