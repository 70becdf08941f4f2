import { rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import type { PodNetwork } from './pod-network';

/**
 * The API server's way to pods (pods/proxy, the egress selector's "cluster" traffic): an HTTP CONNECT proxy that
 * opens the tunnel to a pod address's loopback twin, where the pod's process listens. On a Unix socket only the
 * stack's own processes can reach.
 */
export function startPodEgress(socket: string, network: PodNetwork, log: (message: string) => void): Server {
  const server = createServer((client) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) client.destroy();
        return;
      }
      client.off('data', onData);
      const match = /^CONNECT ([^\s:]+):(\d+) HTTP\/1\.[01]\r\n/.exec(head);
      if (!match) {
        client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return;
      }
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      const upstream = connect({ host: network.toLoopback(match[1]!), port: Number(match[2]) }, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream).pipe(client);
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', (error) => {
        if (!client.writableEnded) client.end(`HTTP/1.1 502 Bad Gateway\r\n\r\n${error.message}`);
        close();
      });
      client.on('error', close);
      client.on('close', close);
    };
    client.on('data', onData);
  });
  server.on('error', (error) => log(`pod egress proxy cannot listen on ${socket}: ${error.message}`));
  rmSync(socket, { force: true });
  server.listen(socket);
  return server;
}
