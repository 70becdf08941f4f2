import { lookup } from 'node:dns';
import { Agent } from 'undici';
import type { FlinkSettings } from '../../config/worker';
import { isForbiddenAddress } from '../policy';
import { FlinkRestClient, type FlinkRestClientOptions } from './rest-client';

/** Where a REST endpoint came from: the cluster's own Service (trusted), or a user's --rest-url (not). */
export type EndpointOrigin = 'service' | 'override';

export type FlinkClientFactory = (baseUrl: string, origin?: EndpointOrigin) => FlinkRestClient;

/**
 * How the worker talks to Flink REST endpoints: the configured headers (credentials for a proxy in front of the
 * JobManager) go only to a cluster's own endpoint, found through its Service; a user's --rest-url gets them only when
 * flink.restUrlOverride.sendHeaders says so, and its connections refuse link-local and metadata addresses at
 * connect time too (a name that resolved to something harmless when it was checked may not any more).
 * HTTPS endpoints get a TLS agent with the configured CA and client certificate. Built once per worker.
 */
export function flinkClientFactory(flink: FlinkSettings): FlinkClientFactory {
  const headers = Object.fromEntries(Object.entries(flink.headers).map(([name, secret]) => [name, secret.reveal()]));
  const tls = flink.tls && {
    ca: flink.tls.ca,
    cert: flink.tls.clientCert,
    key: flink.tls.clientKey?.reveal(),
    rejectUnauthorized: flink.tls.rejectUnauthorized,
  };
  const trusted = tls ? fetchWith(new Agent({ connect: tls })) : undefined;
  const guarded = fetchWith(new Agent({ connect: { ...(tls ?? {}), lookup: guardedLookup } }));
  return (baseUrl, origin = 'service') => {
    const options: FlinkRestClientOptions =
      origin === 'service'
        ? { baseUrl, headers, timeoutMs: flink.requestTimeoutMs, fetch: trusted }
        : { baseUrl, headers: flink.restUrlOverride.sendHeaders ? headers : {}, timeoutMs: flink.requestTimeoutMs, fetch: guarded };
    return new FlinkRestClient(options);
  };
}

/** The transport's options for code that builds its own client (e.g. fresh connections per request). */
export function flinkTransport(flink: FlinkSettings): Pick<FlinkRestClientOptions, 'headers' | 'fetch' | 'timeoutMs'> {
  const headers = Object.fromEntries(Object.entries(flink.headers).map(([name, secret]) => [name, secret.reveal()]));
  const tls = flink.tls;
  const fetchImpl = tls
    ? fetchWith(new Agent({ connect: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey?.reveal(), rejectUnauthorized: tls.rejectUnauthorized } }))
    : undefined;
  return { headers, timeoutMs: flink.requestTimeoutMs, fetch: fetchImpl };
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;

function guardedLookup(hostname: string, options: object, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const forbidden = addresses.find((a) => isForbiddenAddress(a.address));
    if (forbidden) {
      const refused = Object.assign(new Error(`${hostname} resolves to ${forbidden.address}, a link-local or metadata address`), { code: 'EFORBIDDENADDRESS' });
      return callback(refused, []);
    }
    const all = (options as { all?: boolean }).all;
    if (all) return callback(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

function fetchWith(agent: Agent): typeof fetch {
  // Node's fetch is undici underneath and takes a dispatcher; the option is missing from the DOM RequestInit type.
  return (input, init) => fetch(input, { ...init, dispatcher: agent } as unknown as RequestInit);
}
