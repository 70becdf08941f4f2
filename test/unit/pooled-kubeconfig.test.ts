import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { kubeClients } from '../../activities/kube/clients';
import { ensureClusterPki, type ClusterPki } from '../stack/kube/pki';
import { writeKubeconfig } from '../stack/kube/kubeconfig';

/** A TLS API server stand-in that answers every call with an empty namespace list and counts TLS handshakes. */
describe('Kubernetes API connections', () => {
  let dir: string;
  let pki: ClusterPki;
  let server: Server;
  let handshakes = 0;
  let kubeconfig: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flinkops-pooled-'));
    pki = ensureClusterPki(dir, ['127.0.0.1']);
    server = createServer({ cert: readFileSync(pki.apiServerCert), key: readFileSync(pki.apiServerKey), ca: readFileSync(pki.caCert), requestCert: true }, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] }));
    });
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), `https://127.0.0.1:${port}`, pki.caCert, { clientCertificate: pki.clients.admin.cert, clientKey: pki.clients.admin.key });
  }, 60_000);

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    handshakes = 0;
  });

  it("the worker's clients reuse one TLS connection for calls one after another, across API groups", async () => {
    const kube = kubeClients(kubeconfig);
    for (let i = 0; i < 5; i++) await kube.core.listNamespace();
    await kube.apps.listNamespacedDeployment({ namespace: 'flink' });
    await kube.coordination.listNamespacedLease({ namespace: 'flink' });
    expect(handshakes).toBe(1);
  });

  it('client-node on its own opens a connection per call (what the pooling replaces)', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    for (let i = 0; i < 3; i++) await core.listNamespace();
    expect(handshakes).toBe(3);
  });
});
