/**
 * The endpoint on two real nodes over loopback UDP: a UdpVaultNode is a MetricsSource as it is,
 * the exposition carries exactly the numbers status()/peers() gave during that scrape, and
 * none of the real keys.
 */
import { startMetrics, type MetricsEndpoint } from '../../src/metrics';
import type { NodeStatus, PeerInfo, UdpVaultNode } from '../../src/node/types';
import { DROP_REASONS } from '../../src/errors';
import { collect, pair, startNode, waitFor } from '../helpers/nodes';
import { memoryLogger, shortFp } from './fake-node';
import { parseExposition, request } from './exposition';

let a: UdpVaultNode;
let b: UdpVaultNode;
let m: MetricsEndpoint | undefined;
beforeEach(async () => {
  a = await startNode();
  b = await startNode();
});
afterEach(async () => {
  await m?.close();
  await a.close();
  await b.close();
});

test('counters and peer series equal what the node reported during the scrape', async () => {
  const atB = collect(b);
  await pair(a, b);
  await Promise.all([a.send('b', 'one'), a.send('b', 'two'), a.send('b', 'three')]);
  await waitFor(() => atB.length === 3);

  let status: NodeStatus | undefined;
  let peers: PeerInfo[] = [];
  const seen = { status: () => (status = a.status()), peers: () => (peers = a.peers()) };
  m = await startMetrics({ address: '127.0.0.1:0', node: seen, maxPeers: 100, log: memoryLogger() });
  const body = (await request(m.url)).body;
  const e = parseExposition(body);
  const c = status!.counters;
  expect(c.messagesOut).toBe(3);
  expect(e.get('udpvault_messages_total', { direction: 'out' })).toBe(3);
  expect(e.get('udpvault_packets_total', { direction: 'in' })).toBe(c.packetsIn);
  expect(e.get('udpvault_packets_total', { direction: 'out' })).toBe(c.packetsOut);
  expect(e.get('udpvault_bytes_total', { direction: 'in' })).toBe(c.bytesIn);
  expect(e.get('udpvault_bytes_total', { direction: 'out' })).toBe(c.bytesOut);
  expect(c.packetsOut).toBeGreaterThanOrEqual(2); // handshake + data: not a trivially zero comparison
  for (const r of DROP_REASONS) expect(e.get('udpvault_drops_total', { reason: r })).toBe(c.drops[r] ?? 0);
  expect(e.get('udpvault_mtu_bytes')).toBe(status!.mtu);
  expect(e.get('udpvault_sessions')).toBe(1);

  const p = peers[0]!;
  const who = { peer: shortFp(b.publicKey), name: 'b' };
  expect(p.state).toBe('established');
  expect(e.get('udpvault_peer_state', { ...who, state: 'established' })).toBe(1);
  expect(e.get('udpvault_peer_messages_total', { ...who, direction: 'out' })).toBe(p.counters.messagesOut);
  expect(e.get('udpvault_peer_bytes_total', { ...who, direction: 'out' })).toBe(p.counters.bytesOut);
  // The initiator measures RTT on its handshake; a responder only once reliable traffic flows.
  expect(e.get('udpvault_peer_rtt_seconds', who)).toBe(p.rttMs === null ? undefined : p.rttMs / 1000);
  expect(e.get('udpvault_peer_last_handshake_timestamp_seconds', who)).toBe(Date.parse(p.lastHandshake!) / 1000);
  for (const key of [a.publicKey, b.publicKey]) expect(body).not.toContain(key);
});
