/**
 * Arguments of the official Flink image's `standalone-job` entrypoint: its own options first
 * (--job-classname, --job-id, --fromSavepoint, --allowNonRestoredState, ...), then the job's arguments.
 */
export interface StandaloneJobArgs {
  options: { flag: string; value?: string }[];
  jobArgs: string[];
}

const VALUE_OPTIONS = new Set(['--job-classname', '-j', '--job-id', '-jid', '--fromSavepoint', '-s', '--restoreMode', '-r']);
const FLAG_OPTIONS = new Set(['--allowNonRestoredState', '-n']);

export function parseStandaloneJobArgs(args: readonly string[]): StandaloneJobArgs | undefined {
  if (args[0] !== 'standalone-job') return undefined;
  const options: StandaloneJobArgs['options'] = [];
  let i = 1;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (FLAG_OPTIONS.has(flag)) options.push({ flag });
    else if (VALUE_OPTIONS.has(flag)) options.push({ flag, value: inline ?? args[++i] ?? '' });
    else if (/^-D\S/.test(arg) || arg === '-D') {
      options.push(arg === '-D' ? { flag: '-D', value: args[++i] ?? '' } : { flag: arg });
    } else break;
  }
  return { options, jobArgs: args.slice(i) };
}

export interface StandaloneJobChanges {
  jobId: string;
  /** Savepoint to start from; undefined starts without state. */
  fromSavepoint?: string;
  allowNonRestoredState: boolean;
  /** New job arguments; undefined keeps the current ones. */
  jobArgs?: string[];
}

/** The full argument list with the restore settings and job id of the next deployment. */
export function withRestoreSettings(current: StandaloneJobArgs, changes: StandaloneJobChanges): string[] {
  const keep = current.options.filter(
    (o) => !['--job-id', '-jid', '--fromSavepoint', '-s', '--allowNonRestoredState', '-n'].includes(o.flag),
  );
  const args = ['standalone-job'];
  for (const option of keep) args.push(option.flag, ...(option.value !== undefined ? [option.value] : []));
  args.push('--job-id', changes.jobId);
  if (changes.fromSavepoint) args.push('--fromSavepoint', changes.fromSavepoint);
  if (changes.allowNonRestoredState) args.push('--allowNonRestoredState');
  args.push(...(changes.jobArgs ?? current.jobArgs));
  return args;
}
