import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Which flinkops this is: the package version (package.json next to dist/ in the image and in a checkout). */
export interface BuildInfo {
  version: string;
  node: string;
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  let version = 'unknown';
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'flinkops' && pkg.version) {
        version = pkg.version;
        break;
      }
    }
    if (dirname(dir) === dir) break;
  }
  cached = { version, node: process.versions.node };
  return cached;
}
