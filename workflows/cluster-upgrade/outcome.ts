import type { FailurePolicy } from './request';

/** How one job came out of its resubmission on the new cluster. */
export type JobResult = { jobName: string; restored: true; jobId: string; summary: string } | { jobName: string; restored: false; jobId: string; failure: string };

export type AfterResubmit =
  | { kind: 'done'; message: string }
  | { kind: 'rollback'; reason: string }
  | { kind: 'keep-going'; failed: Extract<JobResult, { restored: false }>[]; reason: string };

/**
 * After every job was started on the new cluster: done when all verified; otherwise the policy decides between rolling
 * the whole cluster back and keeping the jobs that verified. Pure; the reason names each failed job and why.
 */
export function decideAfterResubmit(results: readonly JobResult[], policy: FailurePolicy, toImage: string): AfterResubmit {
  const failed = results.filter((r): r is Extract<JobResult, { restored: false }> => !r.restored);
  if (failed.length === 0) return { kind: 'done', message: `all ${results.length} job(s) run on ${toImage}, each restored from its savepoint and verified` };
  const reason = `${failed.length} of ${results.length} job(s) failed on ${toImage}: ${failed.map((f) => `${f.jobName}: ${f.failure}`).join('; ')}`;
  return policy === 'rollback' ? { kind: 'rollback', reason } : { kind: 'keep-going', failed, reason };
}

/** What a person does with a job that did not come back: where its state is, and how to start it from there. */
export function howToRestore(jobName: string, savepoint: string, version: { jar: string; entryClass?: string; args?: string[] }): string {
  const entry = version.entryClass ? ` -c ${version.entryClass}` : '';
  const args = version.args?.length ? ` ${version.args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}` : '';
  return `${jobName}: its state is in ${savepoint}; restore it with \`flink run -s ${savepoint}${entry} ${version.jar}${args}\` on a cluster that can read it (the old version can), or fix the job for the new version and start it from there`;
}
