/**
 * The optional Prometheus endpoint (setting `metrics`, "" = off): an HTTP server bound to the
 * configured address only, serving GET /metrics in the text exposition format. The daemon
 * starts it after the node and closes it before the node (docs/METRICS.md).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzip } from 'node:zlib';
import { splitHostPort } from '../config/rules';
import { BadInputError } from '../errors';
import type { Logger } from '../runtime/log';
import { NodeMetrics, type MetricsSource } from './collector';
import { onHandshake } from './hooks';

export interface MetricsOptions {
  /** The setting `metrics`: "IP:port" or "[IPv6]:port" (port 0: any free port). */
  address: string;
  /** The node (status() and peers() are read at each scrape). */
  node: MetricsSource;
  /** The setting `metricsMaxPeers`: peers with their own series. */
  maxPeers: number;
  log: Logger;
}

export interface MetricsEndpoint {
  /** Where Prometheus scrapes, e.g. http://127.0.0.1:9464/metrics. */
  readonly url: string;
  /** Records one handshake duration on this endpoint (the module-level observeHandshake reaches every endpoint). */
  observeHandshake(ms: number): void;
  /** Stops serving (open connections are closed); idempotent. */
  close(): Promise<void>;
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the port is in use',
  EADDRNOTAVAIL: 'the address is not an address of this machine',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EAFNOSUPPORT: 'this address family is not supported here',
};

function badAddress(address: string, why: string): BadInputError {
  return new BadInputError('ERR_BAD_CONFIG', `cannot serve metrics on ${JSON.stringify(address)}: ${why} (setting "metrics")`);
}

function listen(server: http.Server, host: string, port: number, address: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const why = e.code !== undefined ? LISTEN_ERRORS[e.code] : undefined;
      reject(badAddress(address, why ?? `${e.code ?? 'error'}: ${e.message}`));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true, ...(host.includes(':') && { ipv6Only: true }) });
  });
}

function reply(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/** Starts the endpoint; rejects with a BadInputError naming the setting when it cannot listen. */
export async function startMetrics(opts: MetricsOptions): Promise<MetricsEndpoint> {
  const where = splitHostPort(opts.address);
  if (!where) throw badAddress(opts.address, 'expected an address and port such as "127.0.0.1:9464" or "[::1]:9464"');
  const metrics = new NodeMetrics(opts.node, opts.maxPeers);
  const log = opts.log;

  const fail = (res: http.ServerResponse, e: unknown): void => {
    const err = e instanceof Error ? e : new Error(String(e));
    log.error({ err: err.message, stack: err.stack }, 'metrics collection failed');
    reply(res, 500, 'metrics collection failed\n');
  };
  const send = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, encoding?: 'gzip'): void => {
    res.writeHead(200, {
      'Content-Type': metrics.contentType,
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      Vary: 'Accept-Encoding',
      ...(encoding && { 'Content-Encoding': encoding }),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  // Prometheus asks for gzip; compressing on the thread pool keeps the event loop free.
  const serveMetrics = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const wantsGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    metrics.scrape().then((text) => {
      if (!wantsGzip) return send(req, res, Buffer.from(text, 'utf8'));
      gzip(text, (e, zipped) => (e ? fail(res, e) : send(req, res, zipped, 'gzip')));
    }, (e: unknown) => fail(res, e));
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/') return reply(res, 404, 'not found: metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    if (path === '/') return reply(res, 200, 'udpvault metrics: /metrics\n');
    serveMetrics(req, res);
  });
  server.maxConnections = 64;
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  const bound = await listen(server, where.host, where.port, opts.address);
  const host = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  const url = `http://${host}:${bound.port}/metrics`;
  const offHandshake = onHandshake((ms) => metrics.observeHandshake(ms));
  log.info({ url, maxPeers: opts.maxPeers }, 'metrics endpoint listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    observeHandshake: (ms) => metrics.observeHandshake(ms),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        offHandshake();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
