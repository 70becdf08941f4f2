import { lookup } from 'node:dns/promises';
import { open, realpath, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve, sep } from 'node:path';
import { isInsideAllowedPrefixes, normalizeLocation } from '../workflows/model/locations';

/**
 * The worker-side rules that bound what a CLI user's input makes the worker do. The CLI user holds no credentials;
 * the worker does, so every path and URL the user names is checked here, against the worker's configuration,
 * before the worker reads, uploads or sends anything. A refusal names the field and the rule.
 */
export class PolicyRefusal extends Error {
  override readonly name = 'PolicyRefusal';

  constructor(
    /** The request field, as the CLI user knows it (--jar, --rest-url, ...). */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export interface JarPolicy {
  /** Directories on the worker that jars may come from (symbolic links are resolved first); empty allows none. */
  allowedDirectories: readonly string[];
  maxSizeBytes: number;
  /** URI prefixes a FlinkSessionJob's jarURI may start with (the operator fetches it); empty allows none. */
  allowedUris?: readonly string[];
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/**
 * A jar the worker may read and upload: an absolute path that, with every symbolic link resolved, is a regular file
 * inside an allowed directory, no larger than the limit, and starts like a zip archive (a jar is one).
 * Returns the resolved path the worker should read.
 */
export async function checkJar(path: string, policy: JarPolicy, field = '--jar'): Promise<string> {
  if (!path.startsWith('/')) throw new PolicyRefusal(field, `${path} is not an absolute path`);
  if (policy.allowedDirectories.length === 0) {
    throw new PolicyRefusal(field, 'the worker allows no jar directory (jars.allowedDirectories is empty): jars cannot be uploaded');
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new PolicyRefusal(field, `${path} not found or not readable on the worker`);
  }
  const allowed = await Promise.all(policy.allowedDirectories.map((dir) => realpath(dir).catch(() => resolve(dir))));
  if (!allowed.some((dir) => real.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`))) {
    throw new PolicyRefusal(field, `${path}${real !== path ? ` (${real})` : ''} is outside the allowed jar directories (${policy.allowedDirectories.join(', ')})`);
  }
  const info = await stat(real);
  if (!info.isFile()) throw new PolicyRefusal(field, `${path} is not a regular file`);
  if (info.size > policy.maxSizeBytes) throw new PolicyRefusal(field, `${path} is ${info.size} bytes, more than the limit of ${policy.maxSizeBytes} (jars.maxSizeBytes)`);
  const handle = await open(real, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead < 4 || !ZIP_MAGIC.every((byte, i) => head[i] === byte)) throw new PolicyRefusal(field, `${path} is not a jar (no zip header)`);
  } finally {
    await handle.close();
  }
  return real;
}

/**
 * A jarURI the Flink Kubernetes Operator would fetch for a FlinkSessionJob (the worker does not read it): it must
 * start with one of the allowed URI prefixes, so a CLI user cannot make the operator fetch any file or URL it reaches.
 */
export function checkJarUri(uri: string, allowedUris: readonly string[], field = '--jar'): string {
  const normalized = uri.startsWith('/') ? `file://${uri}` : uri;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(normalized)) throw new PolicyRefusal(field, `${uri} is not a URI or absolute path`);
  if (allowedUris.length === 0) throw new PolicyRefusal(field, 'the worker allows no jar URI for operator jobs (jars.allowedUris is empty)');
  const location = normalized.startsWith('file:') ? normalizeLocation(normalized) : { ok: true as const, location: normalized };
  if (!location.ok) throw new PolicyRefusal(field, `${uri} ${location.problem}`);
  const allowed = allowedUris.some((prefix) => {
    if (prefix.startsWith('file:')) return isInsideAllowedPrefixes(location.location, [prefix]);
    return location.location === prefix.replace(/\/+$/, '') || location.location.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
  });
  if (!allowed) throw new PolicyRefusal(field, `${uri} is outside the allowed jar URIs (${allowedUris.join(', ')})`);
  return location.location;
}

export interface RestUrlPolicy {
  /** URL prefixes (scheme://host[:port][/path]) a --rest-url may start with; empty turns overrides off. */
  allowedUrls: readonly string[];
}

/** Addresses a request from the worker must never go to: link-local (cloud metadata lives there) and known metadata hosts. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata', 'instance-data', 'metadata.azure.com']);

export function isForbiddenAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').toLowerCase();
  const version = isIP(ip);
  if (version === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    // 169.254/16 link-local (AWS, GCP, Azure metadata at 169.254.169.254), 100.100.100.200 (Alibaba metadata), 0/8.
    return (a === 169 && b === 254) || ip === '100.100.100.200' || a === 0;
  }
  if (version === 6) {
    if (ip.startsWith('::ffff:')) return isForbiddenAddress(ip.slice('::ffff:'.length));
    // fe80::/10 link-local; fd00:ec2::254 is AWS's IPv6 metadata address.
    return /^fe[89ab][0-9a-f]:/.test(ip) || ip === 'fd00:ec2::254' || ip === '::';
  }
  return false;
}

/**
 * A --rest-url the worker may send requests to: http(s), no credentials, inside the configured allow-list, and
 * neither naming nor resolving to a link-local or metadata address. Returns the normalized URL.
 */
export async function checkRestUrl(raw: string, policy: RestUrlPolicy, resolveHost: (host: string) => Promise<string[]> = resolveAll): Promise<string> {
  const field = '--rest-url';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PolicyRefusal(field, `${raw} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PolicyRefusal(field, `${raw} must be an http(s) URL`);
  if (url.username || url.password) throw new PolicyRefusal(field, 'must not carry credentials');
  if (url.search || url.hash) throw new PolicyRefusal(field, 'must not carry a query or fragment');
  if (policy.allowedUrls.length === 0) {
    throw new PolicyRefusal(field, 'REST URL overrides are off on this worker (flink.restUrlOverride.allowedUrls is empty): flinkops finds the REST endpoint through the cluster\'s Service');
  }
  const normalized = url.toString().replace(/\/+$/, '');
  const host = url.hostname.toLowerCase();
  if (METADATA_HOSTS.has(host) || isForbiddenAddress(host)) throw new PolicyRefusal(field, `${url.host} is a link-local or metadata address`);
  if (!policy.allowedUrls.some((prefix) => startsWithUrl(normalized, prefix))) {
    throw new PolicyRefusal(field, `${normalized} is not allowed (flink.restUrlOverride.allowedUrls: ${policy.allowedUrls.join(', ')})`);
  }
  const addresses = isIP(host.replace(/^\[|\]$/g, '')) ? [host] : await resolveHost(host).catch(() => []);
  if (addresses.length === 0) throw new PolicyRefusal(field, `${url.hostname} does not resolve`);
  const forbidden = addresses.find(isForbiddenAddress);
  if (forbidden) throw new PolicyRefusal(field, `${url.hostname} resolves to ${forbidden}, a link-local or metadata address`);
  return normalized;
}

/** An allow-list entry: a URL prefix; `:*` as its port allows any port of that host (scheme://host:*[/path]). */
function startsWithUrl(url: string, prefix: string): boolean {
  const anyPort = /^([a-z]+:\/\/[^/]+):\*(\/.*)?$/i.exec(prefix);
  let base: URL;
  try {
    base = new URL(anyPort ? `${anyPort[1]}${anyPort[2] ?? ''}` : prefix);
  } catch {
    return false;
  }
  const candidate = new URL(url);
  if (candidate.protocol !== base.protocol || candidate.hostname !== base.hostname) return false;
  if (!anyPort && candidate.port !== base.port) return false;
  const basePath = base.pathname.replace(/\/+$/, '');
  const path = candidate.pathname.replace(/\/+$/, '');
  return path === basePath || path.startsWith(`${basePath}/`);
}

async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}
