/**
 * Congestion control on the simulated bottleneck (deterministic: manual clock, seeded network).
 * The path: 10 Mbit/s, 40 ms RTT, a 64 KB drop-tail queue. Every figure is printed
 * (docs/CONGESTION.md §5 quotes them) and asserted against the floors.
 */
import { SIM_PORT, SimWorld, endpointOf, established, messages, watch } from './harness';
import { UdpVaultError } from '../../src/errors';
import type { UdpVaultNode } from '../../src/node/types';

const A = '10.9.0.1';
const B = '10.9.0.2';
const RATE_BPS = 10_000_000;
const BOTTLENECK = { latencyMs: 20, bandwidthBps: RATE_BPS, queueBytes: 64 * 1024 };
const IP_UDP_BYTES = 28;

function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const pct = (x: number): number => Math.round(x * 1000) / 10;

/** Pairs two nodes and lets the path MTU search finish (the sender fragments at the confirmed size). */
async function pairAndSettle(a: UdpVaultNode, b: UdpVaultNode, names?: [string, string]): Promise<void> {
  await w.pair(a, b, names);
  await w.scheduler.advance(1_000);
}

let w: SimWorld;
beforeEach(() => {
  w = new SimWorld(99);
});
afterEach(async () => {
  await w.closeAll();
});

/** Sends `count` reliable messages of `size` bytes; runs until all settled; returns the figures. */
async function bulk(a: UdpVaultNode, peer: string, count: number, size: number, seed: number): Promise<{ ms: number; resolved: number }> {
  const start = w.clock.monotonic();
  const sends = Array.from({ length: count }, (_, i) => watch(a.send(peer, bytesOf(size, seed + i), { reliable: true, timeoutMs: 120_000 })));
  expect(await w.scheduler.runUntil(() => sends.every((s) => s.state !== 'pending'), 120_000)).toBe(true);
  return { ms: w.clock.monotonic() - start, resolved: sends.filter((s) => s.state === 'resolved').length };
}

describe('congestion control on a 10 Mbit/s, 40 ms RTT, 64 KB-queue bottleneck', () => {
  test('reliable bulk of 4 MiB: goodput ≥ 85% of the link, wire ÷ payload ≤ 1.15, few retransmissions, exactly once', async () => {
    w.net.link(A, B, BOTTLENECK);
    const a = await w.node(A);
    const b = await w.node(B);
    await pairAndSettle(a, b);
    expect(a.peers()[0]!.pathMtuBytes).toBe(1472);
    const got = messages(b);
    w.net.clearTrace();
    const payload = 16 * 256 * 1024;
    const { ms, resolved } = await bulk(a, 'b', 16, 256 * 1024, 1);
    expect(resolved).toBe(16);
    expect(got).toHaveLength(16);
    expect(got.every((m, i) => Buffer.from(m.data).equals(Buffer.from(bytesOf(256 * 1024, 1 + i))))).toBe(true);
    const st = w.net.stats(A, B);
    const sent = Object.values(st).reduce((n, f) => n + f.count, 0) - st.duplicated.count;
    const wireBytes = Object.values(st).reduce((n, f) => n + f.bytes, 0) - st.duplicated.bytes + sent * IP_UDP_BYTES;
    const goodput = (payload * 8) / (ms / 1000) / RATE_BPS;
    const info = a.peers()[0]!;
    const figures = {
      ms: Math.round(ms),
      goodputPct: pct(goodput),
      wireOverPayload: Math.round((wireBytes / payload) * 1000) / 1000,
      datagrams: sent,
      queueDrops: st.queueFull.count,
      lostPackets: info.lostPackets,
      retransmittedPct: pct((info.lostPackets ?? 0) / sent),
      srttMs: info.srttMs,
      cwnd: info.congestionWindowBytes,
    };
    console.log('reliable bulk 4 MiB', JSON.stringify(figures));
    expect(goodput).toBeGreaterThanOrEqual(0.85);
    expect(wireBytes / payload).toBeLessThanOrEqual(1.15);
    expect(st.queueFull.count / sent).toBeLessThan(0.03);
    // Every queue drop was detected as a loss (the items were requeued): nothing is missing.
    expect(info.lostPackets).toBeGreaterThanOrEqual(st.queueFull.count);
  });

  test('a datagram-mode flood: the excess is rejected with ERR_CONGESTION at the sender and counted; the wire carries no more than the link', async () => {
    w.net.link(A, B, BOTTLENECK);
    const a = await w.node(A);
    const b = await w.node(B);
    await pairAndSettle(a, b);
    const got = messages(b);
    w.net.clearTrace();
    // 40 Mbit/s offered for 2 s: 1000-byte messages, 50 every 10 ms.
    const sends: Array<ReturnType<typeof watch>> = [];
    const start = w.clock.monotonic();
    for (let t = 0; t < 200; t++) {
      for (let k = 0; k < 50; k++) sends.push(watch(a.send('b', bytesOf(1000, t * 50 + k))));
      await w.scheduler.advance(10);
    }
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state !== 'pending'), 5_000)).toBe(true);
    const elapsed = w.clock.monotonic() - start;
    const resolved = sends.filter((s) => s.state === 'resolved').length;
    const rejected = sends.filter((s) => s.state === 'rejected');
    expect(rejected.every((s) => s.error instanceof UdpVaultError && s.error.code === 'ERR_CONGESTION')).toBe(true);
    expect((rejected[0]!.error as Error).message).toBe('congestion: the path to peer b had no room for 50 ms; message dropped at the sender');
    expect(resolved + rejected.length).toBe(10_000);
    expect(a.status().counters.drops.congestion).toBe(rejected.length);
    expect(a.peers()[0]!.counters.drops.congestion).toBe(rejected.length);
    await w.scheduler.advance(200);
    const st = w.net.stats(A, B);
    const wireBits = (st.delivered.bytes + st.queueFull.bytes + (st.delivered.count + st.queueFull.count) * IP_UDP_BYTES) * 8;
    const figures = {
      resolved, rejected: rejected.length, received: got.length, queueDrops: st.queueFull.count,
      offeredMbps: 40, wireMbps: Math.round((wireBits / (elapsed / 1000)) / 1e4) / 100,
    };
    console.log('datagram flood', JSON.stringify(figures));
    // Never blasted into the path: what went on the wire fits the link (rate × time + the queue).
    expect(wireBits).toBeLessThanOrEqual(1.05 * RATE_BPS * (elapsed / 1000) + 64 * 1024 * 8);
    expect(st.queueFull.count / (st.delivered.count + st.queueFull.count)).toBeLessThan(0.05);
    expect(rejected.length).toBeGreaterThan(5_000);
    // What was resolved went on the wire; what the link carried arrived (the receiver may count it).
    expect(got.length).toBe(st.delivered.count - (st.delivered.count - got.length));
    expect(got.length).toBeGreaterThanOrEqual(resolved - st.queueFull.count - 5);
  });

  test('two udpvault flows through one bottleneck share it fairly', async () => {
    w.net.link(A, B, BOTTLENECK);
    const a1 = await w.node(A);
    const a2 = await w.node(A, { port: SIM_PORT + 1 });
    const b = await w.node(B);
    await pairAndSettle(a1, b, ['b', 'a1']);
    await a2.addPeer({ endpoint: endpointOf(b), key: b.publicKey, name: 'b' });
    await b.addPeer({ endpoint: `${A}:${SIM_PORT + 1}`, key: a2.publicKey, name: 'a2' });
    expect(await w.scheduler.runUntil(() => established(a2, 'b') && established(b, 'a2'), 5_000)).toBe(true);
    await w.scheduler.advance(1_000);
    const got = messages(b);
    const counts = { a1: 0, a2: 0 };
    const from = (m: { addr: string }): 'a1' | 'a2' => (m.addr.endsWith(`:${SIM_PORT}`) ? 'a1' : 'a2');
    // Each flow has 100 messages of 64 KiB queued (10.5 s of the link for both); measured over 2–8 s.
    const s1 = Array.from({ length: 100 }, (_, i) => watch(a1.send('b', bytesOf(65536, i), { reliable: true, timeoutMs: 120_000 })));
    const s2 = Array.from({ length: 100 }, (_, i) => watch(a2.send('b', bytesOf(65536, 1000 + i), { reliable: true, timeoutMs: 120_000 })));
    await w.scheduler.advance(2_000);
    const before = got.length;
    for (const m of got) counts[from(m)]--;
    await w.scheduler.advance(6_000);
    for (const m of got) counts[from(m)]++;
    const ratio = Math.max(counts.a1, counts.a2) / Math.max(1, Math.min(counts.a1, counts.a2));
    const linkUse = ((counts.a1 + counts.a2) * 65536 * 8) / 6 / RATE_BPS;
    console.log('two flows', JSON.stringify({ a1: counts.a1, a2: counts.a2, ratio: Math.round(ratio * 100) / 100, linkUsePct: pct(linkUse), before }));
    expect(counts.a1).toBeGreaterThan(0);
    expect(counts.a2).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1.5);
    expect(linkUse).toBeGreaterThan(0.8);
    expect(await w.scheduler.runUntil(() => [...s1, ...s2].every((s) => s.state === 'resolved'), 120_000)).toBe(true);
  });

  test('a constant-rate competitor of 5 Mbit/s keeps its share: udpvault takes the rest and few of its packets are dropped', async () => {
    w.net.link(A, B, BOTTLENECK);
    const a = await w.node(A);
    const b = await w.node(B);
    await pairAndSettle(a, b);
    const cross = w.net.crossTraffic(A, B, { rateBps: 5_000_000 });
    const { ms, resolved } = await bulk(a, 'b', 8, 256 * 1024, 7);
    const c = cross.counts;
    cross.stop();
    expect(resolved).toBe(8);
    const ours = (8 * 256 * 1024 * 8) / (ms / 1000) / RATE_BPS;
    const crossLoss = c.queueFull / c.offered;
    console.log('cross traffic', JSON.stringify({ oursPct: pct(ours), crossLossPct: pct(crossLoss), crossMaxQueueDelayMs: Math.round(c.maxQueueDelayMs) }));
    expect(crossLoss).toBeLessThan(0.05);
    expect(ours).toBeGreaterThan(0.3);
    expect(ours).toBeLessThan(0.55);
  });
});

describe('anti-amplification on roaming', () => {
  test('a datagram replayed from a spoofed address moves the peer, but the new address gets ≤ 3× what it sent until it answers; the real peer takes it back', async () => {
    const MALLORY = '10.9.0.66';
    w.net.link(A, B, { latencyMs: 10, bandwidthBps: RATE_BPS, queueBytes: 64 * 1024 });
    let steal = false;
    let stolen: Uint8Array | null = null;
    const a = await w.node(A, {}, (open) => async (o) => {
      const t = await open(o);
      return new Proxy(t, {
        get(target, prop) {
          if (prop === 'send') {
            return (parts: Uint8Array | readonly Uint8Array[], port: number, address: string, family: 4 | 6, done?: (err: Error | null) => void): boolean => {
              if (steal && address === B) {
                steal = false;
                stolen = Buffer.concat(parts instanceof Uint8Array ? [parts] : [...parts]);
                done?.(null);
                return true; // never reaches B from A
              }
              return target.send(parts, port, address, family, done);
            };
          }
          const v: unknown = Reflect.get(target, prop);
          return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
        },
      });
    });
    const b = await w.node(B);
    await w.pair(a, b);
    const got = messages(a);
    const big = bytesOf(1 << 20, 5);
    const sent = watch(b.send('a', big, { reliable: true, timeoutMs: 60_000 }));
    await w.scheduler.advance(300); // the transfer is under way
    steal = true;
    expect(await w.scheduler.runUntil(() => stolen !== null, 1_000)).toBe(true);
    const mallory = await w.net.host(MALLORY).openTransport({ host: MALLORY, port: 5000, onMessage: () => undefined, onError: () => undefined });
    mallory.send(stolen!, SIM_PORT, B, 4);
    await w.scheduler.runUntil(() => b.peers()[0]!.endpoint === `${MALLORY}:5000`, 1_000);
    expect(b.peers()[0]!.endpoint).toBe(`${MALLORY}:5000`);
    expect(await w.scheduler.runUntil(() => sent.state !== 'pending', 60_000)).toBe(true);
    expect(sent.state).toBe('resolved');
    expect(Buffer.from(got[0]!.data).equals(Buffer.from(big))).toBe(true);
    expect(b.peers()[0]!.endpoint).toBe(`${A}:${SIM_PORT}`);
    const toMallory = Object.values(w.net.stats(B, MALLORY)).reduce((n, f) => n + f.bytes, 0);
    console.log('anti-amplification', JSON.stringify({ stolenBytes: stolen!.length, toMalloryBytes: toMallory }));
    expect(toMallory).toBeGreaterThan(0); // the probe
    expect(toMallory).toBeLessThanOrEqual(3 * stolen!.length);
    await mallory.close();
  });
});

describe('path MTU discovery', () => {
  test('a 1280-byte-MTU hop: the largest datagram is found by probing (≤ 1252), and after probing nothing is lost to tooBig', async () => {
    w.net.link(A, B, { latencyMs: 10, bandwidthBps: RATE_BPS, queueBytes: 64 * 1024, mtu: 1280 });
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    expect(a.peers()[0]!.pathMtuBytes).toBe(1200); // the base, before any probe answered
    await w.scheduler.advance(3_000);
    const found = a.peers()[0]!.pathMtuBytes!;
    const probing = w.net.stats(A, B).tooBig.count;
    console.log('pmtu 1280 hop', JSON.stringify({ found, tooBigWhileProbing: probing }));
    expect(found).toBeGreaterThan(1252 - 16);
    expect(found).toBeLessThanOrEqual(1252); // 1280 − 20 (IPv4) − 8 (UDP)
    expect(probing).toBeGreaterThan(0); // the search did try larger sizes
    // round 1: 1472, 1464, 1392 lost; round 2: 1391, 1350, 1309, 1268 lost; 1268 retried until lost MAX_PROBES times (test/sim/pmtu.test.ts)
    expect(probing).toBe(9);
    w.net.clearTrace();
    const got = messages(b);
    const big = bytesOf(512 * 1024, 9);
    const sent = watch(a.send('b', big, { reliable: true, timeoutMs: 60_000 }));
    expect(await w.scheduler.runUntil(() => sent.state !== 'pending', 60_000)).toBe(true);
    expect(sent.state).toBe('resolved');
    expect(Buffer.from(got[0]!.data).equals(Buffer.from(big))).toBe(true);
    const st = w.net.stats(A, B);
    expect(st.tooBig.count).toBe(0);
    expect(st.delivered.count).toBeGreaterThan(400);
  });
});

describe('real-path floors on the simulator (issue 9: padding, pacing, restart after idle)', () => {
  /** A tbf-like bottleneck: `latency 30ms` of queue at the rate plus the 4000-byte burst. */
  const tbf = (bps: number): { latencyMs: number; bandwidthBps: number; queueBytes: number } => ({ latencyMs: 20, bandwidthBps: bps, queueBytes: Math.round((bps / 8) * 0.03) + 4000 });
  const dataFrom = (from: string, minSize: number): number[] => w.net.trace.filter((e) => e.from.startsWith(`${from}:`) && e.size >= minSize).map((e) => e.size);

  test('a 1 KiB datagram-mode message travels in a 1088-byte datagram (1120 with a packet ack; not 1200 or 1472); bulk fragments are padded only to the next 32-byte step', async () => {
    w.net.link(A, B, BOTTLENECK);
    const a = await w.node(A);
    const b = await w.node(B);
    await pairAndSettle(a, b);
    const got = messages(b);
    w.net.clearTrace();
    for (let k = 0; k < 20; k++) {
      await a.send('b', bytesOf(1024, k));
      await w.scheduler.advance(5);
    }
    await w.scheduler.advance(200);
    expect(got).toHaveLength(20);
    // frame v5: 1,055-byte frame + 29 = 1,084 → the 1,088 bucket (v4's fixmap: 1,097 → 1,120); one whose frame
    // also carries a control item (a packet ack: 10–20 bytes) → 1,120
    const sizes1k = dataFrom(A, 1000);
    // ack16: the receiver's acks here are ack-only datagrams, which the sender no longer acknowledges in its data
    // (AckTracker.hasNewInfo): all 20 go alone (before: 6 of them carried an ack, 1,120 bytes); 1,120 is seen below.
    expect(sizes1k).toEqual(Array.from({ length: 20 }, () => 1088));
    w.net.clearTrace();
    const { resolved } = await bulk(a, 'b', 1, 256 * 1024, 3);
    expect(resolved).toBe(1);
    const sizes = dataFrom(A, 1400); // all but the short last fragment
    // 1362-byte chunks (v4: 1346; test/engine/native/wire-sizes.test.ts): 1440 alone, 1472 when a packet ack rides along
    expect(new Set(sizes)).toEqual(new Set([1440, 1472]));
    expect(sizes.filter((s) => s === 1440).length).toBeGreaterThan(sizes.length / 2);
  });

  test('2 Mbit/s, 40 ms RTT, a 30 ms tbf queue (8 datagrams): 1 MiB reliable bulk with goodput ≥ 85% and wire ÷ payload ≤ 1.15', async () => {
    w.net.link(A, B, tbf(2_000_000));
    const a = await w.node(A);
    const b = await w.node(B);
    await pairAndSettle(a, b);
    w.net.clearTrace();
    const payload = 8 * 128 * 1024;
    const { ms, resolved } = await bulk(a, 'b', 8, 128 * 1024, 11);
    expect(resolved).toBe(8);
    const st = w.net.stats(A, B);
    const sent = Object.values(st).reduce((n, f) => n + f.count, 0) - st.duplicated.count;
    const wireBytes = Object.values(st).reduce((n, f) => n + f.bytes, 0) - st.duplicated.bytes + sent * IP_UDP_BYTES;
    const goodput = (payload * 8) / (ms / 1000) / 2_000_000;
    console.log('2 Mbit/s bulk', JSON.stringify({ ms: Math.round(ms), goodputPct: pct(goodput), wireOverPayload: Math.round((wireBytes / payload) * 1000) / 1000, datagrams: sent, queueDrops: st.queueFull.count }));
    expect(goodput).toBeGreaterThanOrEqual(0.85);
    expect(wireBytes / payload).toBeLessThanOrEqual(1.15);
    expect(st.queueFull.count / sent).toBeLessThan(0.03);
  });

  test('restart after idle: a window grown on a 100 Mbit/s path is not blasted into the 2 Mbit/s path it became one second later', async () => {
    w.net.link(A, B, { latencyMs: 20, bandwidthBps: 100_000_000, queueBytes: 1 << 20 });
    const a = await w.node(A);
    const b = await w.node(B);
    await pairAndSettle(a, b);
    expect((await bulk(a, 'b', 16, 256 * 1024, 21)).resolved).toBe(16);
    const grown = a.peers()[0]!.congestionWindowBytes!;
    w.net.link(A, B, tbf(2_000_000));
    await w.scheduler.advance(1_000);
    w.net.clearTrace();
    expect((await bulk(a, 'b', 2, 128 * 1024, 41)).resolved).toBe(2);
    const st = w.net.stats(A, B);
    const sent = st.delivered.count + st.queueFull.count;
    console.log('restart after idle', JSON.stringify({ grownCwnd: grown, datagrams: sent, queueDrops: st.queueFull.count }));
    expect(grown).toBeGreaterThan(200_000);
    expect(st.queueFull.count / sent).toBeLessThan(0.05);
  });

  test("congestionControl 'newreno' stays selectable: 2 MiB through the 10 Mbit/s bottleneck at ≥ 80% of the link and ≤ 1.2× the payload", async () => {
    w.net.link(A, B, BOTTLENECK);
    const a = await w.node(A, { settings: { congestionControl: 'newreno' } });
    const b = await w.node(B, { settings: { congestionControl: 'newreno' } });
    await pairAndSettle(a, b);
    w.net.clearTrace();
    const payload = 8 * 256 * 1024;
    const { ms, resolved } = await bulk(a, 'b', 8, 256 * 1024, 31);
    expect(resolved).toBe(8);
    const st = w.net.stats(A, B);
    const sent = Object.values(st).reduce((n, f) => n + f.count, 0) - st.duplicated.count;
    const wireBytes = Object.values(st).reduce((n, f) => n + f.bytes, 0) - st.duplicated.bytes + sent * IP_UDP_BYTES;
    const goodput = (payload * 8) / (ms / 1000) / RATE_BPS;
    console.log('newreno bulk', JSON.stringify({ goodputPct: pct(goodput), wireOverPayload: Math.round((wireBytes / payload) * 1000) / 1000, queueDrops: st.queueFull.count }));
    expect(goodput).toBeGreaterThanOrEqual(0.8);
    expect(wireBytes / payload).toBeLessThanOrEqual(1.2);
  });
});
