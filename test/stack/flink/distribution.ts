import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { QUICK_JIT } from './jvm-options';

const execFileAsync = promisify(execFile);

/** A Flink distribution unpacked by scripts/setup.sh from the PyPI package apache-flink-libraries. */
export interface FlinkDistribution {
  version: string;
  home: string;
  libDir: string;
  bashJavaUtilsJar: string;
}

export const DEFAULT_FLINK_VERSION = '1.20.5';
export const FLINK2_VERSION = '2.2.1';

export function flinkDistribution(cacheDir: string, version: string = DEFAULT_FLINK_VERSION): FlinkDistribution {
  const home = join(cacheDir, 'flink', version);
  const dist: FlinkDistribution = {
    version,
    home,
    libDir: join(home, 'lib'),
    bashJavaUtilsJar: join(home, 'bin', 'bash-java-utils.jar'),
  };
  if (!existsSync(dist.libDir) || !existsSync(dist.bashJavaUtilsJar)) {
    throw new Error(`Flink ${version} is not installed under ${home}; run scripts/setup.sh first`);
  }
  return dist;
}

/**
 * JVM options the Flink distribution's default configuration passes to every process (env.java.opts.all):
 * Flink reflects into these JDK internals, and Java 17 refuses without them.
 */
export const FLINK_JVM_MODULE_OPTIONS: readonly string[] = [
  '--add-exports=java.base/sun.net.util=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED',
  '--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.net=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=java.base/java.text=ALL-UNNAMED',
  '--add-opens=java.base/java.time=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED',
];

export type FlinkProcessKind = 'jobmanager' | 'taskmanager';

export interface ResourceParams {
  jvmArgs: string[];
  /** `-D key=value` pairs the entry point needs, as separate argv entries. */
  dynamicArgs: string[];
}

const computedResourceParams = new Map<string, Promise<ResourceParams>>();

/**
 * `resourceParams`, computed once per distinct set of resource options in this process: BashJavaUtils is a JVM start
 * (about a CPU-second), and what it computes depends on the resource options alone, not on a process's addresses or
 * directories. The local node starts a hundred Flink processes from a few distinct memory settings.
 */
export function cachedResourceParams(dist: FlinkDistribution, configDir: string, kind: FlinkProcessKind, options: Record<string, string>): Promise<ResourceParams> {
  const key = resourceOptionsKey(dist, kind, options);
  let params = computedResourceParams.get(key);
  if (!params) {
    params = resourceParams(dist, configDir, kind);
    computedResourceParams.set(key, params);
    params.catch(() => computedResourceParams.delete(key));
  }
  return params;
}

/** The options Flink's process memory utilities read: memory sizes, legacy heap sizes, CPU cores and slots, external resources. */
const RESOURCE_OPTION = /^(jobmanager\.memory\.|taskmanager\.memory\.|jobmanager\.heap\.|taskmanager\.heap\.|taskmanager\.cpu\.|taskmanager\.numberOfTaskSlots$|external-resource)/;

export function resourceOptionsKey(dist: Pick<FlinkDistribution, 'version'>, kind: FlinkProcessKind, options: Record<string, string>): string {
  const resourceOptions = Object.entries(options)
    .filter(([key]) => RESOURCE_OPTION.test(key))
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([dist.version, kind, resourceOptions]);
}

/**
 * Computes heap sizes and the derived memory options the way Flink's own start scripts do, by running
 * BashJavaUtils against the process's configuration directory.
 */
export async function resourceParams(dist: FlinkDistribution, configDir: string, kind: FlinkProcessKind): Promise<ResourceParams> {
  const command = kind === 'jobmanager' ? 'GET_JM_RESOURCE_PARAMS' : 'GET_TM_RESOURCE_PARAMS';
  const { stdout } = await execFileAsync(
    'java',
    [QUICK_JIT, '-cp', `${dist.bashJavaUtilsJar}:${join(dist.libDir, '*')}`, 'org.apache.flink.runtime.util.bash.BashJavaUtils', command, '--configDir', configDir],
    { maxBuffer: 4 * 1024 * 1024 },
  );
  const results = stdout
    .split('\n')
    .filter((line) => line.startsWith('BASH_JAVA_UTILS_EXEC_RESULT:'))
    .map((line) => line.slice('BASH_JAVA_UTILS_EXEC_RESULT:'.length).trim());
  if (results.length < 2) {
    throw new Error(`BashJavaUtils ${command} gave no resource parameters for ${configDir}:\n${stdout.slice(-2000)}`);
  }
  const dynamicArgs: string[] = [];
  const tokens = results[1]!.split(/\s+/).filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === '-D' && i + 1 < tokens.length) {
      dynamicArgs.push('-D', tokens[++i]!);
    }
  }
  return { jvmArgs: results[0]!.split(/\s+/).filter(Boolean), dynamicArgs };
}
