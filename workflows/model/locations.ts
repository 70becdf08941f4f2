/**
 * Savepoint and checkpoint locations. Flink reports local paths as "file:/x" while users write "file:///x" or
 * "/x"; comparisons go through one canonical form.
 */
export function canonicalLocation(location: string): string {
  const trimmed = location.trim().replace(/\/+$/, '');
  if (trimmed.startsWith('/')) return `file://${trimmed}`;
  const file = /^file:\/*(\/.*)$/.exec(trimmed);
  if (file) return `file://${file[1]!.replace(/^\/+/, '/')}`;
  return trimmed;
}

export function sameLocation(a: string, b: string): boolean {
  return canonicalLocation(a) === canonicalLocation(b);
}

/** Whether `location` is `prefix` itself or below it. An empty prefix list allows everything. */
export function isInsideAllowedPrefixes(location: string, prefixes: readonly string[]): boolean {
  if (prefixes.length === 0) return true;
  const path = canonicalLocation(location);
  return prefixes.some((prefix) => {
    const base = canonicalLocation(prefix);
    return path === base || path.startsWith(`${base}/`);
  });
}

/** The local file system path of a file: location, or undefined for other file systems. */
export function localPath(location: string): string | undefined {
  const canonical = canonicalLocation(location);
  return canonical.startsWith('file://') ? canonical.slice('file://'.length) : undefined;
}
