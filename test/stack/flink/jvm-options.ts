import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FlinkDistribution } from './distribution';

/**
 * JVM options that make the local stack's Flink processes start and idle on less CPU. The tests start well over a hundred
 * Flink JVMs on two cores, and a JVM's start is mostly class loading and JIT compiling:
 * - `TieredStopAtLevel=1` keeps the JIT to its quick compiler (C1). The processes live minutes and run toy jobs, so
 *   C2's peak speed never pays back what it costs to compile;
 * - a class-data-sharing archive (class-archive.ts, written once per Flink version and JDK build) maps the classes a
 *   JobManager loads at start instead of parsing and verifying them again; a TaskManager shares most of them.
 * - Pekko's scheduler ticks every 50 ms instead of 10: Flink's two actor systems per JVM tick even when idle, and a
 *   dozen JVMs running side by side spent a tenth of a core on ticks alone. Flink's own timers (heartbeats, restart
 *   delays) become at most 50 ms late.
 * Measured on this machine: a JobManager ready on 2.4 CPU-seconds instead of 6.2, a TaskManager registered on 3.1
 * instead of 7.8; a JobManager and TaskManager running the fixture job use 0.06 cores instead of 0.09. Production
 * images are not affected: this is the test stack's process launcher.
 */
export function lowCpuJvmOptions(dist: FlinkDistribution): string[] {
  const archive = classArchivePath(dist);
  return [QUICK_JIT, PEKKO_TICK, ...(existsSync(archive) ? [`-XX:SharedArchiveFile=${archive}`] : [])];
}

/** A system property: Typesafe Config lets it override Pekko's reference setting, which Flink leaves alone. */
const PEKKO_TICK = '-Dpekko.scheduler.tick-duration=50ms';

/** C1 only; also for the short-lived helper JVMs (BashJavaUtils). */
export const QUICK_JIT = '-XX:TieredStopAtLevel=1';

/** Where the class archive of this distribution and the `java` on PATH lives; another JDK build gets another file. */
export function classArchivePath(dist: FlinkDistribution): string {
  return join(dist.home, `flinkops-classes-${javaBuild()}.jsa`);
}

let build: string | undefined;
function javaBuild(): string {
  build ??= createHash('sha256').update(spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr).digest('hex').slice(0, 12);
  return build;
}
