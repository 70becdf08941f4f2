import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Command } from 'commander';
import { buildProgram } from '../../client/cli';
import { workflowUrl } from '../../client/links';
import { ago, normalizeTimestamps, table } from '../../client/output';
import { cronInWords, scheduleNote } from '../../client/commands/schedule';
import { cronLongestGapMs } from '../../workflows/savepoint/cron';
import { findRepoRoot } from '../stack/config';

// CLI conventions: version, -o json|yaml|wide (--json kept), one timestamp format, tables with headers and ages,
// examples and global options in every --help, shell completion, the Web UI link, and an install on PATH.
const repoRoot = findRepoRoot();
const cliJs = join(repoRoot, 'dist', 'client', 'cli.js');
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

function flinkops(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  // No Temporal here: commands that need one fail fast on this port; these tests stay away from them.
  const result = spawnSync(process.execPath, [cliJs, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: '127.0.0.1:1', ...env }, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function commands(command: Command, path: string[] = []): string[][] {
  return [path, ...command.commands.flatMap((c) => commands(c, [...path, c.name()]))];
}

beforeAll(() => {
  if (!existsSync(cliJs)) throw new Error(`${cliJs} is missing: npm run build`);
});

test('flinkops version and --version print the package version; -o json and -o yaml print it as data', () => {
  expect(flinkops(['version']).stdout).toBe(`flinkops ${version} (Node.js ${process.versions.node})\n`);
  expect(flinkops(['--version']).stdout.trim()).toBe(version);
  expect(JSON.parse(flinkops(['version', '-o', 'json']).stdout)).toEqual({ version, node: process.versions.node });
  expect(parse(flinkops(['version', '-o', 'yaml']).stdout)).toEqual({ version, node: process.versions.node });
  expect(JSON.parse(flinkops(['version', '--json']).stdout)).toMatchObject({ version });
});

test('-o takes json, yaml or wide; anything else is a usage error (exit 2) naming the option', () => {
  const bad = flinkops(['version', '-o', 'xml']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are json, yaml, wide/);
});

test.each(commands(buildProgram().program).map((path) => [path.join(' ') || '(flinkops)', path]))('%s --help has examples and shows the global options', (_name, path) => {
  const help = flinkops([...(path), '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/\nExamples:\n {2}\$ flinkops/);
  if ((path).length > 0) expect(help.stdout).toMatch(/Global Options:[\s\S]*--address <host:port>/);
});

test('every command that prints takes -o (and --json)', () => {
  const { program } = buildProgram();
  const leaves = commands(program).filter((path) => path.length > 0 && path.at(-1) !== 'completion').filter((path) => {
    let command: Command = program;
    for (const name of path) command = command.commands.find((c) => c.name() === name)!;
    return command.commands.length === 0;
  });
  expect(leaves.length).toBeGreaterThan(20);
  for (const path of leaves) {
    let command: Command = program;
    for (const name of path) command = command.commands.find((c) => c.name() === name)!;
    expect({ command: path.join(' '), options: command.options.map((o) => o.long).filter((l) => l === '--output' || l === '--json') }).toEqual({ command: path.join(' '), options: ['--output', '--json'] });
  }
});

describe('shell completion', () => {
  const script = join(mkdtempSync(join(tmpdir(), 'completion-')), 'flinkops.bash');

  beforeAll(() => {
    const bash = flinkops(['completion', 'bash']);
    expect(bash.code).toBe(0);
    writeFileSync(script, bash.stdout);
  });

  /** What bash offers after the words typed so far (the last one is the word being completed). */
  function complete(...words: string[]): string[] {
    const line = ['flinkops', ...words];
    const program = `source ${script}; COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _flinkops; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    return result.stdout.split('\n').filter(Boolean).sort();
  }

  test('bash completes commands, subcommands, options and option values', () => {
    expect(complete('sch')).toEqual(['schedule']);
    expect(complete('schedule', 'c')).toEqual(['create']);
    expect(complete('upgrade', '--mo')).toEqual(['--mode']);
    expect(complete('upgrade', '--mode', '')).toEqual(['last-state', 'savepoint', 'stateless']);
    expect(complete('status', 'flink/flink', '-o', '')).toEqual(['json', 'wide', 'yaml']);
    expect(complete('schedule', 'create', '--time-')).toEqual(['--time-zone']);
    expect(complete('')).toEqual(expect.arrayContaining(['upgrade', 'status', 'version', 'completion', '--address']));
  });

  test('zsh gets the same through bashcompinit; an unknown shell is refused', () => {
    const zsh = flinkops(['completion', 'zsh']);
    expect(zsh.stdout).toContain('bashcompinit');
    expect(zsh.stdout).toContain('complete -F _flinkops flinkops');
    expect(spawnSync('bash', ['-n', '-c', zsh.stdout.replace(/^autoload.*$/m, '')]).status).toBe(0);
    const fish = flinkops(['completion', 'fish']);
    expect(fish.code).toBe(2);
    expect(fish.stderr).toContain('shell: must be bash or zsh, got "fish"');
  });
});

test('machine output has one timestamp format: RFC 3339 UTC, from Dates, epoch milliseconds and offsets alike', () => {
  expect(
    normalizeTimestamps({
      startTime: new Date('2026-12-02T02:00:00+01:00'),
      history: [{ at: '2026-12-02T02:00:00.000+01:00', step: 'stop' }],
      detectedAt: 1_764_640_800_000,
      durationMs: 1_764_640_800_000,
      nextActionTimes: [new Date(0)],
      keep: 7,
    }),
  ).toEqual({
    startTime: '2026-12-02T01:00:00.000Z',
    history: [{ at: '2026-12-02T01:00:00.000Z', step: 'stop' }],
    detectedAt: '2025-12-02T02:00:00.000Z',
    durationMs: 1_764_640_800_000,
    nextActionTimes: ['1970-01-01T00:00:00.000Z'],
    keep: 7,
  });
});

test('human output: ages and tables with headers', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  expect(ago('2026-12-02T11:55:00Z', now)).toBe('5m ago');
  expect(ago(new Date('2026-12-02T14:00:00Z'), now)).toBe('in 2h');
  expect(ago(now - 3 * 86_400_000, now)).toBe('3d ago');
  expect(ago(undefined, now)).toBe('-');
  expect(table(['SCHEDULE', 'STATE'], [['flinkops-savepoint-flink-a', 'active'], ['b', 'paused']])).toEqual(['SCHEDULE                    STATE', 'flinkops-savepoint-flink-a  active', 'b                           paused']);
});

test('schedules carry the schedule in words as their note; the savepoint-age alert gets the longest gap', () => {
  expect(cronInWords('0 2 * * *')).toBe('daily 02:00');
  expect(cronInWords('30 1 * * 1-5')).toBe('Mon-Fri 01:30');
  expect(cronInWords('*/15 * * * *')).toBe('cron "*/15 * * * *"');
  expect(scheduleNote('0 2 * * *', { keep: '7', maxAge: '14d' }, 'Europe/Berlin')).toBe('daily 02:00 Europe/Berlin, keep 7, max age 14d');
  expect(scheduleNote(undefined, { every: '6h', paused: true }, 'UTC')).toBe('every 6h UTC (created paused)');
  expect(cronLongestGapMs('0 2 * * *')).toBe(86_400_000);
  expect(cronLongestGapMs('0 2 * * 1-5')).toBe(3 * 86_400_000);
  expect(cronLongestGapMs('*/15 * * * *')).toBe(900_000);
  expect(cronLongestGapMs('0 */6 * * *')).toBe(6 * 3_600_000);
});

test('the Temporal Web UI link of a workflow', () => {
  expect(workflowUrl({ address: '127.0.0.1:7233', namespace: 'default', webUi: 'http://127.0.0.1:8233/' }, 'flinkops-upgrade-flink-a b')).toBe('http://127.0.0.1:8233/namespaces/default/workflows/flinkops-upgrade-flink-a%20b');
  expect(workflowUrl({ address: 'payments.a1b2c.tmprl.cloud:7233', namespace: 'payments.a1b2c' }, 'w')).toBe('https://cloud.temporal.io/namespaces/payments.a1b2c/workflows/w');
  expect(workflowUrl({ address: 'temporal.internal:7233', namespace: 'default' }, 'w')).toBeUndefined();
});

test('README install: npm pack and a global install put a working flinkops on PATH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flinkops-pack-'));
  const npm = (args: string[], cwd: string) => spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  const packed = npm(['pack', '--pack-destination', dir, '--silent'], repoRoot);
  expect(packed.stderr).toBe('');
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  expect(tarball).toBe(`flinkops-${version}.tgz`);
  const prefix = join(dir, 'prefix');
  const installed = npm(['install', '--global', '--prefix', prefix, '--prefer-offline', '--ignore-scripts', join(dir, tarball)], dir);
  expect(installed.status).toBe(0);
  const onPath = spawnSync('flinkops', ['version', '-o', 'json'], { encoding: 'utf8', env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH!}` } });
  expect(onPath.stderr).toBe('');
  expect(JSON.parse(onPath.stdout)).toMatchObject({ version });
  const help = spawnSync('flinkops', ['status', '--help'], { encoding: 'utf8', env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH!}` } });
  expect(help.stdout).toContain('Examples:');
}, 300_000);
