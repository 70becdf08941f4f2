import { z } from 'zod';
import { parseDuration } from './durations';

/** A duration as people write it ("30s", "5m", "1h30m") or a number of milliseconds; parsed to milliseconds. */
export const DurationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Validation errors as "field: problem" lines, for CLI output and workflow failures. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'request'}: ${issue.message}`).join('; ');
}
