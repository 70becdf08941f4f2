import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import { FIXTURE_MAIN_CLASSES, fixtureJar, parseCounterOutput, type CounterRecord, type FixtureVersion } from './fixtures';
import { waitFor } from './wait';

export function randomJobId(): string {
  return randomBytes(16).toString('hex');
}

export interface SubmitFixtureOptions {
  output: string;
  jobId?: string;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  jobName?: string;
  rate?: number;
  checkpointIntervalMs?: number;
}

/** Uploads the fixture jar of `version` to a session cluster and runs it; returns the job id. */
export async function submitFixtureJob(client: FlinkRestClient, version: FixtureVersion, options: SubmitFixtureOptions): Promise<string> {
  const jarId = await client.uploadJar(fixtureJar(version));
  return client.runJar(jarId, {
    entryClass: FIXTURE_MAIN_CLASSES[version],
    jobId: options.jobId ?? randomJobId(),
    savepointPath: options.savepointPath,
    allowNonRestoredState: options.allowNonRestoredState,
    programArgs: fixtureArgs(options),
  });
}

export function fixtureArgs(options: Pick<SubmitFixtureOptions, 'output' | 'jobName' | 'rate' | 'checkpointIntervalMs'>): string[] {
  return [
    '--output',
    options.output,
    ...(options.jobName ? ['--job-name', options.jobName] : []),
    ...(options.rate !== undefined ? ['--rate', String(options.rate)] : []),
    ...(options.checkpointIntervalMs !== undefined ? ['--checkpoint-interval', String(options.checkpointIntervalMs)] : []),
  ];
}

export function readCounters(output: string): CounterRecord[] {
  return existsSync(output) ? parseCounterOutput(readFileSync(output, 'utf8')) : [];
}

/** Waits until the job has written at least `records` lines of the given version. */
export async function waitForRecords(output: string, version: string, records: number, timeoutMs = 180_000): Promise<CounterRecord[]> {
  return waitFor(
    () => {
      const all = readCounters(output);
      return all.filter((r) => r.version === version).length >= records ? all : undefined;
    },
    { timeoutMs, description: `${records} records of ${version} in ${output}` },
  );
}

/** Waits until the job has written at least `records` lines of the given version after the first `sinceLine` lines. */
export async function waitForRecordsAfter(output: string, sinceLine: number, version: string, records: number, timeoutMs = 90_000): Promise<CounterRecord[]> {
  return waitFor(
    () => {
      const all = readCounters(output);
      return all.slice(sinceLine).filter((r) => r.version === version).length >= records ? all : undefined;
    },
    { timeoutMs, description: `${records} records of ${version} after line ${sinceLine} of ${output}` },
  );
}

export async function waitForJobState(client: FlinkRestClient, jobId: string, state: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(async () => (await client.jobDetails(jobId)).state === state, {
    timeoutMs,
    description: `job ${jobId} to be ${state}`,
  });
}

/** Cancels every job still running on the cluster, so tests leave its slots free. */
export async function cancelAllJobs(client: FlinkRestClient): Promise<void> {
  const jobs = await client.listJobs();
  await Promise.all(jobs.filter((j) => j.state === 'RUNNING' || j.state === 'RESTARTING' || j.state === 'CREATED').map((j) => client.cancelJob(j.jid)));
}
