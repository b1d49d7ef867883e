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

/**
 * Bound of every wait here: each waits for datagrams already sent to be handled (no timer to run
 * out), so the bound only turns a stall into an error, well before the test's timeout; 5 s was
 * seen to run out at load ~17 on 2 cores.
 */
const SETTLE_MS = 20_000;
jest.setTimeout(90_000);

/** What a peer's link looks like (the failure message of a setup wait). */
const linkState = (n: UdpVaultNode): string => {
  const p = n.peers()[0];
  return p ? `${p.state}, path MTU ${p.pathMtuBytes} (searching: ${p.pathMtuSearching}), ${p.bytesInFlight} B in flight` : 'no peer';
};

/** Closers of what the running test opened, closed by afterEach even when the setup failed half way. */
const opened: Array<() => Promise<void>> = [];

/**
 * A and B talking through a tap that records (and can hold) every datagram; returns once the
 * link is quiet: both path MTU searches have ended (whatever size each confirmed: a probe
 * answered after its timeout counts as lost, and these tests do not depend on 1472) and nothing
 * either side sent is unacknowledged. The last packets of
 * the search are a keepalive and its answer (A→B); a capture that starts before that answer
 * would hold it instead of the datagram it is after.
 */
async function tapped(o: { aClock?: Clock } = {}): Promise<{ a: UdpVaultNode; b: UdpVaultNode; tap: Tap; atB: MessageEvent[] }> {
  // Held datagrams look lost to the congestion controller: a long window wait keeps sends from failing with ERR_CONGESTION.
  const a = await startNode({ ...(o.aClock ? { clock: o.aClock } : {}), settings: { mtu: 1500, datagramWindowWaitMs: 30_000 } });
  opened.push(() => a.close());
  const b = await startNode();
  opened.push(() => b.close());
  const tap = await startTap(a.port, b.port);
  opened.push(() => tap.close());
  await a.addPeer({ endpoint: `127.0.0.1:${tap.portForA}`, key: b.publicKey, name: 'b' });
  await b.addPeer({ endpoint: `127.0.0.1:${tap.portForB}`, key: a.publicKey, name: 'a' });
  const quiet = (n: UdpVaultNode): boolean => {
    const p = n.peers()[0];
    return p?.state === 'established' && p.pathMtuSearching === false && p.bytesInFlight === 0;
  };
  // A state both reach on their own (no timer to wait out): the bound only turns a stall into a message.
  await waitFor(() => quiet(a) && quiet(b), SETTLE_MS, () => `a quiet link: A ${linkState(a)}; B ${linkState(b)}`);
  const atB = collect(b);
  return { a, b, tap, atB };
}

async function capture(a: UdpVaultNode, tap: Tap, msg: string, hold = true): Promise<Buffer> {
  const before = tap.aToB.length;
  tap.filter = hold ? (dir) => dir !== 'aToB' : null;
  await a.send('b', msg);
  await waitFor(() => tap.aToB.length > before, SETTLE_MS, 'the datagram at the tap');
  tap.filter = null;
  return tap.aToB[tap.aToB.length - 1]!;
}

describe('data path attacks', () => {
  let ctx: Awaited<ReturnType<typeof tapped>>;
  afterEach(async () => {
    for (const close of opened.splice(0)) await close();
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
    await waitFor(() => totalDrops(b) - before === d.length * 8, SETTLE_MS, 'all flips dropped');
    // flips of ciphertext and tag bytes all fail authentication (counter flips: auth or replay)
    expect(drops(b, 'authFailure') - authBefore).toBeGreaterThanOrEqual((d.length - 13) * 8);
    expect(atB).toHaveLength(0);
    // the genuine datagram still opens afterwards: nothing was poisoned
    await tap.injectToB(d);
    await waitFor(() => atB.length === 1, SETTLE_MS, 'the message');
    expect(text(atB[0]!)).toBe('flip me');
  });

  test('a replayed datagram is dropped and counted', async () => {
    ctx = await tapped();
    const { a, b, tap, atB } = ctx;
    const d = await capture(a, tap, 'once', false);
    await waitFor(() => atB.length === 1, SETTLE_MS, 'the message');
    const replays = drops(b, 'replay');
    await tap.injectToB(d);
    await tap.injectToB(d);
    await waitFor(() => drops(b, 'replay') === replays + 2, SETTLE_MS, 'two replays dropped');
    expect(atB.map(text)).toEqual(['once']);
  });

  test('reordering within the window is accepted exactly once; older than the window is dropped', async () => {
    ctx = await tapped();
    const { a, b, tap, atB } = ctx;
    const held: Buffer[] = [];
    for (let i = 0; i < 5; i++) held.push(await capture(a, tap, `r${i}`));
    for (const d of [...held].reverse()) await tap.injectToB(d);
    await waitFor(() => atB.length === 5, SETTLE_MS, 'five messages');
    expect(atB.map(text)).toEqual(['r4', 'r3', 'r2', 'r1', 'r0']);
    const replays = drops(b, 'replay');
    for (const d of held) await tap.injectToB(d);
    await waitFor(() => drops(b, 'replay') === replays + 5, SETTLE_MS, 'five replays dropped');
    // hold one, then push the window 2100 packets past it
    const old = await capture(a, tap, 'too old');
    for (let i = 0; i < 2100; i++) {
      await a.send('b', `f${i}`);
      if (i % 100 === 99) await waitFor(() => atB.length === 5 + i + 1, SETTLE_MS, `message f${i}`);
    }
    const r2 = drops(b, 'replay');
    await tap.injectToB(old);
    await waitFor(() => drops(b, 'replay') === r2 + 1, SETTLE_MS, 'the old datagram dropped');
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
    await waitFor(() => drops(b, 'stale') === stale + 1, SETTLE_MS, 'the stale frame dropped');
    // b reported the step and started a new handshake, which re-measured a's clock: a's frames are fresh again.
    expect(skews[0]!.clockOffsetMs).toBeLessThan(-60_000);
    await a.send('b', 'now', { reliable: true, timeoutMs: SETTLE_MS });
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
    await waitFor(() => totalDrops(b) - before === inputs.length, SETTLE_MS, 'typed garbage dropped');
    expect(drops(b, 'unknownVersion')).toBeGreaterThanOrEqual(2);
    expect(drops(b, 'tooLarge')).toBeGreaterThanOrEqual(1);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const d = randomBytes(1 + (i % 1400));
      await tap.injectToB(d);
      if (i % 500 === 499) await waitFor(() => totalDrops(b) - before === inputs.length + i + 1, SETTLE_MS, `garbage ${i}`);
    }
    await waitFor(() => totalDrops(b) - before === inputs.length + n, SETTLE_MS, 'random garbage dropped');
    const growthMb = (process.memoryUsage().rss - rss0) / 1e6;
    expect(growthMb).toBeLessThan(64);
    await tap.injectToB(good);
    await waitFor(() => atB.length === 1, SETTLE_MS, 'the message');
    expect(text(atB[0]!)).toBe('good');
  });
});
