import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Certificates and keys of the local control plane, made once per stack with openssl: a cluster CA, the API
 * server's serving certificate, client certificates (admin, controller manager, local node) and the service
 * account signing key pair.
 */
export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  apiServerCert: string;
  apiServerKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  clients: Record<ClientIdentity, { cert: string; key: string }>;
}

export type ClientIdentity = 'admin' | 'controller-manager' | 'local-node';

const CLIENT_SUBJECTS: Record<ClientIdentity, string> = {
  admin: '/O=system:masters/CN=flinkops-admin',
  'controller-manager': '/CN=system:kube-controller-manager',
  // The local node schedules, runs and proxies pods (kube-scheduler, kubelet and kube-proxy in one): cluster admin.
  'local-node': '/O=system:masters/CN=flinkops-local-node',
};

export function clusterPki(dir: string): ClusterPki {
  const file = (name: string) => join(dir, name);
  return {
    dir,
    caCert: file('ca.crt'),
    caKey: file('ca.key'),
    apiServerCert: file('apiserver.crt'),
    apiServerKey: file('apiserver.key'),
    serviceAccountKey: file('service-account.key'),
    serviceAccountPub: file('service-account.pub'),
    clients: Object.fromEntries(
      (Object.keys(CLIENT_SUBJECTS) as ClientIdentity[]).map((id) => [id, { cert: file(`${id}.crt`), key: file(`${id}.key`) }]),
    ) as ClusterPki['clients'],
  };
}

/** Creates whatever is missing; existing material is kept, so restarts keep working kubeconfigs. */
export function ensureClusterPki(dir: string, apiServerIps: string[]): ClusterPki {
  const pki = clusterPki(dir);
  mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

  if (!existsSync(pki.caCert)) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.caKey, '-out', pki.caCert, '-days', '3650', '-subj', '/CN=flinkops-local-ca');
  }
  if (!existsSync(pki.serviceAccountKey)) {
    openssl('genrsa', '-out', pki.serviceAccountKey, '2048');
    openssl('rsa', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub);
  }
  const sign = (cert: string, key: string, subject: string, extensions: string) => {
    if (existsSync(cert)) return;
    const csr = `${cert}.csr`;
    const ext = `${cert}.ext`;
    writeFileSync(ext, extensions);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject);
    openssl('x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-out', cert, '-days', '3650', '-extfile', ext);
  };
  const dnsNames = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  const san = [...apiServerIps.map((ip) => `IP:${ip}`), ...dnsNames.map((n) => `DNS:${n}`)].join(',');
  sign(pki.apiServerCert, pki.apiServerKey, '/CN=kube-apiserver', `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  for (const [id, subject] of Object.entries(CLIENT_SUBJECTS) as [ClientIdentity, string][]) {
    sign(pki.clients[id].cert, pki.clients[id].key, subject, 'extendedKeyUsage=clientAuth\n');
  }
  return pki;
}
