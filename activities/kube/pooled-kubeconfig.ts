import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

/** Distinct connection identities kept at once; credentials rotate rarely, so more means a leak of agents. */
const MAX_AGENTS = 8;
/**
 * An idle connection is closed after this long, before load balancers in front of the API server drop it (a request
 * on a connection dropped silently would fail). Only idle connections: node-fetch sets no socket timeout listener.
 */
const IDLE_CONNECTION_MS = 30_000;
const KEEP_ALIVE = { keepAlive: true, timeout: IDLE_CONNECTION_MS, scheduling: 'lifo' } as const;

/**
 * A KubeConfig whose API calls share keep-alive connections. client-node builds a new agent for every call, so each
 * call paid a TCP connection and a TLS handshake with a freshly built secure context: the worker's largest CPU cost
 * per savepoint run against a real API server (see BENCHMARKS.md, fleet savepoints).
 *
 * Agents are pooled by what identifies the connection (CA, client certificate and key, server name, verification),
 * so rotated credentials get a new agent. Proxy agents are used as client-node built them.
 */
export class PooledKubeConfig extends KubeConfig {
  private readonly agents = new Map<string, http.Agent>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const agent = context.getAgent();
    if (agent) context.setAgent(this.pooled(agent));
  }

  private pooled(fresh: http.Agent): http.Agent {
    const Kind = fresh.constructor;
    if (Kind !== https.Agent && Kind !== http.Agent) return fresh;
    const options = (fresh as https.Agent).options;
    const key = connectionIdentity(Kind === https.Agent ? 'https' : 'http', options);
    const known = this.agents.get(key);
    if (known) return known;
    const agent = Kind === https.Agent ? new https.Agent({ ...options, ...KEEP_ALIVE }) : new http.Agent({ ...options, ...KEEP_ALIVE });
    this.agents.set(key, agent);
    if (this.agents.size > MAX_AGENTS) {
      const [oldestKey, oldest] = this.agents.entries().next().value!;
      this.agents.delete(oldestKey);
      oldest.destroy();
    }
    return agent;
  }
}

function connectionIdentity(protocol: string, options: https.AgentOptions): string {
  const hash = createHash('sha256').update(protocol);
  for (const value of [options.ca, options.cert, options.key, options.pfx, options.passphrase, options.servername, options.rejectUnauthorized]) {
    hash.update('\0').update(value === undefined ? '' : Buffer.isBuffer(value) ? value : JSON.stringify(value));
  }
  return hash.digest('hex');
}
