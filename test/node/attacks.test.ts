/** Attacks on the data path over real UDP: tamper, replay, reorder, stale, garbage. */
import { randomBytes } from 'node:crypto';
import { startNode, waitFor, collect } from '../helpers/nodes';
import { startTap, type Tap } from '../helpers/tap';
import type { PeerEvent, MessageEvent, UdpVaultNode } from '../../src/node/types';
import type { Clock } from '../../src/runtime/clock';
import { TYPE_DATA } from '../../src/constants';

const totalDrops = (n: UdpVaultNode): number => Object.values(n.status().counters.drops).reduce((a, b) => a + (b ?? 0), 0);
const drops = (n: UdpVaultNode, r: string): number => (n.status().counters.drops as Record<string, number>)[r] ?? 0;
const text = (m: MessageEvent): string => Buffer.from(m.data).toString();

/** A and B talking through a tap that records (and can hold) every datagram. */
async function tapped(o: { aClock?: Clock } = {}): Promise<{ a: UdpVaultNode; b: UdpVaultNode; tap: Tap; atB: MessageEvent[] }> {
  // Held datagrams look lost to the congestion controller: a long window wait keeps sends from failing with ERR_CONGESTION.
  const a = await startNode({ ...(o.aClock ? { clock: o.aClock } : {}), settings: { mtu: 1500, datagramWindowWaitMs: 30_000 } });
  const b = await startNode();
  const tap = await startTap(a.port, b.port);
  await a.addPeer({ endpoint: `127.0.0.1:${tap.portForA}`, key: b.publicKey, name: 'b' });
  await b.addPeer({ endpoint: `127.0.0.1:${tap.portForB}`, key: a.publicKey, name: 'a' });
  await waitFor(() => a.peers()[0]?.state === 'established' && b.peers()[0]?.state === 'established');
  const atB = collect(b);
  // let the path MTU search (probes from both sides) end and the confirmation keepalive land, so later captures and counts start clean
  await waitFor(() => a.peers()[0]?.pathMtuBytes === 1472 && b.peers()[0]?.pathMtuBytes === 1472);
  await new Promise((r) => setTimeout(r, 50));
  return { a, b, tap, atB };
}

async function capture(a: UdpVaultNode, tap: Tap, msg: string, hold = true): Promise<Buffer> {
  const before = tap.aToB.length;
  tap.filter = hold ? (dir) => dir !== 'aToB' : null;
  await a.send('b', msg);
  await waitFor(() => tap.aToB.length > before);
  tap.filter = null;
  return tap.aToB[tap.aToB.length - 1]!;
}

describe('data path attacks', () => {
  let ctx: Awaited<ReturnType<typeof tapped>>;
  afterEach(async () => {
    await ctx.a.close();
    await ctx.b.close();
    await ctx.tap.close();
  });

  test('every single-bit flip of a data datagram is rejected and counted', async () => {
    ctx = await tapped();
    const { a, b, tap, atB } = ctx;
    const d = await capture(a, tap, 'flip me');
    expect(d[0]).toBe(TYPE_DATA);
    const before = totalDrops(b);
    const authBefore = drops(b, 'authFailure');
    for (let bit = 0; bit < d.length * 8; bit++) {
      const t = Buffer.from(d);
      t[bit >> 3]! ^= 1 << (bit & 7);
      await tap.injectToB(t);
    }
    await waitFor(() => totalDrops(b) - before === d.length * 8, 5000, 'all flips dropped');
    // flips of ciphertext and tag bytes all fail authentication (counter flips: auth or replay)
    expect(drops(b, 'authFailure') - authBefore).toBeGreaterThanOrEqual((d.length - 13) * 8);
    expect(atB).toHaveLength(0);
    // the genuine datagram still opens afterwards: nothing was poisoned
    await tap.injectToB(d);
    await waitFor(() => atB.length === 1);
    expect(text(atB[0]!)).toBe('flip me');
  });

  test('a replayed datagram is dropped and counted', async () => {
    ctx = await tapped();
    const { a, b, tap, atB } = ctx;
    const d = await capture(a, tap, 'once', false);
    await waitFor(() => atB.length === 1);
    const replays = drops(b, 'replay');
    await tap.injectToB(d);
    await tap.injectToB(d);
    await waitFor(() => drops(b, 'replay') === replays + 2);
    expect(atB.map(text)).toEqual(['once']);
  });

  test('reordering within the window is accepted exactly once; older than the window is dropped', async () => {
    ctx = await tapped();
    const { a, b, tap, atB } = ctx;
    const held: Buffer[] = [];
    for (let i = 0; i < 5; i++) held.push(await capture(a, tap, `r${i}`));
    for (const d of [...held].reverse()) await tap.injectToB(d);
    await waitFor(() => atB.length === 5);
    expect(atB.map(text)).toEqual(['r4', 'r3', 'r2', 'r1', 'r0']);
    const replays = drops(b, 'replay');
    for (const d of held) await tap.injectToB(d);
    await waitFor(() => drops(b, 'replay') === replays + 5);
    // hold one, then push the window 2100 packets past it
    const old = await capture(a, tap, 'too old');
    for (let i = 0; i < 2100; i++) {
      await a.send('b', `f${i}`);
      if (i % 100 === 99) await waitFor(() => atB.length === 5 + i + 1, 5000, `message f${i}`);
    }
    const r2 = drops(b, 'replay');
    await tap.injectToB(old);
    await waitFor(() => drops(b, 'replay') === r2 + 1);
    expect(atB.some((m) => text(m) === 'too old')).toBe(false);
  });

  test('a frame with a stale timestamp is dropped as stale; the new handshake it starts measures the step', async () => {
    let skewMs = 0;
    const clock: Clock = { now: () => Date.now() + skewMs, monotonic: () => performance.now() };
    ctx = await tapped({ aClock: clock });
    const { a, b, atB } = ctx;
    const skews: PeerEvent[] = [];
    b.on('peer', (e) => void (e.type === 'clock-skew' && skews.push(e)));
    skewMs = -61_000;
    const stale = drops(b, 'stale');
    await a.send('b', 'from the past');
    await waitFor(() => drops(b, 'stale') === stale + 1);
    // b reported the step and started a new handshake, which re-measured a's clock: a's frames are fresh again.
    expect(skews[0]!.clockOffsetMs).toBeLessThan(-60_000);
    await a.send('b', 'now', { reliable: true, timeoutMs: 5_000 });
    expect(atB.map(text)).toEqual(['now']);
    expect(b.status().counters.clockSkew).toBe(skews.length);
  });

  test('garbage, truncated, oversized and unknown-version datagrams are counted drops; memory stays flat', async () => {
    ctx = await tapped();
    const { a, b, tap, atB } = ctx;
    const good = await capture(a, tap, 'good');
    const before = totalDrops(b);
    const inputs: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from([0x43]),
      good.subarray(0, 20),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.alloc(1)]),
      Buffer.alloc(60000, 0x43),
      Buffer.from([0x51, 1, 2, 3]),
      Buffer.from([0x41, ...randomBytes(198)]),
      Buffer.from([0x47, ...randomBytes(60)]),
      Buffer.from([0x21, 1, 2, 3]),
      Buffer.from([0x41, ...randomBytes(172)]),
      Buffer.from([0x42, ...randomBytes(144)]),
      Buffer.from([0x41, ...randomBytes(10)]),
    ];
    for (const d of inputs) await tap.injectToB(d);
    await waitFor(() => totalDrops(b) - before === inputs.length, 5000, 'typed garbage dropped');
    expect(drops(b, 'unknownVersion')).toBeGreaterThanOrEqual(2);
    expect(drops(b, 'tooLarge')).toBeGreaterThanOrEqual(1);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const d = randomBytes(1 + (i % 1400));
      await tap.injectToB(d);
      if (i % 500 === 499) await waitFor(() => totalDrops(b) - before === inputs.length + i + 1, 5000, `garbage ${i}`);
    }
    await waitFor(() => totalDrops(b) - before === inputs.length + n, 20000, 'random garbage dropped');
    const growthMb = (process.memoryUsage().rss - rss0) / 1e6;
    expect(growthMb).toBeLessThan(64);
    await tap.injectToB(good);
    await waitFor(() => atB.length === 1);
    expect(text(atB[0]!)).toBe('good');
  }, 60000);
});
