/**
 * Reliable delivery and large messages through a lossy, duplicating, reordering link (on the
 * simulated network with a manual clock: exact, no sleeps; absence is proven by running the
 * clock, not by waiting).
 */
import { SimWorld, SIM_PORT, messages, text, watch } from '../sim/harness';
import type { LinkOptions } from '../../src/net/sim';
import type { MessageEvent, UdpVaultNode } from '../../src/node/types';

const A = '127.0.0.2';
const B = '127.0.0.3';

function bytesOf(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('reliable delivery over a lossy network', () => {
  let w: SimWorld;
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  /** Paired over a clean 5 ms link, then the link (A→B and B→A) gets `rates`. */
  async function lossyPair(rates: Partial<LinkOptions>): Promise<{ a: UdpVaultNode; b: UdpVaultNode; atB: MessageEvent[] }> {
    w = new SimWorld(42);
    w.net.link(A, B, { latencyMs: 5 });
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    w.net.link(A, B, { latencyMs: 5, ...rates });
    return { a, b, atB: messages(b) };
  }

  test('1,000 reliable messages through 20% loss, 5% duplication and reordering arrive exactly once, in order, byte-exact', async () => {
    const { a, atB } = await lossyPair({ loss: 0.2, duplicate: 0.05, reorder: 0.1, jitterMs: 2 });
    const payloads = Array.from({ length: 1000 }, (_, i) => Buffer.concat([Buffer.from(`msg ${i} `), bytesOf(i % 300, i)]));
    const sends = payloads.map((p) => watch(a.send('b', p, { reliable: true })));
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state === 'resolved'), 60_000)).toBe(true);
    await w.scheduler.advance(10_000); // any duplicate would have arrived by now
    expect(atB).toHaveLength(1000);
    atB.forEach((m, i) => {
      expect(Buffer.from(m.data).equals(payloads[i]!)).toBe(true);
      expect(m.reliable).toBe(true);
    });
    const fates = w.net.stats(A, B);
    expect(fates.lost.count).toBeGreaterThan(0);
    expect(fates.duplicated.count).toBeGreaterThan(0);
  });

  test('a 1 MiB reliable message arrives intact through 10% loss', async () => {
    const { a, atB } = await lossyPair({ loss: 0.1 });
    const big = bytesOf(1024 * 1024, 7);
    const sent = watch(a.send('b', big, { reliable: true }));
    expect(await w.scheduler.runUntil(() => sent.state === 'resolved', 60_000)).toBe(true);
    expect(atB).toHaveLength(1);
    expect(Buffer.from(atB[0]!.data).equals(big)).toBe(true);
  });

  test('datagram mode under duplication delivers no duplicate', async () => {
    const { a, b, atB } = await lossyPair({ duplicate: 1 });
    // Each send is on the wire before the next (the pacer may hold one for a few ms): one datagram each.
    const sent = async (p: Promise<void>): Promise<void> => {
      let done = false;
      void p.then(() => void (done = true));
      await w.scheduler.runUntil(() => done, 1_000);
      await p;
    };
    for (let i = 0; i < 200; i++) {
      await sent(a.send('b', `d${i}`));
      await w.scheduler.advance(1);
    }
    await sent(a.send('b', bytesOf(20_000, 1))); // fragmented: every fragment arrives twice
    await w.scheduler.advance(10_000);
    expect(w.net.stats(A, B).duplicated.count).toBeGreaterThanOrEqual(201);
    expect(atB.slice(0, 200).map(text)).toEqual(Array.from({ length: 200 }, (_, i) => `d${i}`));
    expect(atB).toHaveLength(201);
    expect(b.status().counters.drops.replay).toBeGreaterThanOrEqual(200);
  });

  test('a peer that disappears makes reliable sends fail at their timeout; nothing undelivered is reported delivered', async () => {
    const { a, atB } = await lossyPair({});
    const delivered: number[] = [];
    const failed: Array<{ i: number; code: string; message: string; atMs: number }> = [];
    const send = (i: number): Promise<unknown> =>
      a.send('b', `r${i}`, { reliable: true, timeoutMs: 1500 }).then(
        () => delivered.push(i),
        (e: { code: string; message: string }) => failed.push({ i, code: e.code, message: e.message, atMs: w.clock.monotonic() }),
      );
    const first = Array.from({ length: 100 }, (_, i) => send(i));
    await w.scheduler.advance(100);
    await Promise.all(first);
    expect(delivered).toHaveLength(100);
    w.net.partition(A, B, true); // the peer vanishes: nothing gets through any more, in either direction
    const t0 = w.clock.monotonic();
    const rest = Array.from({ length: 200 }, (_, i) => send(100 + i));
    await w.scheduler.advance(1_499);
    expect(failed).toEqual([]);
    await w.scheduler.advance(1);
    await Promise.all(rest);
    expect(delivered).toHaveLength(100);
    expect(failed).toHaveLength(200);
    for (const f of failed) {
      expect(f.atMs - t0).toBe(1500);
      expect(f.code).toBe('ERR_NOT_ACKNOWLEDGED');
      expect(f.message).toMatch(/^reliable message to peer b: not acknowledged within 1500 ms/);
    }
    expect(atB.map(text)).toEqual(Array.from({ length: 100 }, (_, i) => `r${i}`));
  });

  test('reliable messages sent before the session exists are queued and delivered', async () => {
    w = new SimWorld(5);
    w.net.link(A, B, { latencyMs: 5 });
    const a = await w.node(A);
    const b = await w.node(B);
    const atB = messages(b);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    const sent = [watch(a.send('b', 'early 1', { reliable: true })), watch(a.send('b', 'early 2', { reliable: true }))];
    await w.scheduler.advance(50); // b does not know a yet: its init is refused
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    expect(await w.scheduler.runUntil(() => sent.every((s) => s.state === 'resolved'), 10_000)).toBe(true);
    expect(atB.map(text)).toEqual(['early 1', 'early 2']);
  });
});
