/**
 * Path MTU search with whole nodes on the deterministic simulator: probe sizes sent, when the
 * search ends, the size found — on a clean path, across a 1280-byte hop that drops (DF), and
 * across one behind which the sender's kernel fragments after the first "fragmentation needed"
 * (the Linux behaviour with Node's sockets), with and without the kernel's fragment counter.
 */
import { createNode } from '../../src/node/node';
import type { UdpVaultNode } from '../../src/node/types';
import type { LinkOptions } from '../../src/net/sim';
import { SIM_PORT, SimWorld, established, messages, watch } from './harness';

const A = '10.9.0.1';
const B = '10.9.0.2';
const RATE_BPS = 10_000_000;
/** 20 ms RTT. */
const PATH: Partial<LinkOptions> = { latencyMs: 10, bandwidthBps: RATE_BPS, queueBytes: 64 * 1024 };

/** Incompressible bytes (a compressed bulk would fit in a few datagrams). */
function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

let w: SimWorld;
beforeEach(() => {
  w = new SimWorld(7);
});
afterEach(async () => {
  await w.closeAll();
});

/** A node on the simulator whose runtime reads the simulated host's fragment counter (or none). */
async function node(address: string, counter: boolean): Promise<UdpVaultNode> {
  const host = w.net.host(address);
  const n = await createNode({
    port: SIM_PORT,
    host: address,
    settings: { mtu: 1500 },
    runtime: { clock: w.clock, scheduler: w.scheduler, random: w.random.fork(), openTransport: host.openTransport, ...(counter ? { fragmentCounter: host.fragmentCounter } : {}) },
  });
  w.nodes.push(n);
  return n;
}

/** Sizes of A's datagrams to B in the trace that were no ordinary data (probes are padded keepalives of exact sizes). */
function sizesFromA(sinceMs = 0): Array<{ at: number; size: number; fate: string; fragments: number }> {
  return w.net.trace
    .filter((e) => e.from.startsWith(`${A}:`) && e.sentMs >= sinceMs && e.size > 1200)
    .map((e) => ({ at: e.sentMs, size: e.size, fate: e.fate, fragments: e.fragments ?? 0 }));
}

async function startPair(link: Partial<LinkOptions>, counter = true): Promise<{ a: UdpVaultNode; b: UdpVaultNode }> {
  w.net.link(A, B, link);
  const a = await node(A, counter);
  const b = await node(B, counter);
  await w.pair(a, b);
  return { a, b };
}

describe('path MTU search with several probes in flight', () => {
  test('a clean 1500 path: four probes at once when the session starts; 1472 confirmed one round trip later, the search ends', async () => {
    const { a } = await startPair(PATH);
    expect(await w.scheduler.runUntil(() => a.peers()[0]!.pathMtuBytes === 1472, 1_000)).toBe(true);
    const probes = sizesFromA();
    const found = w.clock.monotonic() - probes[0]!.at;
    console.log('pmtu clean path', JSON.stringify({ foundAfterProbesMs: found, probes }));
    expect(probes.map((p) => p.size)).toEqual([1472, 1464, 1392, 1252]);
    expect(new Set(probes.map((p) => p.at)).size).toBe(1); // one burst
    expect(probes.every((p) => p.fate === 'delivered')).toBe(true);
    expect(found).toBeLessThanOrEqual(20 + 25 + 1); // one RTT + the peer's ack delay
    await w.scheduler.advance(10_000);
    expect(sizesFromA()).toHaveLength(4); // no more probes: the search ended
  });

  test('a 1280 hop whose sender kernel fragments after the first "fragmentation needed": 1252 found, no fragment from the bulk after the search', async () => {
    const { a, b } = await startPair({ ...PATH, mtu: 1280, fragmentAfterTooBig: true });
    const host = w.net.host(A);
    expect(await w.scheduler.runUntil(() => a.peers()[0]!.pathMtuBytes === 1252, 1_000)).toBe(true);
    const t0 = sizesFromA()[0]!.at;
    const usable = w.clock.monotonic() - t0;
    await w.scheduler.advance(5_000);
    const probes = sizesFromA();
    const searchEnded = probes[probes.length - 1]!.at - t0;
    const fragments = host.fragmentCounter(4)!;
    console.log('pmtu fragmenting 1280 hop', JSON.stringify({ usableAfterMs: usable, lastProbeAfterMs: searchEnded, fragments, probes }));
    expect(a.peers()[0]!.pathMtuBytes).toBe(1252);
    // Round 1 leaves whole with DF: three too big, the ICMP reaches A's kernel 10 ms later.
    expect(probes.slice(0, 4).map((p) => [p.size, p.fate])).toEqual([[1472, 'tooBig'], [1464, 'tooBig'], [1392, 'tooBig'], [1252, 'delivered']]);
    // Round 2 (at 9/8 RTT): every size fragmented by A's kernel, seen in the counter: too big at once, the search ends.
    expect(probes.slice(4).map((p) => [p.size, p.fragments])).toEqual([[1391, 2], [1350, 2], [1309, 2], [1268, 2]]);
    expect(fragments).toBe(8);
    expect(usable).toBeLessThanOrEqual(20 + 25 + 1);
    expect(searchEnded).toBeLessThanOrEqual(20 + 25); // round 2 went 9/8 RTT after round 1, and ended it at its send
    // The bulk after the search: nothing fragmented, nothing too big.
    w.net.clearTrace();
    const got = messages(b);
    const sent = watch(a.send('b', bytesOf(512 * 1024, 3), { reliable: true, timeoutMs: 60_000 }));
    expect(await w.scheduler.runUntil(() => sent.state !== 'pending', 60_000)).toBe(true);
    expect(sent.state).toBe('resolved');
    expect(got).toHaveLength(1);
    expect(host.fragmentCounter(4)).toBe(8);
    const st = w.net.stats(A, B);
    expect(st.tooBig.count).toBe(0);
    expect(w.net.trace.filter((e) => (e.fragments ?? 0) > 0)).toHaveLength(0);
    // the bulk used the size found: full fragments fill 1252 up to bucket padding's 32-byte step (1248; 1252 with a packet ack)
    const largest = Math.max(...w.net.trace.filter((e) => e.from.startsWith(`${A}:`)).map((e) => e.size));
    expect(largest).toBeGreaterThan(1252 - 32);
    expect(largest).toBeLessThanOrEqual(1252);
  });

  test('the same hop without a fragment counter (not Linux): fragmented probes are acknowledged and trusted, as RFC 8899 alone would', async () => {
    const { a } = await startPair({ ...PATH, mtu: 1280, fragmentAfterTooBig: true }, false);
    await w.scheduler.advance(5_000);
    const found = a.peers()[0]!.pathMtuBytes;
    console.log('pmtu fragmenting 1280 hop, no counter', JSON.stringify({ found, fragments: w.net.host(A).fragmentCounter(4) }));
    expect(found).toBe(1472);
  });

  test('a 1280 hop that only drops (DF, no fragmentation): 1252 in use after one RTT; the search ends after the last suspect size was retried', async () => {
    const { a } = await startPair({ ...PATH, mtu: 1280 });
    expect(await w.scheduler.runUntil(() => a.peers()[0]!.pathMtuBytes === 1252, 1_000)).toBe(true);
    const t0 = sizesFromA()[0]!.at;
    const usable = w.clock.monotonic() - t0;
    await w.scheduler.advance(10_000);
    const probes = sizesFromA();
    console.log('pmtu dropping 1280 hop', JSON.stringify({ usableAfterMs: usable, lastProbeAfterMs: probes[probes.length - 1]!.at - t0, probes: probes.map((p) => p.size) }));
    expect(probes.map((p) => p.size)).toEqual([1472, 1464, 1392, 1252, 1391, 1350, 1309, 1268, 1268, 1268]);
    expect(a.peers()[0]!.pathMtuBytes).toBe(1252);
    expect(usable).toBeLessThanOrEqual(20 + 25 + 1);
  });

  test('one node, two fragmenting paths (1400 and 1280 hops): each path gets its own answer, every fragment is one of the probes', async () => {
    const C = '10.9.0.3';
    w.net.link(A, B, { ...PATH, mtu: 1400, fragmentAfterTooBig: true });
    w.net.link(A, C, { ...PATH, mtu: 1280, fragmentAfterTooBig: true });
    const a = await node(A, true);
    const b = await node(B, true);
    const c = await node(C, true);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    await a.addPeer({ endpoint: `${C}:${SIM_PORT}`, key: c.publicKey, name: 'c' });
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    await c.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(a, 'c') && established(b, 'a') && established(c, 'a'), 5_000)).toBe(true);
    await w.scheduler.advance(5_000);
    const mtu = (name: string): number | undefined => a.peers().find((p) => p.name === name)!.pathMtuBytes;
    const probesTo = (to: string): number[] => w.net.trace.filter((e) => e.from.startsWith(`${A}:`) && e.to.startsWith(`${to}:`) && e.size > 1200).map((e) => e.size);
    console.log('pmtu two paths', JSON.stringify({ b: mtu('b'), c: mtu('c'), toB: probesTo(B), toC: probesTo(C), fragments: w.net.host(A).fragmentCounter(4) }));
    expect(mtu('b')).toBe(1366); // 1400 − 28 = 1372 at most; within 16 bytes
    expect(mtu('c')).toBe(1252);
    expect(probesTo(B)).toEqual([1472, 1464, 1392, 1252, 1391, 1350, 1309, 1268, 1390, 1366, 1382]);
    expect(probesTo(C)).toEqual([1472, 1464, 1392, 1252, 1391, 1350, 1309, 1268]);
    // toB: 1391, 1390, 1382 fragmented (2 each); toC: 1391, 1350, 1309, 1268 (2 each)
    expect(w.net.host(A).fragmentCounter(4)).toBe(14);
  });

  test('IPv6 across a 1280 hop: the base (1232) is the answer; the first round probes 1452, 1444, 1372, 1352', async () => {
    const A6 = 'fd00::1';
    const B6 = 'fd00::2';
    w.net.link(A6, B6, { ...PATH, mtu: 1280 });
    const a = await node(A6, true);
    const b = await node(B6, true);
    await a.addPeer({ endpoint: `[${B6}]:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    await b.addPeer({ endpoint: `[${A6}]:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 5_000)).toBe(true);
    await w.scheduler.advance(5_000);
    const probes = w.net.trace.filter((e) => e.from.startsWith(`[${A6}]`) && e.fate === 'tooBig').map((e) => e.size);
    expect(probes.slice(0, 4)).toEqual([1452, 1444, 1372, 1352]);
    expect(a.peers()[0]!.pathMtuBytes).toBe(1232);
  });
});
