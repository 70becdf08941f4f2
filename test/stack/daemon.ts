import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Background processes of the local stack. Each daemon runs in its own process group, writes its output to
 * `<logDir>/<name>.log`, and is found again through `<runDir>/<name>.pid`, so `stack down` works from any shell.
 */
export interface DaemonDirs {
  runDir: string;
  logDir: string;
}

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function pidFile(dirs: DaemonDirs, name: string): string {
  return join(dirs.runDir, `${name}.pid`);
}

export function logFile(dirs: DaemonDirs, name: string): string {
  return join(dirs.logDir, `${name}.log`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function runningPid(dirs: DaemonDirs, name: string): number | undefined {
  const file = pidFile(dirs, name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Starts the daemon unless it is already running; returns its pid. */
export function startDaemon(dirs: DaemonDirs, spec: DaemonSpec): number {
  const existing = runningPid(dirs, spec.name);
  if (existing !== undefined) return existing;
  mkdirSync(dirs.runDir, { recursive: true });
  mkdirSync(dirs.logDir, { recursive: true });
  const out = openSync(logFile(dirs, spec.name), 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    child.unref();
    writeFileSync(pidFile(dirs, spec.name), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** SIGTERM to the daemon's process group, SIGKILL after the grace period; removes the pid file. */
export async function stopDaemon(dirs: DaemonDirs, name: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(dirs, name);
  rmSync(pidFile(dirs, name), { force: true });
  if (pid === undefined) return false;
  await terminateGroup(pid, graceMs);
  return true;
}

/** Kills the daemon at once (SIGKILL), as a crash would. The pid file stays, so `stop` still tidies up. */
export function killDaemon(dirs: DaemonDirs, name: string): boolean {
  const pid = runningPid(dirs, name);
  if (pid === undefined) return false;
  signalGroup(pid, 'SIGKILL');
  return true;
}

export async function terminateGroup(pid: number, graceMs: number): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
