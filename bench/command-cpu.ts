import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { cpuSnapshot } from './process-cpu';
import { printTable } from './sim/environment';

/**
 * Runs a command and counts the CPU seconds every process on the machine uses meanwhile, by group (Flink JobManagers
 * and TaskManagers, the worker, the CLI, Temporal, Kubernetes, the test files, ...): where a test run's time goes, and
 * how much of the cores it kept busy. Processes are looked at every 500 ms: one that lives less than that is counted
 * partly or not at all, so the figures are a floor.
 *
 *   node dist/bench/command-cpu.js -- bash scripts/test.sh
 */
async function main(command: string[]): Promise<number> {
  if (command.length === 0) throw new Error('usage: node dist/bench/command-cpu.js -- COMMAND [ARGS...]');
  const baseline = cpuSnapshot();
  /** Per pid: the group, the seconds at the first look (0 for a process started later), the seconds at the last. */
  const seen = new Map<number, { group: string; first: number; last: number }>();
  const ended = new Map<string, { seconds: number; processes: number }>();
  const look = () => {
    for (const [pid, { seconds, group }] of cpuSnapshot()) {
      const known = seen.get(pid);
      if (known && seconds >= known.last && known.group === group) {
        known.last = seconds;
        continue;
      }
      if (known) addTo(ended, known.group, known.last - known.first); // the pid was reused by another process
      seen.set(pid, { group, first: known ? 0 : (baseline.get(pid)?.seconds ?? 0), last: seconds });
    }
  };
  const started = Date.now();
  const timer = setInterval(look, 500);
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
  const code = await new Promise<number>((resolve) => child.on('exit', (status) => resolve(status ?? 1)));
  clearInterval(timer);
  look();
  const wallSeconds = (Date.now() - started) / 1000;

  const groups = new Map(ended);
  for (const { group, first, last } of seen.values()) addTo(groups, group, last - first);
  const rows = [...groups].filter(([, g]) => g.seconds >= 0.1).sort((a, b) => b[1].seconds - a[1].seconds);
  const total = rows.reduce((sum, [, g]) => sum + g.seconds, 0);
  console.log(`\ncommand-cpu: ${command.join(' ')} exited ${code} after ${wallSeconds.toFixed(0)} s; ${total.toFixed(0)} CPU-seconds, ${(total / wallSeconds).toFixed(2)} of ${cpus().length} cores busy on average`);
  printTable(
    ['group', 'CPU s', 'share', 'processes'],
    rows.map(([group, g]) => [group, g.seconds.toFixed(1), `${((100 * g.seconds) / total).toFixed(0)}%`, String(g.processes)]),
  );
  return code;
}

function addTo(groups: Map<string, { seconds: number; processes: number }>, group: string, seconds: number): void {
  if (seconds <= 0) return;
  const entry = groups.get(group) ?? { seconds: 0, processes: 0 };
  entry.seconds += seconds;
  entry.processes += 1;
  groups.set(group, entry);
}

main(process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'))).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
