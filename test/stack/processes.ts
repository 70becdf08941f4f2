import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from './config';
import { terminateGroup } from './daemon';
import { WaitAborted, waitFor } from './wait';

const repoRoot = findRepoRoot();

export interface WorkerHandle {
  process: ChildProcess;
  output: () => string;
  /** SIGKILL, as a crashed pod would be. */
  kill: () => Promise<void>;
  /** SIGTERM and wait for a graceful exit. */
  stop: () => Promise<void>;
}

/** Starts the built worker (dist/worker/main.js) as its own process and waits until it polls. */
export async function startWorker(env: NodeJS.ProcessEnv, logDir?: string): Promise<WorkerHandle> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'worker', 'main.js')], {
    // Several test workers run at once: none takes the fixed default metrics and health ports unless asked to.
    env: { ...process.env, FLINKOPS_METRICS_BIND_ADDRESS: 'off', FLINKOPS_HEALTH_BIND_ADDRESS: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const log = logDir ? (mkdirSync(logDir, { recursive: true }), createWriteStream(join(logDir, `worker-${child.pid}.log`))) : undefined;
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    log?.write(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new WaitAborted(`worker exited with ${child.exitCode}`);
      return /polling task queue/.test(output);
    },
    { timeoutMs: 60_000, description: 'the worker to start polling' },
  ).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n${output}`);
  });
  return {
    process: child,
    output: () => output,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null) await terminateGroup(child.pid!, 40_000);
      await exited;
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/client/cli.js) and collects its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 240_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'client', 'cli.js'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`flinkops ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
