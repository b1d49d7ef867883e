/** NodeMetrics without HTTP: scrape coalescing, the node's own totals preferred, bad numbers skipped. */
import { NodeMetrics } from '../../src/metrics/collector';
import { counters, FakeNode, keyString, peer } from './fake-node';
import { parseExposition } from './exposition';

test('scrapes that overlap share one collection (one status() and peers() call); the next one collects again', async () => {
  const node = new FakeNode();
  const nm = new NodeMetrics(node, 10);
  const a = nm.scrape();
  const b = nm.scrape();
  expect(b).toBe(a);
  const [ta, tb] = await Promise.all([a, b]);
  expect(ta).toBe(tb);
  expect([node.statusCalls, node.peersCalls]).toEqual([1, 1]);
  node.global = counters({ messagesOut: 9 });
  const e = parseExposition(await nm.scrape());
  expect([node.statusCalls, node.peersCalls]).toEqual([2, 2]);
  expect(e.get('udpvault_messages_total', { direction: 'out' })).toBe(9);
});

test('a failed collection does not stick: the next scrape collects again', async () => {
  const node = new FakeNode();
  const nm = new NodeMetrics(node, 10);
  const real = node.peers.bind(node);
  node.peers = () => {
    throw new Error('peers failed');
  };
  await expect(nm.scrape()).rejects.toThrow('peers failed');
  node.peers = real;
  await expect(nm.scrape()).resolves.toContain('udpvault_packets_total{direction="in"} 0');
});

test('session and queue gauges: the node\'s own totals win over derived ones; absent (no sample) when nothing provides them', async () => {
  const node = new FakeNode();
  node.list = [
    peer({ key: keyString('q1'), endpoint: '127.0.0.1:1', state: 'established', queuedMessages: 3, queuedBytes: 30 }),
    peer({ key: keyString('q2'), endpoint: '127.0.0.1:2', state: 'established', queuedMessages: 4 }),
  ];
  const nm = new NodeMetrics(node, 10);
  let e = parseExposition(await nm.scrape());
  expect([e.get('udpvault_sessions'), e.get('udpvault_queued_messages'), e.get('udpvault_queued_bytes')]).toEqual([2, 7, 30]);

  node.extras = { sessions: 5, queuedMessages: 11, queuedBytes: 12 };
  e = parseExposition(await nm.scrape());
  expect([e.get('udpvault_sessions'), e.get('udpvault_queued_messages'), e.get('udpvault_queued_bytes')]).toEqual([5, 11, 12]);

  node.extras = {};
  node.list = [peer({ key: keyString('q3'), endpoint: '127.0.0.1:3' })];
  const text = await nm.scrape();
  e = parseExposition(text);
  expect(e.all('udpvault_queued_messages')).toEqual([]);
  expect(e.all('udpvault_queued_bytes')).toEqual([]);
  expect(e.all('udpvault_peer_congestion_window_bytes')).toEqual([]);
  expect(e.types.get('udpvault_queued_messages')).toBe('gauge'); // the family is declared, with no sample
  expect(e.get('udpvault_sessions')).toBe(0);
});

test('numbers that are not finite and non-negative are skipped, never exported (a counter cannot go negative)', async () => {
  const node = new FakeNode();
  node.global = counters({ packetsIn: -1, bytesIn: Number.NaN, drops: { replay: Number.POSITIVE_INFINITY } });
  node.list = [peer({ key: keyString('n'), endpoint: '127.0.0.1:1', rttMs: Number.NaN, congestionWindowBytes: -5, lastHandshake: 'not a date' })];
  const e = parseExposition(await new NodeMetrics(node, 10).scrape());
  expect(e.get('udpvault_packets_total', { direction: 'in' })).toBeUndefined();
  expect(e.get('udpvault_packets_total', { direction: 'out' })).toBe(0);
  expect(e.get('udpvault_bytes_total', { direction: 'in' })).toBeUndefined();
  expect(e.get('udpvault_drops_total', { reason: 'replay' })).toBe(0);
  expect(e.all('udpvault_peer_rtt_seconds')).toEqual([]);
  expect(e.all('udpvault_peer_congestion_window_bytes')).toEqual([]);
  expect(e.all('udpvault_peer_last_handshake_timestamp_seconds')).toEqual([]);
  expect(e.get('udpvault_rtt_seconds_count')).toBe(0);
});
