import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from './config';

export const FIXTURE_VERSIONS = ['v1', 'v2', 'broken', 'incompatible', 'pojo'] as const;
export type FixtureVersion = (typeof FIXTURE_VERSIONS)[number];

export const FIXTURE_MAIN_CLASSES: Record<FixtureVersion, string> = {
  v1: 'dev.flinkops.fixture.CounterJobV1',
  v2: 'dev.flinkops.fixture.CounterJobV2',
  broken: 'dev.flinkops.fixture.CounterJobBroken',
  incompatible: 'dev.flinkops.fixture.CounterJobIncompatible',
  /** Keyed state in a POJO with a java.util.List field: a Flink 1.20 savepoint of it does not restore on Flink 2.x. */
  pojo: 'dev.flinkops.fixture.CounterJobPojo',
};

/** The fixture job jar of one version, built by scripts/setup.sh with Maven. */
export function fixtureJar(version: FixtureVersion): string {
  const path = join(findRepoRoot(), 'test', 'fixtures', 'flink-job', 'target', `fixture-job-1.0.0-${version}.jar`);
  if (!existsSync(path)) throw new Error(`fixture jar ${path} is missing; run scripts/setup.sh first`);
  return path;
}

/** One line of the fixture job's output: the counter of `key` reached `count` at `sequence`, on Flink `flink`. */
export interface CounterRecord {
  version: string;
  key: number;
  count: number;
  sequence: number;
  /** The Flink version the job ran on (absent in lines of older fixture jars). */
  flink?: string;
}

export function parseCounterOutput(text: string): CounterRecord[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [version, key, count, sequence, flink] = line.split('\t');
      return { version: version!, key: Number(key), count: Number(count), sequence: Number(sequence), ...(flink ? { flink } : {}) };
    });
}

/** The highest count each key reached among the records of the given version. */
export function lastCountByKey(records: CounterRecord[], version: string): Map<number, number> {
  const result = new Map<number, number>();
  for (const r of records) {
    if (r.version === version) result.set(r.key, Math.max(result.get(r.key) ?? 0, r.count));
  }
  return result;
}

/** Each key's count in its latest record of the given version (file order): where the job writing last stopped. */
export function latestCountByKey(records: CounterRecord[], version: string): Map<number, number> {
  const result = new Map<number, number>();
  for (const r of records) if (r.version === version) result.set(r.key, r.count);
  return result;
}

/** The lowest count each key had among the records of the given version (its first value after start). */
export function firstCountByKey(records: CounterRecord[], version: string): Map<number, number> {
  const result = new Map<number, number>();
  for (const r of records) {
    if (r.version === version) result.set(r.key, Math.min(result.get(r.key) ?? Number.MAX_SAFE_INTEGER, r.count));
  }
  return result;
}
