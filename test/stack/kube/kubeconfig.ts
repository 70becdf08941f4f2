import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type KubeCredentials = { clientCertificate: string; clientKey: string } | { token: string };

/** Writes a single-context kubeconfig (JSON, which every YAML reader accepts). */
export function writeKubeconfig(path: string, server: string, caFile: string, credentials: KubeCredentials, user = 'user'): string {
  const userEntry =
    'token' in credentials
      ? { token: credentials.token }
      : { 'client-certificate': credentials.clientCertificate, 'client-key': credentials.clientKey };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'flinkops-local', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: userEntry }],
    contexts: [{ name: 'flinkops-local', context: { cluster: 'flinkops-local', user } }],
    'current-context': 'flinkops-local',
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return path;
}
