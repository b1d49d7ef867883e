/**
 * Node-level behaviour on the simulated network with a manual clock: handshakes (incl.
 * crossing ones), rekey, roaming behind a NAT, reliable delivery through loss, duplication and
 * reordering, reassembly, vault-v2 peers, and determinism of the whole datagram trace.
 */
import { SimWorld, SIM_PORT, established, messages, peerEvents, text, watch } from './harness';
import { IK_INIT_BYTES as INIT_BYTES, IK_RESPONSE_BYTES as RESPONSE_BYTES } from '../helpers/v4-forge';

const A = '127.0.0.2';
const B = '127.0.0.3';

function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('nodes on the simulated network', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(42);
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('crossing handshake: both sides start in the same turn and converge on one round trip each way', async () => {
    w.net.link(A, B, { latencyMs: 20 });
    const a = await w.node(A);
    const b = await w.node(B);
    const t0 = w.clock.monotonic();
    await Promise.all([
      a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' }),
      b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' }),
    ]);
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 5_000)).toBe(true);
    expect(w.clock.monotonic() - t0).toBeLessThanOrEqual(100); // a few one-way trips, not a 1.5 s retry
    const handshakes = w.net.trace.filter((e) => e.size === INIT_BYTES || e.size === RESPONSE_BYTES);
    expect(handshakes.filter((e) => e.size === INIT_BYTES)).toHaveLength(2); // one init each: the crossing rule
    expect(handshakes.filter((e) => e.size === RESPONSE_BYTES)).toHaveLength(1); // only the lower key answers
    const atA = messages(a);
    const atB = messages(b);
    await Promise.all([a.send('b', 'hi b'), b.send('a', 'hi a')]);
    await w.scheduler.advance(50);
    expect([atA.map(text), atB.map(text)]).toEqual([['hi a'], ['hi b']]);
  });

  test('rekey during a steady stream loses nothing and replaces the session several times', async () => {
    w.net.link(A, B, { latencyMs: 10 });
    const a = await w.node(A, { settings: { rekeyAfterMs: 2_000, sessionGraceMs: 1_000 } });
    const b = await w.node(B, { settings: { rekeyAfterMs: 2_000, sessionGraceMs: 1_000 } });
    await w.pair(a, b);
    const got = messages(b);
    const inits = (): number => w.net.trace.filter((e) => e.size === INIT_BYTES).length;
    const initsBefore = inits();
    for (let i = 0; i < 200; i++) {
      await a.send('b', `m${i}`);
      await w.scheduler.advance(50);
    }
    await w.scheduler.advance(100);
    expect(got.map(text)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    expect(inits() - initsBefore).toBeGreaterThanOrEqual(4); // 10 s at one rekey per 2 s
    expect(b.status().counters.drops).toEqual({});
  });

  test('roaming behind a NAT: after a rebind the peer is followed to its new port', async () => {
    w.net.nat(A, { publicAddress: '127.0.1.1', portBase: 40_000 });
    w.net.setDefaultLink({ latencyMs: 10 });
    const a = await w.node(A);
    const b = await w.node(B);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    await b.addPeer({ endpoint: `127.0.1.1:${SIM_PORT}`, key: a.publicKey, name: 'a' }); // where it listens is unknown
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 5_000)).toBe(true);
    const first = b.peers()[0]!.endpoint;
    expect(first).toMatch(/^127\.0\.1\.1:4\d{4}$/);
    const events = peerEvents(b);
    const atA = messages(a);
    const atB = messages(b);
    w.net.rebind(A);
    await a.send('b', 'from the new port');
    await w.scheduler.advance(50);
    expect(atB.map(text)).toEqual(['from the new port']);
    const moved = b.peers()[0]!.endpoint;
    expect(moved).not.toBe(first);
    expect(events.filter((e) => e.type === 'endpoint-changed').map((e) => e.peer.endpoint)).toEqual([moved]);
    await b.send('a', 'reply');
    await w.scheduler.advance(50);
    expect(atA.map(text)).toEqual(['reply']);
  });

  test('reliable delivery through 20% loss, duplication and reordering: exactly once, in order', async () => {
    w.net.link(A, B, { latencyMs: 15, jitterMs: 5, loss: 0.2, duplicate: 0.1, reorder: 0.2 });
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b, ['b', 'a'], 30_000);
    const got = messages(b);
    const sends: Array<ReturnType<typeof watch>> = [];
    for (let i = 0; i < 300; i++) {
      sends.push(watch(a.send('b', `r${i}`, { reliable: true, timeoutMs: 60_000 })));
      if (i % 5 === 4) await w.scheduler.advance(10); // many datagrams, not a few coalesced ones
    }
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state !== 'pending'), 60_000)).toBe(true);
    expect(sends.filter((s) => s.state !== 'resolved')).toEqual([]);
    expect(got.map(text)).toEqual(Array.from({ length: 300 }, (_, i) => `r${i}`));
    expect(got.every((m) => m.reliable)).toBe(true);
    const fates = w.net.stats(A, B);
    expect(fates.lost.count).toBeGreaterThan(10);
    expect(fates.duplicated.count).toBeGreaterThan(3);
  });

  test('a partition that heals: reliable messages sent during it arrive after it, once and in order', async () => {
    w.net.link(A, B, { latencyMs: 10 });
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    const got = messages(b);
    w.net.partition(A, B, true);
    const sends = Array.from({ length: 20 }, (_, i) => watch(a.send('b', `p${i}`, { reliable: true, timeoutMs: 60_000 })));
    await w.scheduler.advance(10_000);
    expect(got).toEqual([]);
    expect(sends.every((s) => s.state === 'pending')).toBe(true);
    w.net.partition(A, B, false);
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state === 'resolved'), 30_000)).toBe(true);
    expect(got.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`));
    expect(w.net.stats(A, B).partitioned.count).toBeGreaterThan(0);
  });

  test('reassembly: a 200 KB datagram-mode message arrives whole through reordering', async () => {
    w.net.link(A, B, { latencyMs: 10, jitterMs: 8, reorder: 0.3 });
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    const got = messages(b);
    const big = bytesOf(200_000, 3);
    const sent = watch(a.send('b', big));
    // 167 datagrams under the congestion window: slow start from 12 000 bytes takes a few round trips.
    expect(await w.scheduler.runUntil(() => sent.state !== 'pending', 2_000)).toBe(true);
    expect(sent.state).toBe('resolved');
    await w.scheduler.advance(100);
    expect(got).toHaveLength(1);
    expect(Buffer.from(got[0]!.data).equals(Buffer.from(big))).toBe(true);
    expect(got[0]!.reliable).toBe(false);
  });

  test('vault-v2 peers: two nodes learn each other\'s keys from announcements (TOFU) and exchange encrypted text', async () => {
    w.net.link(A, B, { latencyMs: 10 });
    const a = await w.node(A);
    const b = await w.node(B);
    const events = peerEvents(a);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, name: 'b', compat: 'vault-v2' });
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, name: 'a', compat: 'vault-v2' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 5_000)).toBe(true);
    expect(a.peers()[0]).toMatchObject({ key: b.publicKey, trust: 'tofu', compat: 'vault-v2' });
    expect(events.filter((e) => e.type === 'tofu')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'handshake')).toHaveLength(1);
    const atB = messages(b);
    await expect(a.send('b', 'over vault-v2', { reliable: true })).rejects.toMatchObject({ code: 'ERR_RELIABLE_UNSUPPORTED' });
    const sent = watch(a.send('b', 'over vault-v2'));
    await w.scheduler.advance(50);
    expect(sent.state).toBe('resolved');
    expect(atB.map((m) => [text(m), m.encrypted, m.reliable])).toEqual([['over vault-v2', true, false]]);
  });

  test('vault-v2: a burst of 160 is paced below the reference limit of 100 datagrams/s per source (send times on the simulated clock), in order, nothing lost', async () => {
    w.net.link(A, B, { latencyMs: 10 });
    const a = await w.node(A);
    const b = await w.node(B);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b', compat: 'vault-v2' });
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a', compat: 'vault-v2' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 5_000)).toBe(true);
    const atB = messages(b);
    const from = w.net.trace.length;
    const t0 = w.clock.monotonic();
    const sends = Array.from({ length: 160 }, (_, i) => watch(a.send('b', `p${i}`)));
    expect(await w.scheduler.runUntil(() => atB.length === 160, 10_000)).toBe(true);
    expect(sends.every((x) => x.state === 'resolved')).toBe(true);
    expect(atB.map(text)).toEqual(Array.from({ length: 160 }, (_, i) => `p${i}`));
    // Every datagram a sent to b (payloads and announcements alike) counts against the limit.
    const sentAt = w.net.trace.slice(from).filter((e) => e.from === `${A}:${SIM_PORT}`).map((e) => e.sentMs);
    expect(sentAt.length).toBeGreaterThanOrEqual(160);
    for (const t of sentAt) expect(sentAt.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(100);
    // 25 at once (burst), the other 135 at 70/s: the last leaves about 1.9 s after the first.
    expect(Math.max(...sentAt) - t0).toBeGreaterThanOrEqual(1900);
  });

  test('vault-v2: keys are forgotten 60 s after the last announcement; without keys a node stays quiet and messages wait', async () => {
    w.net.link(A, B, { latencyMs: 10 });
    const a = await w.node(A);
    const b = await w.node(B);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, name: 'b', compat: 'vault-v2' });
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, name: 'a', compat: 'vault-v2' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 5_000)).toBe(true);
    w.net.linkOneWay(B, A, { latencyMs: 10, loss: 1 }); // a hears nothing from b any more
    const cut = w.clock.monotonic();
    expect(await w.scheduler.runUntil(() => a.peers()[0]!.state === 'handshaking', 70_000)).toBe(true);
    const forgotAfter = w.clock.monotonic() - cut;
    expect(forgotAfter).toBeGreaterThan(55_000); // the last announcement heard was at most 5 s before the cut
    expect(forgotAfter).toBeLessThanOrEqual(60_200);
    const sent = watch(a.send('b', 'after forgetting', { timeoutMs: 60_000 }));
    const fromA = (): number => w.net.trace.filter((e) => e.from === `${A}:${SIM_PORT}`).length;
    await w.scheduler.advance(5_100); // the announcement scheduled while the keys were held
    const before = fromA();
    await w.scheduler.advance(20_000);
    expect(fromA()).toBe(before); // no announcement and no payload without keys (the probe interval is 90 s)
    expect(sent.state).toBe('pending');
    w.net.linkOneWay(B, A, { latencyMs: 10 }); // b's next re-announcement (every 5 s) gets through
    const atB = messages(b);
    expect(await w.scheduler.runUntil(() => sent.state === 'resolved', 5_100)).toBe(true);
    await w.scheduler.advance(20);
    expect(atB.map(text)).toEqual(['after forgetting']);
    expect(a.peers()[0]!.state).toBe('established');
  });
});

describe('determinism', () => {
  /** A run with loss and reliable traffic; returns its datagram trace (time, endpoints, size, digest, fate). */
  async function run(seed: number): Promise<string[]> {
    const w = new SimWorld(seed);
    w.net.link(A, B, { latencyMs: 12, jitterMs: 6, loss: 0.1, duplicate: 0.05, reorder: 0.1 });
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b, ['b', 'a'], 30_000);
    const c = await w.node('127.0.0.4'); // a vault-v2 peer too: announcements, sealed envelopes, padding
    await a.addPeer({ endpoint: `127.0.0.4:${SIM_PORT}`, name: 'c', compat: 'vault-v2' });
    await c.addPeer({ endpoint: `${A}:${SIM_PORT}`, name: 'a', compat: 'vault-v2' });
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 30; i++) {
      sends.push(a.send('b', `m${i}`, { reliable: i % 2 === 0, timeoutMs: 30_000 }).catch(() => undefined));
      if (i % 3 === 0) sends.push(a.send('c', `v${i}`).catch(() => undefined));
      await w.scheduler.advance(100);
    }
    await w.scheduler.advance(20_000);
    await Promise.all(sends);
    await w.closeAll();
    return w.net.trace.map((e) => `${e.atMs} ${e.sentMs} ${e.from} ${e.to} ${e.size} ${e.digest} ${e.fate}`);
  }

  test('the same seed gives an identical datagram trace; another seed a different one', async () => {
    const first = await run(1234);
    const again = await run(1234);
    const other = await run(4321);
    expect(first.length).toBeGreaterThan(60);
    expect(first.filter((l) => l.includes(' 127.0.0.4:11000 ')).length).toBeGreaterThan(5); // the vault-v2 traffic is in it
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });
});

