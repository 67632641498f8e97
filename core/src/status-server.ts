/**
 * A node's status endpoint: a small HTTP server, on loopback by default,
 * answering `GET /status` with the node's live view as JSON (members, links,
 * groups, dial attempts, child counts), `GET /children` with every child of
 * the cluster as this node sees it, `GET /metrics` with Prometheus metrics
 * (metrics.ts), and `GET /healthz` with `ok`. It lets people and
 * tests check membership without reading logs (`pogo status --url ...`).
 * Read-only; it never exposes the cluster secret.
 *
 * Bounded, whoever connects: at most `STATUS_MAX_CONNECTIONS` open at once
 * (one more closes the oldest: a scrape or a probe is done in milliseconds,
 * connections held open and silent are not), and a request's headers must
 * arrive within `STATUS_HEADERS_TIMEOUT_MS`. Without a bound, idle
 * connections used up the node's file descriptors (an outsider's tour:
 * 1,100 of them under `ulimit -n 1024` and the node could not accept a
 * peer, and exited); closing the newcomer instead would fail the very
 * `/healthz` probe a service manager restarts the node on.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { StatusServerConfig } from './config-sections.js';
import type { PogoNode } from './node.js';
import { formatAddress } from './util/address.js';

export type { StatusServerConfig } from './config-sections.js';

/** Every path the endpoint answers (the start-up log lists them). */
export const STATUS_ENDPOINTS = ['/status', '/children', '/metrics', '/healthz'] as const;

/** Connections the status server keeps open at once; one more closes the oldest. */
export const STATUS_MAX_CONNECTIONS = 64;
/** A request's headers must arrive within this, ms (the connection is closed otherwise). */
export const STATUS_HEADERS_TIMEOUT_MS = 5_000;

/** A running status server: its URL, and close(). */
export interface StatusServer {
  /** The server's base URL (`http://host:port`). */
  readonly url: string;
  /** Stops listening and closes the server. */
  close(): Promise<void>;
}

/** Start the HTTP status server of a node (/status, /children, /metrics, /healthz) on `config.host:config.port`. */
export async function startStatusServer(node: PogoNode, config: StatusServerConfig): Promise<StatusServer> {
  const { host, port } = config;
  const metrics = node.metrics;
  metrics.includeProcessMetrics();
  const server: Server = createServer({ headersTimeout: STATUS_HEADERS_TIMEOUT_MS, requestTimeout: 20_000, connectionsCheckingInterval: 1_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(node.running ? 200 : 503, { 'content-type': 'text/plain' }).end(node.running ? 'ok\n' : 'stopping\n');
      return;
    }
    if (path === '/metrics') {
      metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`),
      );
      return;
    }
    if (path === '/children') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(node.supervisor.whichChildren('global')));
      return;
    }
    if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(node.status()));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /status, /children, /metrics or /healthz\n');
  });
  const open = new Set<Socket>(); // in the order they came
  server.on('connection', (socket: Socket) => {
    if (open.size >= STATUS_MAX_CONNECTIONS) {
      const oldest = open.values().next().value as Socket;
      open.delete(oldest);
      oldest.destroy();
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${formatAddress(host, bound.port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
