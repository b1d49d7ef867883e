/**
 * The metrics endpoint over real HTTP on 127.0.0.1 with a fake node: exact values of every
 * family, scrape-time collection (a second scrape sees the node's new numbers and no removed
 * peer), the HTTP surface, the bind rules and the errors naming the setting.
 */
import { gunzipSync } from 'node:zlib';
import { DROP_REASONS, BadInputError } from '../../src/errors';
import { observeHandshake, startMetrics, type MetricsEndpoint } from '../../src/metrics';
import { counters, FakeNode, keyString, memoryLogger, peer, shortFp } from './fake-node';
import { parseExposition, request } from './exposition';

const A = keyString('alice');
const B = keyString('bob');
const C = keyString('carol');
const BOB_NAME = 'bo"b\\x\ny';

function fakeNode(): FakeNode {
  const n = new FakeNode();
  n.global = counters({ packetsIn: 1000, packetsOut: 900, bytesIn: 123456, bytesOut: 98765, messagesIn: 40, messagesOut: 35, drops: { replay: 3, malformed: 2, rateLimited: 7 } });
  n.list = [
    peer({
      key: A, name: 'alice', endpoint: '127.0.0.1:11001', trust: 'pinned', state: 'established', rttMs: 12.5,
      lastHandshake: '2026-12-01T05:10:00.000Z',
      counters: counters({ packetsIn: 600, packetsOut: 500, bytesIn: 80000, bytesOut: 60000, messagesIn: 30, messagesOut: 20, drops: { replay: 3 } }),
      congestionWindowBytes: 14520, bytesInFlight: 2904, queuedMessages: 2, queuedBytes: 3000,
    }),
    peer({ key: B, name: BOB_NAME, endpoint: '127.0.0.1:11002', trust: 'tofu', state: 'handshaking', counters: counters({ packetsIn: 5, packetsOut: 6, bytesIn: 700, bytesOut: 800, drops: { authFailure: 1 } }) }),
    peer({ endpoint: '198.51.100.7:9000', state: 'unreachable', counters: counters({ packetsOut: 3, bytesOut: 300 }) }),
    peer({ key: C, name: 'carol', endpoint: '127.0.0.1:11003', trust: 'pinned', state: 'new' }),
  ];
  return n;
}

const open: MetricsEndpoint[] = [];
async function start(node: FakeNode, maxPeers = 3, address = '127.0.0.1:0', log = memoryLogger()): Promise<MetricsEndpoint> {
  const m = await startMetrics({ address, node, maxPeers, log });
  open.push(m);
  return m;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

describe('scrape over HTTP', () => {
  test('global counters, every drop reason, peer states and node gauges have the node\'s exact values', async () => {
    const node = fakeNode();
    const m = await start(node);
    const res = await request(m.url);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const e = parseExposition(res.body);

    expect(e.get('udpvault_packets_total', { direction: 'in' })).toBe(1000);
    expect(e.get('udpvault_packets_total', { direction: 'out' })).toBe(900);
    expect(e.get('udpvault_bytes_total', { direction: 'in' })).toBe(123456);
    expect(e.get('udpvault_bytes_total', { direction: 'out' })).toBe(98765);
    expect(e.get('udpvault_messages_total', { direction: 'in' })).toBe(40);
    expect(e.get('udpvault_messages_total', { direction: 'out' })).toBe(35);
    expect(e.types.get('udpvault_packets_total')).toBe('counter');

    const drops = Object.fromEntries(e.all('udpvault_drops_total').map((s) => [s.labels.reason, s.value]));
    const expected = Object.fromEntries(DROP_REASONS.map((r) => [r, 0]));
    Object.assign(expected, { replay: 3, malformed: 2, rateLimited: 7 });
    expect(drops).toEqual(expected);
    expect(Object.keys(drops)).toHaveLength(15); // congestion, inboxFull and flowControl included

    expect(e.all('udpvault_peers').map((s) => [s.labels.state, s.value])).toEqual([['new', 1], ['handshaking', 1], ['established', 1], ['unreachable', 1]]);
    expect(e.types.get('udpvault_peers')).toBe('gauge');
    expect(e.get('udpvault_peers_unlabelled')).toBe(1);
    expect(e.get('udpvault_sessions')).toBe(1); // derived: established peers
    expect(e.get('udpvault_queued_messages')).toBe(2); // the peers' sum
    expect(e.get('udpvault_queued_bytes')).toBe(3000);
    expect(e.get('udpvault_mtu_bytes')).toBe(1500);
    expect(e.get('udpvault_max_datagram_bytes')).toBe(1452);
    expect(e.get('udpvault_start_time_seconds')).toBe(1796101200);
    expect(e.all('udpvault_build_info')).toEqual([{ name: 'udpvault_build_info', labels: { version: (require('../../package.json') as { version: string }).version, nodejs: process.version }, value: 1 }]);
  });

  test('per-peer series: fingerprint and name labels, counters, drops seen, state, RTT, cwnd and queues; the quietest peer beyond maxPeers left out', async () => {
    const m = await start(fakeNode());
    const e = parseExposition((await request(m.url)).body);
    const alice = { peer: shortFp(A), name: 'alice' };
    expect(shortFp(A)).toMatch(/^[0-9a-f]{4}-[0-9a-f]{4}$/);
    expect(e.get('udpvault_peer_packets_total', { ...alice, direction: 'in' })).toBe(600);
    expect(e.get('udpvault_peer_packets_total', { ...alice, direction: 'out' })).toBe(500);
    expect(e.get('udpvault_peer_bytes_total', { ...alice, direction: 'in' })).toBe(80000);
    expect(e.get('udpvault_peer_bytes_total', { ...alice, direction: 'out' })).toBe(60000);
    expect(e.get('udpvault_peer_messages_total', { ...alice, direction: 'in' })).toBe(30);
    expect(e.get('udpvault_peer_messages_total', { ...alice, direction: 'out' })).toBe(20);
    expect(e.all('udpvault_peer_drops_total')).toEqual([
      { name: 'udpvault_peer_drops_total', labels: { ...alice, reason: 'replay' }, value: 3 },
      { name: 'udpvault_peer_drops_total', labels: { peer: shortFp(B), name: BOB_NAME, reason: 'authFailure' }, value: 1 },
    ]);
    expect(e.get('udpvault_peer_state', { ...alice, state: 'established' })).toBe(1);
    expect(e.get('udpvault_peer_rtt_seconds', alice)).toBe(0.0125);
    expect(e.get('udpvault_peer_last_handshake_timestamp_seconds', alice)).toBe(1796101800);
    expect(e.get('udpvault_peer_congestion_window_bytes', alice)).toBe(14520);
    expect(e.get('udpvault_peer_bytes_in_flight', alice)).toBe(2904);
    expect(e.get('udpvault_peer_queued_messages', alice)).toBe(2);
    expect(e.get('udpvault_peer_queued_bytes', alice)).toBe(3000);

    // A name with a quote, a backslash and a newline survives escaping.
    const bob = { peer: shortFp(B), name: BOB_NAME };
    expect(e.get('udpvault_peer_bytes_total', { ...bob, direction: 'out' })).toBe(800);
    expect(e.get('udpvault_peer_state', { ...bob, state: 'handshaking' })).toBe(1);
    // No measurement, no sample (not a 0 that would read as a 0 ms RTT or an empty window).
    expect(e.all('udpvault_peer_rtt_seconds').map((s) => s.labels.peer)).toEqual([shortFp(A)]);
    expect(e.all('udpvault_peer_congestion_window_bytes')).toHaveLength(1);
    expect(e.all('udpvault_peer_last_handshake_timestamp_seconds')).toHaveLength(1);

    // A peer without a key yet is labelled by its endpoint.
    const keyless = { peer: 'endpoint:198.51.100.7:9000', name: '' };
    expect(e.get('udpvault_peer_bytes_total', { ...keyless, direction: 'out' })).toBe(300);
    expect(e.get('udpvault_peer_state', { ...keyless, state: 'unreachable' })).toBe(1);

    // maxPeers 3: carol (no traffic) has no series.
    const labelled = new Set(e.samples.filter((s) => s.labels.peer !== undefined).map((s) => s.labels.peer));
    expect([...labelled].sort()).toEqual([shortFp(A), shortFp(B), 'endpoint:198.51.100.7:9000'].sort());
  });

  test('histograms: RTT fed from the peers at each scrape, handshakes from observeHandshake (module hook and endpoint)', async () => {
    const m = await start(fakeNode());
    observeHandshake(3);
    m.observeHandshake(40);
    observeHandshake(-1); // ignored
    observeHandshake(Number.NaN); // ignored
    let e = parseExposition((await request(m.url)).body);
    expect(e.types.get('udpvault_handshake_duration_seconds')).toBe('histogram');
    const hs = (le: string): number | undefined => e.get('udpvault_handshake_duration_seconds_bucket', { le });
    expect([hs('0.001'), hs('0.0025'), hs('0.005'), hs('0.025'), hs('0.05'), hs('30'), hs('+Inf')]).toEqual([0, 0, 1, 1, 2, 2, 2]);
    expect(e.get('udpvault_handshake_duration_seconds_count')).toBe(2);
    expect(e.get('udpvault_handshake_duration_seconds_sum')).toBeCloseTo(0.043, 12);

    const rtt = (le: string): number | undefined => e.get('udpvault_rtt_seconds_bucket', { le });
    expect([rtt('0.01'), rtt('0.025'), rtt('+Inf')]).toEqual([0, 1, 1]);
    expect(e.get('udpvault_rtt_seconds_count')).toBe(1);
    expect(e.get('udpvault_rtt_seconds_sum')).toBe(0.0125);

    e = parseExposition((await request(m.url)).body);
    expect(e.get('udpvault_rtt_seconds_count')).toBe(2);
    expect(e.get('udpvault_handshake_duration_seconds_count')).toBe(2);
  });

  test('collected at scrape time: new numbers, a removed peer\'s series gone, a left-out peer labelled once there is room', async () => {
    const node = fakeNode();
    const m = await start(node);
    await request(m.url);
    node.global = counters({ ...node.global, packetsIn: 1500, drops: { replay: 4 } });
    node.list[0] = { ...node.list[0]!, counters: counters({ bytesIn: 90000 }), rttMs: 20 };
    node.list.splice(1, 1); // bob removed
    const e = parseExposition((await request(m.url)).body);
    expect(e.get('udpvault_packets_total', { direction: 'in' })).toBe(1500);
    expect(e.get('udpvault_drops_total', { reason: 'replay' })).toBe(4);
    expect(e.get('udpvault_drops_total', { reason: 'malformed' })).toBe(0);
    expect(e.get('udpvault_peer_bytes_total', { peer: shortFp(A), name: 'alice', direction: 'in' })).toBe(90000);
    expect(e.get('udpvault_peer_rtt_seconds', { peer: shortFp(A), name: 'alice' })).toBe(0.02);
    expect(e.samples.filter((s) => s.labels.peer === shortFp(B))).toEqual([]);
    expect(e.get('udpvault_peers', { state: 'handshaking' })).toBe(0);
    expect(e.get('udpvault_peers_unlabelled')).toBe(0);
    expect(e.get('udpvault_peer_state', { peer: shortFp(C), name: 'carol', state: 'new' })).toBe(1);
    expect(node.statusCalls).toBe(2);
    expect(node.peersCalls).toBe(2);
  });

  test('gzip when the scraper accepts it (Prometheus does): the same text, compressed', async () => {
    const node = fakeNode();
    node.list = node.list.map((p) => ({ ...p, rttMs: null })); // no RTT: the histogram (and so the text) is the same at each scrape
    const m = await start(node);
    const plain = await request(m.url);
    const zipped = await request(m.url, 'GET', undefined, { 'Accept-Encoding': 'gzip, deflate' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(Number(zipped.headers['content-length'])).toBe(zipped.raw.length);
    expect(zipped.raw.length).toBeLessThan(plain.raw.length / 3);
    expect(gunzipSync(zipped.raw).toString('utf8')).toBe(plain.body);
  });

  test('HTTP surface: HEAD, / , 404, 405', async () => {
    const m = await start(fakeNode());
    const head = await request(m.url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(1000);
    expect(await request(m.url.replace(/metrics$/, ''))).toMatchObject({ status: 200, body: 'udpvault metrics: /metrics\n' });
    expect(await request(m.url.replace(/metrics$/, 'other'))).toMatchObject({ status: 404, body: 'not found: metrics are at /metrics\n' });
    const post = await request(m.url, 'POST');
    expect(post).toMatchObject({ status: 405, body: 'method not allowed\n' });
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  test('a failing collection answers 500, logs the error with its stack, and the next scrape works', async () => {
    const node = fakeNode();
    const log = memoryLogger();
    const m = await start(node, 3, '127.0.0.1:0', log);
    const real = node.status.bind(node);
    node.status = () => {
      throw new Error('status exploded');
    };
    expect(await request(m.url)).toMatchObject({ status: 500, body: 'metrics collection failed\n' });
    const line = log.lines.find((l) => l.level === 'error');
    expect(line?.msg).toBe('metrics collection failed');
    expect(line?.obj).toMatchObject({ err: 'status exploded', stack: expect.stringContaining('status exploded') });
    node.status = real;
    expect((await request(m.url)).status).toBe(200);
  });
});

describe('listening', () => {
  test('logs its URL; binds the configured address only (127.0.0.2 on the same port is refused)', async () => {
    const log = memoryLogger();
    const m = await start(fakeNode(), 3, '127.0.0.1:0', log);
    expect(m.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(log.lines).toEqual([{ level: 'info', obj: { url: m.url, maxPeers: 3 }, msg: 'metrics endpoint listening' }]);
    expect((await request(m.url)).status).toBe(200);
    await expect(request(m.url, 'GET', '127.0.0.2')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('IPv6 loopback address gives a bracketed URL', async () => {
    const m = await start(fakeNode(), 3, '[::1]:0');
    expect(m.url).toMatch(/^http:\/\/\[::1\]:\d+\/metrics$/);
    expect((await request(m.url)).status).toBe(200);
  });

  test('a port in use, an address not of this machine and a malformed address are BadInputErrors naming the setting', async () => {
    const m = await start(fakeNode());
    const taken = `127.0.0.1:${new URL(m.url).port}`;
    const inUse = startMetrics({ address: taken, node: fakeNode(), maxPeers: 3, log: memoryLogger() });
    await expect(inUse).rejects.toBeInstanceOf(BadInputError);
    await expect(inUse).rejects.toMatchObject({ code: 'ERR_BAD_CONFIG', message: `cannot serve metrics on "${taken}": the port is in use (setting "metrics")` });
    await expect(startMetrics({ address: '192.0.2.1:9464', node: fakeNode(), maxPeers: 3, log: memoryLogger() })).rejects.toMatchObject({
      code: 'ERR_BAD_CONFIG',
      message: 'cannot serve metrics on "192.0.2.1:9464": the address is not an address of this machine (setting "metrics")',
    });
    await expect(startMetrics({ address: 'localhost:9464', node: fakeNode(), maxPeers: 3, log: memoryLogger() })).rejects.toMatchObject({
      code: 'ERR_BAD_CONFIG',
      message: 'cannot serve metrics on "localhost:9464": expected an address and port such as "127.0.0.1:9464" or "[::1]:9464" (setting "metrics")',
    });
  });

  test('close stops serving even with a kept-alive connection open and is idempotent', async () => {
    const m = await startMetrics({ address: '127.0.0.1:0', node: fakeNode(), maxPeers: 3, log: memoryLogger() });
    const http = await import('node:http');
    const agent = new http.Agent({ keepAlive: true });
    const u = new URL(m.url);
    await new Promise<void>((resolve, reject) => {
      http.get({ host: u.hostname, port: u.port, path: u.pathname, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      }).on('error', reject);
    });
    const first = m.close();
    expect(m.close()).toBe(first);
    await first;
    agent.destroy();
    await expect(request(m.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
