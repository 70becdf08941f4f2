import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, loadYaml, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { StackConfig } from '../config';
import { logFile, runningPid, startDaemon, stopDaemon, type DaemonDirs } from '../daemon';
import { readStackState } from '../stack';
import { WaitAborted, waitFor } from '../wait';
import { QUICK_JIT } from '../flink/jvm-options';

/**
 * The real Flink Kubernetes Operator (1.7.0 from Maven Central, resolved by scripts/setup.sh) as a process of the
 * local stack, watching the given namespaces through the admin kubeconfig. Its JVM resolves Service names through a
 * hosts file kept current by a small daemon (the operator reaches a cluster at <name>-rest.<namespace>), and it is
 * told it runs "in Kubernetes" (KUBERNETES_SERVICE_HOST) so it uses those names at all.
 */
export const OPERATOR_DAEMON = 'flink-operator';
export const OPERATOR_HOSTS_DAEMON = 'flink-operator-hosts';

export function operatorHome(cacheDir: string): string {
  const home = join(cacheDir, 'flink-operator', 'current');
  if (!existsSync(join(home, '.complete'))) throw new Error(`the Flink Kubernetes Operator is not installed at ${home}: run scripts/setup.sh`);
  return home;
}

/** Installs the operator's CRDs (FlinkDeployment, FlinkSessionJob, and FlinkStateSnapshot from the 1.10.0 API) by server-side apply. */
export async function installOperatorCrds(config: StackConfig): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(readStackState(config).kube.kubeconfig);
  const api = kc.makeApiClient(KubernetesObjectApi);
  const crds = join(operatorHome(config.cacheDir), 'crds');
  for (const file of readdirSync(crds).filter((f) => f.endsWith('.yml'))) {
    const crd = loadYaml<KubernetesObject>(readFileSync(join(crds, file), 'utf8'));
    // The FlinkDeployment CRD is over 500 kB: too big for client-side apply's annotation, fine for server-side apply.
    await api.patch(crd, undefined, undefined, 'flinkops-stack', true, PatchStrategy.ServerSideApply);
  }
  const core = kc.makeApiClient(KubernetesObjectApi);
  await waitFor(
    async () => {
      const list = await core.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
      return ['flinkdeployments.flink.apache.org', 'flinksessionjobs.flink.apache.org', 'flinkstatesnapshots.flink.apache.org'].every((name) =>
        list.items.some((c) => c.metadata?.name === name && ((c as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True')),
      );
    },
    { timeoutMs: 30_000, description: 'the operator CRDs to be established' },
  );
}

export async function startFlinkOperator(config: StackConfig, namespaces: string[]): Promise<void> {
  const state = readStackState(config);
  const home = operatorHome(config.cacheDir);
  const dirs: DaemonDirs = { runDir: config.runDir, logDir: config.logDir };
  const dir = join(config.stackDir, 'flink-operator');
  mkdirSync(join(dir, 'conf'), { recursive: true });
  mkdirSync(join(dir, 'artifacts'), { recursive: true });
  const hosts = join(dir, 'hosts');
  await installOperatorCrds(config);

  writeFileSync(
    join(dir, 'conf', 'flink-conf.yaml'),
    [
      `kubernetes.operator.watched.namespaces: ${namespaces.join(',')}`,
      'kubernetes.operator.leader-election.enabled: false',
      'kubernetes.operator.health.probe.enabled: false',
      `kubernetes.operator.user.artifacts.base.dir: ${join(dir, 'artifacts')}`,
      // Short intervals: the stack's clusters are small and tests wait on the operator.
      'kubernetes.operator.reconcile.interval: 5 s',
      'kubernetes.operator.observer.progress-check.interval: 2 s',
      'kubernetes.operator.observer.rest-ready.delay: 2 s',
      // Room for Flink's whole remote stack trace in status.error (2048 by default cuts it before the root cause,
      // e.g. the state that does not map); the README recommends the same.
      'kubernetes.operator.exception.field.max.length: 32768',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'conf', 'log4j-operator.properties'),
    [
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.file.ref = FileAppender',
      'logger.fabric8.name = io.fabric8',
      'logger.fabric8.level = WARN',
      'appender.file.name = FileAppender',
      'appender.file.type = File',
      'appender.file.fileName = ${sys:log.file}',
      'appender.file.layout.type = PatternLayout',
      'appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n',
      '',
    ].join('\n'),
  );

  const kubeEnv = { ...process.env, KUBECONFIG: state.kube.kubeconfig };
  startDaemon(dirs, { name: OPERATOR_HOSTS_DAEMON, command: process.execPath, args: [join(config.repoRoot, 'dist', 'test', 'stack', 'operator', 'hosts-sync.js'), hosts], env: kubeEnv });
  await waitFor(() => existsSync(hosts), { timeoutMs: 30_000, description: 'the operator hosts file' });

  const server = new URL(state.kube.server);
  const operatorLog = join(config.logDir, 'flink-operator-app.log');
  startDaemon(dirs, {
    name: OPERATOR_DAEMON,
    command: 'java',
    args: [
      '-Xmx512m',
      QUICK_JIT,
      `-Djdk.net.hosts.file=${hosts}`,
      '-Dsun.net.inetaddr.ttl=1',
      '-Dsun.net.inetaddr.negative.ttl=0',
      `-Dlog.file=${operatorLog}`,
      `-Dlog4j.configurationFile=file:${join(dir, 'conf', 'log4j-operator.properties')}`,
      '-cp',
      `${join(home, 'lib')}/*`,
      'org.apache.flink.kubernetes.operator.FlinkOperator',
    ],
    env: {
      ...kubeEnv,
      FLINK_CONF_DIR: join(dir, 'conf'),
      KUBERNETES_SERVICE_HOST: server.hostname,
      KUBERNETES_SERVICE_PORT: server.port,
      OPERATOR_NAMESPACE: namespaces[0] ?? 'default',
    },
  });
  await waitFor(
    () => {
      if (runningPid(dirs, OPERATOR_DAEMON) === undefined) throw new WaitAborted(`the operator exited; see ${logFile(dirs, OPERATOR_DAEMON)} and ${operatorLog}`);
      const log = existsSync(operatorLog) ? readFileSync(operatorLog, 'utf8') : '';
      return log.includes("'flinksessionjobcontroller' controller started") && log.includes("'flinkdeploymentcontroller' controller started");
    },
    { timeoutMs: 90_000, intervalMs: 500, description: 'the Flink Kubernetes Operator to start its controllers' },
  );
}

export async function stopFlinkOperator(config: StackConfig): Promise<void> {
  const dirs: DaemonDirs = { runDir: config.runDir, logDir: config.logDir };
  await stopDaemon(dirs, OPERATOR_DAEMON, 20_000);
  await stopDaemon(dirs, OPERATOR_HOSTS_DAEMON, 5_000);
}
