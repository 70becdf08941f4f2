import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceOptionsKey, type FlinkDistribution } from '../stack/flink/distribution';
import { classArchivePath, lowCpuJvmOptions, QUICK_JIT } from '../stack/flink/jvm-options';

// How the local stack starts Flink JVMs on little CPU (test/stack/flink/jvm-options.ts, distribution.ts).

test('computed memory settings are shared between processes whose resource options agree, whatever their addresses', () => {
  const dist = { version: '1.20.5' };
  const jobManager = { 'jobmanager.memory.process.size': '1024m', 'jobmanager.rpc.address': '10.0.0.1', 'io.tmp.dirs': '/a/tmp' };
  expect(resourceOptionsKey(dist, 'jobmanager', jobManager)).toBe(resourceOptionsKey(dist, 'jobmanager', { ...jobManager, 'jobmanager.rpc.address': '10.0.0.2', 'io.tmp.dirs': '/b/tmp' }));
  // Anything the memory utilities read keeps them apart: sizes, slots (CPU cores), the role, the Flink version.
  expect(resourceOptionsKey(dist, 'jobmanager', jobManager)).not.toBe(resourceOptionsKey(dist, 'jobmanager', { ...jobManager, 'jobmanager.memory.process.size': '2048m' }));
  const taskManager = { 'taskmanager.memory.process.size': '1280m', 'taskmanager.numberOfTaskSlots': '2' };
  expect(resourceOptionsKey(dist, 'taskmanager', taskManager)).not.toBe(resourceOptionsKey(dist, 'taskmanager', { ...taskManager, 'taskmanager.numberOfTaskSlots': '4' }));
  expect(resourceOptionsKey(dist, 'taskmanager', taskManager)).not.toBe(resourceOptionsKey(dist, 'jobmanager', taskManager));
  expect(resourceOptionsKey(dist, 'taskmanager', taskManager)).not.toBe(resourceOptionsKey({ version: '2.2.1' }, 'taskmanager', taskManager));
  expect(resourceOptionsKey(dist, 'taskmanager', taskManager)).not.toBe(resourceOptionsKey(dist, 'taskmanager', { ...taskManager, 'external-resources': 'gpu' }));
});

test('Flink JVMs get the quick JIT always, and the class archive only once it exists', () => {
  const home = mkdtempSync(join(tmpdir(), 'flinkops-dist-'));
  try {
    const dist: FlinkDistribution = { version: '1.20.5', home, libDir: join(home, 'lib'), bashJavaUtilsJar: join(home, 'bin', 'bash-java-utils.jar') };
    const without = lowCpuJvmOptions(dist);
    expect(without).toContain(QUICK_JIT);
    expect(without.some((o) => o.startsWith('-XX:SharedArchiveFile'))).toBe(false);
    writeFileSync(classArchivePath(dist), '');
    expect(lowCpuJvmOptions(dist)).toContain(`-XX:SharedArchiveFile=${classArchivePath(dist)}`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
