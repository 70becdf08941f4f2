import { Agent } from 'undici';
import type { FlinkSettings } from '../../config/worker';
import type { FlinkRestClientOptions } from './rest-client';

/**
 * How the worker talks to Flink REST endpoints: the configured headers (authentication at a proxy) on every request,
 * and, for HTTPS endpoints, a TLS agent with the configured CA and client certificate. Built once per worker.
 */
export function flinkTransport(flink: FlinkSettings): Pick<FlinkRestClientOptions, 'headers' | 'fetch' | 'timeoutMs'> {
  const headers = Object.fromEntries(Object.entries(flink.headers).map(([name, secret]) => [name, secret.reveal()]));
  return { headers, timeoutMs: flink.requestTimeoutMs, fetch: flink.tls ? fetchWithTls(flink.tls) : undefined };
}

function fetchWithTls(tls: NonNullable<FlinkSettings['tls']>): typeof fetch {
  const agent = new Agent({
    connect: {
      ca: tls.ca,
      cert: tls.clientCert,
      key: tls.clientKey?.reveal(),
      rejectUnauthorized: tls.rejectUnauthorized,
    },
  });
  // Node's fetch is undici underneath and takes a dispatcher; the option is missing from the DOM RequestInit type.
  return (input, init) => fetch(input, { ...init, dispatcher: agent } as unknown as RequestInit);
}
