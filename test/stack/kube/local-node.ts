import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { LocalNodeConfig } from '../../kube/local-node/main';
import { logFile, runningPid, startDaemon, type DaemonDirs } from '../daemon';
import { WaitAborted, waitFor } from '../wait';

export const LOCAL_NODE_DAEMON = 'local-node';

/** Starts the local node agent (test/kube/local-node) and waits until its Node is Ready. */
export async function startLocalNode(
  dirs: DaemonDirs,
  options: { repoRoot: string; configFile: string; config: LocalNodeConfig; adminKubeconfig: string },
): Promise<void> {
  const main = join(options.repoRoot, 'dist', 'test', 'kube', 'local-node', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing; run npm run build first`);
  mkdirSync(dirname(options.configFile), { recursive: true });
  writeFileSync(options.configFile, JSON.stringify(options.config, null, 2));
  startDaemon(dirs, { name: LOCAL_NODE_DAEMON, command: process.execPath, args: [main, options.configFile] });
  const alive = () => {
    if (runningPid(dirs, LOCAL_NODE_DAEMON) === undefined) throw new WaitAborted(`the local node exited; see ${logFile(dirs, LOCAL_NODE_DAEMON)}`);
  };

  const kc = new KubeConfig();
  kc.loadFromFile(options.adminKubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    async () => {
      alive();
      const node = await core.readNode({ name: options.config.nodeName });
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    },
    { timeoutMs: 60_000, intervalMs: 500, description: `node ${options.config.nodeName} to be Ready` },
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  alive();
}

/** The pid of the newest JobManager process the local node started for a pod (from its log), to kill it as a crash would. */
export function jobManagerPid(dirs: DaemonDirs, namespace: string, podName: string): number {
  const log = readFileSync(logFile(dirs, LOCAL_NODE_DAEMON), 'utf8');
  const starts = [...log.matchAll(new RegExp(`${namespace}/${podName}: started session-jobmanager \\(pid (\\d+)\\)`, 'g'))];
  if (starts.length === 0) throw new Error(`no JobManager process of ${podName} in the local node's log`);
  return Number(starts.at(-1)![1]);
}
