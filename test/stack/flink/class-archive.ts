import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlinkRestClient } from '../../../activities/flink/rest-client';
import { freeLoopbackPort } from '../ports';
import { waitFor } from '../wait';
import { DEFAULT_FLINK_VERSION, FLINK2_VERSION, flinkDistribution, type FlinkDistribution } from './distribution';
import { classArchivePath } from './jvm-options';
import { prepareFlinkProcess } from './process';

/**
 * Class-data-sharing archives for the local stack's Flink JVMs (jvm-options.ts says why).
 *
 * Writes the distribution's class archive unless it exists: a session JobManager runs with `ArchiveClassesAtExit`
 * until its REST API answers, then stops; the JVM writes the classes it loaded when it exits.
 */
export async function createClassArchive(dist: FlinkDistribution): Promise<'created' | 'exists'> {
  const archive = classArchivePath(dist);
  if (existsSync(archive)) return 'exists';
  const workDir = mkdtempSync(join(tmpdir(), 'flinkops-cds-'));
  try {
    const [rpcPort, restPort, blobPort] = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
    const command = await prepareFlinkProcess({
      dist,
      role: { kind: 'session-jobmanager' },
      address: '127.0.0.1',
      workDir,
      config: { 'jobmanager.rpc.port': String(rpcPort), 'rest.port': String(restPort), 'blob.server.port': String(blobPort), 'jobmanager.memory.process.size': '1024m' },
    });
    const partial = `${archive}.partial`;
    // prepareFlinkProcess found no archive yet, so the command has the quick JIT and no SharedArchiveFile.
    const args = [`-XX:ArchiveClassesAtExit=${partial}`, ...command.args];
    const child = spawn(command.command, args, { env: command.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const rest = new FlinkRestClient({ baseUrl: `http://127.0.0.1:${restPort}`, timeoutMs: 2_000 });
      await waitFor(async () => Boolean(await rest.overview()), { timeoutMs: 120_000, description: `Flink ${dist.version} JobManager for the class archive` });
    } finally {
      child.kill('SIGTERM');
    }
    await exited;
    if (!existsSync(partial)) throw new Error(`the JobManager exited without writing ${partial}: ${stderr}`);
    renameSync(partial, archive);
    return 'created';
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** scripts/setup.sh: `node dist/test/stack/flink/class-archive.js <cacheDir>` writes the archive of each Flink version. */
async function main(cacheDir: string): Promise<void> {
  for (const version of [DEFAULT_FLINK_VERSION, FLINK2_VERSION]) {
    const dist = flinkDistribution(cacheDir, version);
    console.log(`class archive for Flink ${version}: ${await createClassArchive(dist)} (${classArchivePath(dist)})`);
  }
}

if (require.main === module) {
  main(process.argv[2] ?? '').catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
