import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { renderFlinkConfig, LOG4J_CONSOLE_PROPERTIES } from './config-file';
import { cachedResourceParams, FLINK_JVM_MODULE_OPTIONS, type FlinkDistribution } from './distribution';
import { lowCpuJvmOptions } from './jvm-options';

/** What a Flink process is: the entry point it runs, and for application mode the job it starts. */
export type FlinkRole =
  | { kind: 'session-jobmanager' }
  | {
      kind: 'application-jobmanager';
      jobClassName: string;
      jobArgs: string[];
      jobId?: string;
      fromSavepoint?: string;
      allowNonRestoredState?: boolean;
    }
  | { kind: 'taskmanager' };

export interface FlinkProcessSpec {
  dist: FlinkDistribution;
  role: FlinkRole;
  /** The IP the process binds to and advertises: its "pod IP". Every process gets its own loopback address. */
  address: string;
  /** Private directory for conf/, tmp/, blobs and the hosts file. */
  workDir: string;
  /** Flink options; address-related options are filled in unless given here. */
  config: Record<string, string>;
  /** Extra jars on the classpath (the job jar of an application-mode JobManager and its TaskManagers). */
  userJars?: string[];
  /** Host names the JVM must resolve besides localhost and this machine's name (service DNS names). */
  hosts?: Record<string, string>;
  /** Where the web UI says the log is; the caller sends stdout there. */
  logFile?: string;
  /**
   * Bind and advertise the process's own address even where `config` says otherwise (a pod's 0.0.0.0 means its
   * own network namespace; here it must mean the pod's address).
   */
  forceBindToAddress?: boolean;
}

export interface FlinkCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  hostsFile: string;
}

const ENTRY_POINTS = {
  'session-jobmanager': 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint',
  'application-jobmanager': 'org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint',
  taskmanager: 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner',
} as const;

/** Writes the process's configuration directory and returns the java command line that starts it. */
export async function prepareFlinkProcess(spec: FlinkProcessSpec): Promise<FlinkCommand> {
  const confDir = join(spec.workDir, 'conf');
  const tmpDir = join(spec.workDir, 'tmp');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(tmpDir, { recursive: true });

  const isJobManager = spec.role.kind !== 'taskmanager';
  const config = {
    ...addressOptions(spec.address, isJobManager),
    ...localDirectoryOptions(spec.workDir),
    ...spec.config,
    ...(spec.forceBindToAddress ? bindOptions(spec.address, isJobManager) : {}),
  };
  writeFileSync(join(confDir, 'config.yaml'), renderFlinkConfig(config));
  writeFileSync(join(confDir, 'log4j-console.properties'), LOG4J_CONSOLE_PROPERTIES);

  // Each pod of a real cluster has its own localhost; here name lookups inside the JVM are pinned to the
  // process's own address through a private hosts file, which is all Flink needs (it reaches its own
  // BlobServer through "localhost" when a job is submitted over REST).
  const hostsFile = join(spec.workDir, 'hosts');
  writeHostsFile(hostsFile, spec.address, spec.hosts ?? {});

  const resources = await cachedResourceParams(spec.dist, confDir, isJobManager ? 'jobmanager' : 'taskmanager', config);
  const classpath = [join(spec.dist.libDir, '*'), ...(spec.userJars ?? [])].join(':');
  const args = [
    ...FLINK_JVM_MODULE_OPTIONS,
    ...lowCpuJvmOptions(spec.dist),
    ...resources.jvmArgs,
    `-Djdk.net.hosts.file=${hostsFile}`,
    `-Dlog4j.configurationFile=file:${join(confDir, 'log4j-console.properties')}`,
    ...(spec.logFile ? [`-Dlog.file=${spec.logFile}`] : []),
    '-cp',
    classpath,
    ENTRY_POINTS[spec.role.kind],
    '--configDir',
    confDir,
    ...resources.dynamicArgs,
    ...applicationArgs(spec.role),
  ];
  const env = { ...process.env, FLINK_HOME: spec.dist.home, FLINK_CONF_DIR: confDir };
  return { command: 'java', args, env, hostsFile };
}

/** The JVM resolves names only through this file (jdk.net.hosts.file): its own names first, then `hosts`. */
export function writeHostsFile(path: string, address: string, hosts: Record<string, string>): void {
  const entries: Record<string, string> = { ...hosts, localhost: address, [hostname()]: address };
  const text = Object.entries(entries).map(([name, ip]) => `${ip} ${name}`).join('\n') + '\n';
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

function addressOptions(address: string, isJobManager: boolean): Record<string, string> {
  if (isJobManager) {
    return {
      'jobmanager.rpc.address': address,
      'jobmanager.bind-host': address,
      'rest.address': address,
      'rest.bind-address': address,
    };
  }
  return { 'taskmanager.host': address, 'taskmanager.bind-host': address };
}

function bindOptions(address: string, isJobManager: boolean): Record<string, string> {
  return isJobManager
    ? { 'jobmanager.bind-host': address, 'rest.bind-address': address }
    : { 'taskmanager.bind-host': address, 'taskmanager.host': address };
}

function localDirectoryOptions(workDir: string): Record<string, string> {
  return {
    'io.tmp.dirs': join(workDir, 'tmp'),
    'web.tmpdir': join(workDir, 'web'),
    'blob.storage.directory': join(workDir, 'blob'),
  };
}

function applicationArgs(role: FlinkRole): string[] {
  if (role.kind !== 'application-jobmanager') return [];
  return [
    '--job-classname',
    role.jobClassName,
    ...(role.jobId ? ['--job-id', role.jobId] : []),
    ...(role.fromSavepoint ? ['--fromSavepoint', role.fromSavepoint] : []),
    ...(role.allowNonRestoredState ? ['--allowNonRestoredState'] : []),
    ...role.jobArgs,
  ];
}
