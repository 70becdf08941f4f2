import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openReadOnlySession } from '../../activities/remediation/zookeeper/client';
import { startDaemon, stopDaemon, type DaemonDirs } from './daemon';
import { waitFor } from './wait';

/** ZooKeeper from Maven Central (org.apache.zookeeper:zookeeper and its runtime dependencies), resolved by scripts/setup.sh. */
export const ZOOKEEPER_VERSION = '3.9.5';
export const ZOOKEEPER_DAEMON = 'zookeeper';

export interface ZooKeeperSpec {
  cacheDir: string;
  /** conf/, data/ */
  dir: string;
  logDir: string;
  address: string;
  port: number;
}

export interface ZooKeeperState {
  /** `high-availability.zookeeper.quorum` for Flink, and where flinkops reads. */
  quorum: string;
  /** Every write (create, setData, delete, ...) with its session and client address, one line each. */
  auditLog: string;
}

export function zooKeeperClasspath(cacheDir: string): string {
  const dir = join(cacheDir, 'zookeeper', ZOOKEEPER_VERSION);
  if (!existsSync(join(dir, `zookeeper-${ZOOKEEPER_VERSION}.jar`))) throw new Error(`ZooKeeper ${ZOOKEEPER_VERSION} not found under ${dir}; run scripts/setup.sh first`);
  return join(dir, '*');
}

/**
 * One standalone ZooKeeper server on loopback (ZooKeeperServerMain): the tick of a default install (2 s, so sessions
 * last 4 s to 40 s), no admin server, and ZooKeeper's audit log on, so a test can tell who wrote what.
 */
export function zooKeeperConfig(spec: ZooKeeperSpec): string {
  return [
    'tickTime=2000',
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${join(spec.dir, 'data')}`,
    `clientPort=${spec.port}`,
    `clientPortAddress=${spec.address}`,
    'maxClientCnxns=200',
    'admin.enableServer=false',
    'audit.enable=true',
    '4lw.commands.whitelist=srvr,ruok',
    '',
  ].join('\n');
}

function logbackConfig(auditLog: string): string {
  return `<configuration>
  <appender name="console" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{ISO8601} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <appender name="audit" class="ch.qos.logback.core.FileAppender">
    <file>${auditLog}</file>
    <encoder><pattern>%d{ISO8601} %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.zookeeper.audit.Slf4jAuditLogger" level="INFO" additivity="false">
    <appender-ref ref="audit"/>
  </logger>
  <root level="INFO"><appender-ref ref="console"/></root>
</configuration>
`;
}

export async function startZooKeeper(dirs: DaemonDirs, spec: ZooKeeperSpec): Promise<ZooKeeperState> {
  const confDir = join(spec.dir, 'conf');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(join(spec.dir, 'data'), { recursive: true });
  const auditLog = join(spec.logDir, 'zookeeper-audit.log');
  writeFileSync(join(confDir, 'zoo.cfg'), zooKeeperConfig(spec));
  writeFileSync(join(confDir, 'logback.xml'), logbackConfig(auditLog));
  startDaemon(dirs, {
    name: ZOOKEEPER_DAEMON,
    command: 'java',
    args: [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      `-Dlogback.configurationFile=${join(confDir, 'logback.xml')}`,
      '-Dzookeeper.audit.impl.class=org.apache.zookeeper.audit.Slf4jAuditLogger',
      '-cp',
      zooKeeperClasspath(spec.cacheDir),
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      join(confDir, 'zoo.cfg'),
    ],
  });
  const quorum = `${spec.address}:${spec.port}`;
  await waitUntilServing(spec, 60_000);
  return { quorum, auditLog };
}

/** Serving: it gives a session and answers a read. */
export async function waitUntilServing(spec: Pick<ZooKeeperSpec, 'address' | 'port'>, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const session = await openReadOnlySession([{ host: spec.address, port: spec.port }], { connectTimeoutMs: 2_000, requestTimeoutMs: 2_000, sessionTimeoutMs: 4_000 });
      try {
        return (await session.getChildren('/')) !== undefined;
      } finally {
        await session.close();
      }
    },
    { timeoutMs, intervalMs: 250, description: `ZooKeeper at ${spec.address}:${spec.port}` },
  );
}

export async function stopZooKeeper(dirs: DaemonDirs): Promise<boolean> {
  return stopDaemon(dirs, ZOOKEEPER_DAEMON, 10_000);
}
