import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100 Hz)
}

/** CPU seconds used so far by every process on the machine, by pid, with the group it counts towards. */
export type CpuSnapshot = Map<number, { seconds: number; group: string }>;

/** The groups a benchmark's CPU is split into: who did the work on the machine's cores. */
export function cpuSnapshot(groupOf: (pid: number, commandLine: string) => string = defaultGroup): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      snapshot.set(pid, { seconds: cpuSeconds(pid), group: groupOf(pid, commandLine) });
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return snapshot;
}

/** CPU seconds per group between two snapshots; a process that started in between counts whole. */
export function cpuByGroup(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  const groups = new Map<string, number>();
  for (const [pid, { seconds, group }] of after) {
    const used = seconds - (before.get(pid)?.seconds ?? 0);
    if (used > 0) groups.set(group, (groups.get(group) ?? 0) + used);
  }
  return groups;
}

/** Flink's JVMs by role, the Kubernetes control plane, the stack's other servers, and everything else by program. */
export function defaultGroup(_pid: number, commandLine: string): string {
  if (/TaskManagerRunner/.test(commandLine)) return 'Flink TaskManagers';
  if (/ClusterEntrypoint|ClusterEntryPoint/.test(commandLine)) return 'Flink JobManagers';
  if (/BashJavaUtils/.test(commandLine)) return 'Flink memory settings (BashJavaUtils)';
  if (/FlinkOperator/.test(commandLine)) return 'Flink Kubernetes Operator';
  if (/ZooKeeperServerMain/.test(commandLine)) return 'ZooKeeper';
  if (/io\.temporal\.testserver/.test(commandLine)) return 'Temporal test server';
  if (/\bserver start-dev\b/.test(commandLine)) return 'Temporal server';
  if (/worker\/main\.js/.test(commandLine)) return 'flinkops worker';
  if (/jest/.test(commandLine)) return 'Jest (test files)';
  if (/\b(kube-apiserver|etcd|kube-controller-manager)\b/.test(commandLine)) return 'Kubernetes control plane';
  if (/local-node/.test(commandLine)) return 'local node (pods, services)';
  if (/client\/cli\.js/.test(commandLine)) return 'flinkops CLI';
  const program = commandLine.split(' ')[0] ?? '';
  return program.split('/').pop() || 'other';
}
