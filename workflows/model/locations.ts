/**
 * Savepoint and checkpoint locations. Flink reports local paths as "file:/x" while users write "file:///x" or "/x";
 * a hostile user writes "file:///allowed/../../etc" or "file:///allowed/%2e%2e/etc". Every location goes through
 * one normalisation (scheme and authority lower-cased, percent-encoding decoded once, repeated slashes and dot
 * segments resolved) before it is compared with anything, and locations that cannot be normalised safely are
 * refused with the reason.
 */
export type NormalizedLocation = { ok: true; location: string } | { ok: false; problem: string };

interface ParsedLocation {
  /** "file", "s3", "hdfs", ... */
  scheme: string;
  /** Bucket or host:port; empty for local files. */
  authority: string;
  /** Path segments, without empty or "." segments and with ".." resolved. */
  segments: string[];
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s;

export function normalizeLocation(raw: string): NormalizedLocation {
  const parsed = parseLocation(raw);
  return 'problem' in parsed ? { ok: false, problem: parsed.problem } : { ok: true, location: formatLocation(parsed) };
}

function parseLocation(raw: string): ParsedLocation | { problem: string } {
  const text = raw.trim();
  if (text === '') return { problem: 'is empty' };
  // Control characters (newlines in particular) have no business in a path and break logs and YAML.
  if ([...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return { problem: 'contains control characters' };
  if (/[?#]/.test(text)) return { problem: 'must not contain a query or fragment (? or #)' };

  let scheme = 'file';
  let authority = '';
  let path: string;
  if (text.startsWith('/')) {
    path = text;
  } else {
    const match = SCHEME.exec(text);
    if (!match) return { problem: 'must be an absolute path or a URI such as file:///savepoints or s3://bucket/savepoints' };
    scheme = match[1]!.toLowerCase();
    const rest = match[2]!;
    if (scheme === 'file') {
      // file:/x, file:///x and file://localhost/x are the same local path; file://otherhost/x is not local.
      const withHost = /^\/\/([^/]*)(\/.*)?$/.exec(rest);
      if (withHost) {
        const host = withHost[1]!.toLowerCase();
        if (host !== '' && host !== 'localhost') return { problem: `names the host "${withHost[1]}": only local file: locations are supported` };
        path = withHost[2] ?? '/';
      } else if (rest.startsWith('/')) {
        path = rest;
      } else {
        return { problem: 'must be an absolute file: location such as file:///savepoints' };
      }
    } else {
      const withAuthority = /^\/\/([^/]+)(\/.*)?$/.exec(rest);
      if (!withAuthority) return { problem: `must be ${scheme}://BUCKET-OR-HOST/PATH` };
      authority = withAuthority[1]!.toLowerCase();
      if (authority.includes('@')) return { problem: 'must not carry credentials (user@host)' };
      path = withAuthority[2] ?? '/';
    }
  }

  const segments: string[] = [];
  for (const encoded of path.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return { problem: `has an invalid percent-encoding in "${encoded}"` };
    }
    // Decoded once, as Flink's Path does: what is left is a literal "%", which only double encoding produces.
    if (segment.includes('%')) return { problem: `is percent-encoded more than once ("${encoded}")` };
    if (segment.includes('/') || segment.includes('\\')) return { problem: `has an encoded separator in "${encoded}"` };
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) return { problem: 'climbs above the root with ".."' };
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  return { scheme, authority, segments };
}

function formatLocation(location: ParsedLocation): string {
  return `${location.scheme}://${location.authority}/${location.segments.join('/')}`;
}

/**
 * The canonical form of a location for comparisons and records. Locations that cannot be normalised (refused by
 * `normalizeLocation`) are returned trimmed, so they never compare equal to an allowed one by accident.
 */
export function canonicalLocation(location: string): string {
  const normalized = normalizeLocation(location);
  return normalized.ok ? normalized.location : location.trim();
}

export function sameLocation(a: string, b: string): boolean {
  return canonicalLocation(a) === canonicalLocation(b);
}

/**
 * Whether `location` is `prefix` itself or below it, segment by segment, after normalising both. An empty prefix
 * list allows nothing: callers decide what the default prefixes are.
 */
export function isInsideAllowedPrefixes(location: string, prefixes: readonly string[]): boolean {
  const target = parseLocation(location);
  if ('problem' in target) return false;
  return prefixes.some((prefix) => {
    const base = parseLocation(prefix);
    if ('problem' in base) return false;
    return (
      base.scheme === target.scheme &&
      base.authority === target.authority &&
      base.segments.length <= target.segments.length &&
      base.segments.every((segment, i) => target.segments[i] === segment)
    );
  });
}

/** Strictly below a prefix (never the prefix itself): what may be deleted. */
export function isStrictlyInsideAllowedPrefixes(location: string, prefixes: readonly string[]): boolean {
  const target = canonicalLocation(location);
  return isInsideAllowedPrefixes(location, prefixes) && !prefixes.some((prefix) => canonicalLocation(prefix) === target);
}

export type LocationCheck = { ok: true; location: string } | { ok: false; problem: string };

/** One rule wherever a location enters: normalisable, and inside the allowed prefixes. */
export function checkLocation(location: string, allowedPrefixes: readonly string[]): LocationCheck {
  const normalized = normalizeLocation(location);
  if (!normalized.ok) return { ok: false, problem: `${location} ${normalized.problem}` };
  if (allowedPrefixes.length === 0) return { ok: false, problem: `${normalized.location}: no savepoint location is allowed (savepoints.allowedPrefixes is empty and the cluster configures no savepoint or checkpoint directory)` };
  if (!isInsideAllowedPrefixes(normalized.location, allowedPrefixes)) {
    return { ok: false, problem: `${normalized.location} is outside the allowed prefixes (${allowedPrefixes.map(canonicalLocation).join(', ')})` };
  }
  return { ok: true, location: normalized.location };
}

/** The local file system path of a file: location, or undefined for other file systems and refused locations. */
export function localPath(location: string): string | undefined {
  const parsed = parseLocation(location);
  if ('problem' in parsed || parsed.scheme !== 'file') return undefined;
  return `/${parsed.segments.join('/')}`;
}

/**
 * Where flinkops may write, restore from and dispose of savepoints on one cluster: the configured prefixes, or, when
 * none are configured, the cluster's own savepoint and checkpoint directories.
 */
export function effectiveSavepointPrefixes(configured: readonly string[], cluster: { savepointDir?: string; checkpointDir?: string }): string[] {
  if (configured.length > 0) return [...configured];
  return [cluster.savepointDir, cluster.checkpointDir].filter((d): d is string => d !== undefined && normalizeLocation(d).ok).map(canonicalLocation);
}
