import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import { quickActivities } from '../activity-profiles';
import type { JobRecord } from '../model/record';
import { ClusterRefSchema, JarVersionSchema, JOB_ID_PATTERN } from '../model/target';
import { describeIssues } from '../model/validation';

/** `flinkops register`: tell flinkops about a job it never operated, so remediation can bring it back. */
export const RegisterRequestSchema = z
  .object({
    cluster: ClusterRefSchema,
    restUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    /** The job's name on the cluster (or the key of flinkops' record of it). */
    job: z.string().min(1),
    jobId: z.string().regex(JOB_ID_PATTERN, 'must be a Flink job id (32 hex characters)').optional(),
    version: JarVersionSchema.optional(),
    /** Stop expecting the job to run: remediation no longer resubmits it. */
    forget: z.boolean().default(false),
  })
  .superRefine((request, ctx) => {
    if (!request.forget && !request.version) ctx.addIssue({ code: 'custom', path: ['version'], message: 'is required: the jar the job runs (--jar)' });
    if (request.forget && request.version) ctx.addIssue({ code: 'custom', path: ['version'], message: 'has no meaning with --forget' });
  });
export type RegisterRequestInput = z.input<typeof RegisterRequestSchema>;

export async function registerJobWorkflow(input: RegisterRequestInput): Promise<{ message: string; record: JobRecord }> {
  const parsed = RegisterRequestSchema.safeParse(input);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid registration: ${describeIssues(parsed.error)}`, 'InvalidRequest');
  return quickActivities.registerJob({ ...parsed.data, workflowId: workflowInfo().workflowId });
}
