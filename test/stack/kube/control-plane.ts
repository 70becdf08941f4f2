import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { startDaemon, type DaemonDirs } from '../daemon';
import { waitFor } from '../wait';
import { writeKubeconfig } from './kubeconfig';
import { ensureClusterPki, type ClusterPki } from './pki';

/**
 * The real Kubernetes control plane: etcd, kube-apiserver (client certificates and service account tokens,
 * RBAC, audit log) and kube-controller-manager, built by scripts/setup.sh from the Go module proxy.
 * There is no kubelet or kube-proxy; test/kube/local-node plays both.
 */
export interface ControlPlaneSpec {
  cacheDir: string;
  /** Data, certificates and kubeconfigs of this control plane. */
  dir: string;
  etcdClientPort: number;
  etcdPeerPort: number;
  apiServerPort: number;
  /** Service ClusterIPs; a loopback range, so the local node's service proxy can listen on them. */
  serviceCidr: string;
  /**
   * The API server reaches pods (pods/proxy) through the local node's HTTP CONNECT proxy on this Unix socket, as it
   * would through Konnectivity: pod addresses are only reachable through their loopback twins.
   */
  podEgressSocket: string;
}

export interface ControlPlane {
  server: string;
  pki: ClusterPki;
  /** Kubeconfigs by identity: admin (tests, demo), controller-manager, local-node. */
  kubeconfigs: { admin: string; controllerManager: string; localNode: string };
  auditLog: string;
}

export const CONTROL_PLANE_DAEMONS = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;

export function kubeBinary(cacheDir: string, name: 'etcd' | 'kube-apiserver' | 'kube-controller-manager'): string {
  const path = join(cacheDir, 'kube', 'current', name);
  if (!existsSync(path)) throw new Error(`${name} not found at ${path}; run scripts/setup.sh first`);
  return path;
}

/** The first address of the service range: the ClusterIP of the `kubernetes` Service. */
export function firstServiceIp(serviceCidr: string): string {
  const [base] = serviceCidr.split('/');
  const octets = base!.split('.').map(Number);
  octets[3] = octets[3]! + 1;
  return octets.join('.');
}

export function describeControlPlane(spec: ControlPlaneSpec, logDir: string): ControlPlane {
  const server = `https://127.0.0.1:${spec.apiServerPort}`;
  const pki = ensureClusterPki(join(spec.dir, 'pki'), ['127.0.0.1', firstServiceIp(spec.serviceCidr)]);
  const kubeconfig = (identity: keyof ClusterPki['clients']) =>
    writeKubeconfig(join(spec.dir, `${identity}.kubeconfig`), server, pki.caCert, {
      clientCertificate: pki.clients[identity].cert,
      clientKey: pki.clients[identity].key,
    }, identity);
  return {
    server,
    pki,
    kubeconfigs: { admin: kubeconfig('admin'), controllerManager: kubeconfig('controller-manager'), localNode: kubeconfig('local-node') },
    auditLog: join(logDir, 'kube-audit.log'),
  };
}

// Writes are what the audit log is for (who changed what, and what RBAC refused); reads would only add noise.
const AUDIT_POLICY = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [
    { level: 'None', verbs: ['get', 'list', 'watch'], users: ['system:kube-controller-manager', 'flinkops-local-node'] },
    // Node heartbeats and the controllers' leader election; flinkops' own locks (Leases in the clusters' namespaces)
    // stay in the log, so a test can prove that a read-only run took none.
    { level: 'None', resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }], namespaces: ['kube-node-lease', 'kube-system'] },
    { level: 'Metadata' },
  ],
};

export async function startControlPlane(dirs: DaemonDirs, spec: ControlPlaneSpec): Promise<ControlPlane> {
  mkdirSync(spec.dir, { recursive: true });
  const plane = describeControlPlane(spec, dirs.logDir);
  const auditPolicy = join(spec.dir, 'audit-policy.json');
  writeFileSync(auditPolicy, JSON.stringify(AUDIT_POLICY, null, 2));
  const egressSelector = join(spec.dir, 'egress-selector.json');
  writeFileSync(
    egressSelector,
    JSON.stringify({
      apiVersion: 'apiserver.k8s.io/v1beta1',
      kind: 'EgressSelectorConfiguration',
      egressSelections: [{ name: 'cluster', connection: { proxyProtocol: 'HTTPConnect', transport: { uds: { udsName: spec.podEgressSocket } } } }],
    }),
  );
  const etcdUrl = `http://127.0.0.1:${spec.etcdClientPort}`;
  const peerUrl = `http://127.0.0.1:${spec.etcdPeerPort}`;

  startDaemon(dirs, {
    name: 'etcd',
    command: kubeBinary(spec.cacheDir, 'etcd'),
    args: [
      '--name=flinkops-local',
      `--data-dir=${join(spec.dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=flinkops-local=${peerUrl}`,
      '--listen-metrics-urls=',
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
  });

  startDaemon(dirs, {
    name: 'kube-apiserver',
    command: kubeBinary(spec.cacheDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${spec.apiServerPort}`,
      `--tls-cert-file=${plane.pki.apiServerCert}`,
      `--tls-private-key-file=${plane.pki.apiServerKey}`,
      `--client-ca-file=${plane.pki.caCert}`,
      `--service-account-key-file=${plane.pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${plane.pki.serviceAccountKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-cluster-ip-range=${spec.serviceCidr}`,
      '--authorization-mode=RBAC',
      // Endpoints may not point at loopback addresses, and the API server only listens on loopback here.
      '--endpoint-reconciler-type=none',
      `--audit-policy-file=${auditPolicy}`,
      `--audit-log-path=${plane.auditLog}`,
      '--audit-log-format=json',
      '--audit-log-maxsize=200',
      `--egress-selector-config-file=${egressSelector}`,
      '--v=0',
    ],
  });
  await waitFor(() => apiServerGet(plane, '/readyz').then((r) => r.status === 200), {
    timeoutMs: 90_000,
    intervalMs: 500,
    description: `kube-apiserver at ${plane.server}`,
  });

  startDaemon(dirs, {
    name: 'kube-controller-manager',
    command: kubeBinary(spec.cacheDir, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${plane.kubeconfigs.controllerManager}`,
      `--authentication-kubeconfig=${plane.kubeconfigs.controllerManager}`,
      `--authorization-kubeconfig=${plane.kubeconfigs.controllerManager}`,
      '--secure-port=0',
      `--service-account-private-key-file=${plane.pki.serviceAccountKey}`,
      `--root-ca-file=${plane.pki.caCert}`,
      '--use-service-account-credentials=true',
      '--leader-elect=false',
      `--cluster-signing-cert-file=${plane.pki.caCert}`,
      `--cluster-signing-key-file=${plane.pki.caKey}`,
      '--v=0',
    ],
  });
  // The service account controller creating "default" proves the controller manager is at work.
  await waitFor(() => apiServerGet(plane, '/api/v1/namespaces/default/serviceaccounts/default').then((r) => r.status === 200), {
    timeoutMs: 60_000,
    intervalMs: 500,
    description: 'kube-controller-manager to create the default service account',
  });
  return plane;
}

/** A GET with the admin client certificate, for readiness checks before any client library is involved. */
export function apiServerGet(plane: ControlPlane, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${plane.server}${path}`,
      {
        ca: readFileSync(plane.pki.caCert),
        cert: readFileSync(plane.pki.clients.admin.cert),
        key: readFileSync(plane.pki.clients.admin.key),
        timeout: 2_000,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}
