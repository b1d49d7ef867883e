/**
 * Cardinality at 10,000 peers: only metricsMaxPeers peers (the top by traffic) get series, the
 * rest are counted in udpvault_peers_unlabelled; the global families and the RTT histogram
 * still cover every peer. Also: no key material or payload byte reaches the exposition.
 */
import { startMetrics, type MetricsEndpoint } from '../../src/metrics';
import { counters, FakeNode, keyString, memoryLogger, peer, shortFp, type FakePeer } from './fake-node';
import { parseExposition, request } from './exposition';

const PEERS = 10_000;

function manyPeers(): FakeNode {
  const n = new FakeNode();
  n.global = counters({ packetsIn: 123 });
  for (let i = 0; i < PEERS; i++) {
    n.list.push(
      peer({
        key: keyString(`peer ${i}`), name: `p${i}`, endpoint: `127.0.0.1:${20000 + (i % 40000)}`, state: 'established',
        rttMs: 1 + (i % 50), lastHandshake: '2026-12-01T05:10:00.000Z',
        // Traffic grows with i, but in shuffled order in the list: the selection must sort.
        counters: counters({ bytesIn: ((i * 7919) % PEERS) * 10, packetsIn: 1 }),
      }),
    );
  }
  return n;
}

let m: MetricsEndpoint | undefined;
afterEach(async () => {
  await m?.close();
  m = undefined;
});

test('10,000 peers, metricsMaxPeers 100: exactly the 100 busiest are labelled, 963 samples in all', async () => {
  const node = manyPeers();
  m = await startMetrics({ address: '127.0.0.1:0', node, maxPeers: 100, log: memoryLogger() });
  const e = parseExposition((await request(m.url)).body);

  const busiest = node.list.filter((p) => p.counters.bytesIn >= (PEERS - 100) * 10);
  expect(busiest).toHaveLength(100);
  const labelled = new Set(e.samples.filter((s) => s.labels.peer !== undefined).map((s) => s.labels.peer));
  expect([...labelled].sort()).toEqual(busiest.map((p) => shortFp(p.key!)).sort());
  expect(e.get('udpvault_peers_unlabelled')).toBe(9900);
  expect(e.get('udpvault_peers', { state: 'established' })).toBe(PEERS);
  expect(e.get('udpvault_sessions')).toBe(PEERS);
  // Every peer's RTT is in the histogram, labelled or not.
  expect(e.get('udpvault_rtt_seconds_count')).toBe(PEERS);
  // 31 global samples (15 drop reasons) + 32 histogram lines + 100 peers x 9 (6 counters, state, RTT, last handshake).
  expect(e.samples).toHaveLength(31 + 32 + 100 * 9);
});

test('10,000 peers, metricsMaxPeers 10,000 (the setting\'s maximum): every peer labelled once', async () => {
  const node = manyPeers();
  m = await startMetrics({ address: '127.0.0.1:0', node, maxPeers: 10_000, log: memoryLogger() });
  const body = (await request(m.url)).body;
  // 7.6 MB: count lines rather than parse them all.
  const lines = body.split('\n');
  const states = lines.filter((l) => l.startsWith('udpvault_peer_state{'));
  expect(new Set(states.map((l) => /peer="([^"]+)"/.exec(l)![1])).size).toBe(PEERS);
  expect(lines.filter((l) => l !== '' && !l.startsWith('#'))).toHaveLength(31 + 32 + PEERS * 9);
  expect(lines).toContain('udpvault_peers_unlabelled 0');
});

test('metricsMaxPeers 0: no per-peer series at all', async () => {
  const node = manyPeers();
  m = await startMetrics({ address: '127.0.0.1:0', node, maxPeers: 0, log: memoryLogger() });
  const e = parseExposition((await request(m.url)).body);
  expect(e.samples.filter((s) => s.labels.peer !== undefined)).toEqual([]);
  expect(e.get('udpvault_peers_unlabelled')).toBe(PEERS);
});

test('no key material or payload: keys, session secrets and message bytes the node carries never reach the exposition or the log', async () => {
  const node = new FakeNode();
  const payload = 'PAYLOAD-7f3a9c-secret-message-body';
  const secret = Buffer.from('0123456789abcdef0123456789abcdef');
  const keys = [keyString('k1'), keyString('k2'), keyString('k3')];
  node.list = keys.map((key, i) => {
    // Fields a careless node could put on its PeerInfo: the exporter must read only its own.
    const leaky = { sessionKey: secret.toString('hex'), privateKey: secret.toString('base64'), lastMessage: payload, data: Buffer.from(payload) };
    return { ...peer({ key, name: `peer${i}`, endpoint: `127.0.0.1:${30000 + i}`, state: 'established', rttMs: 5, counters: counters({ bytesIn: 100 * (i + 1) }) }), ...leaky } as FakePeer;
  });
  const log = memoryLogger();
  m = await startMetrics({ address: '127.0.0.1:0', node, maxPeers: 100, log });
  const body = (await request(m.url)).body;
  const logged = JSON.stringify(log.lines);
  for (const text of [body, logged]) {
    for (const key of [...keys, node.publicKey]) {
      const raw = Buffer.from(key, 'base64url');
      for (const form of [key, raw.toString('hex'), raw.toString('base64'), key.slice(0, 16)]) expect(text).not.toContain(form);
    }
    expect(text).not.toContain(payload);
    expect(text).not.toContain(secret.toString('hex'));
    expect(text).not.toContain(secret.toString('base64'));
  }
  // The peer label is a short fingerprint: 32 bits of a hash, nothing of the key itself.
  const labels = new Set(parseExposition(body).samples.flatMap((s) => (s.labels.peer === undefined ? [] : [s.labels.peer])));
  expect([...labels].sort()).toEqual(keys.map(shortFp).sort());
});
