/** Reliable delivery and large messages through a lossy, duplicating, reordering UDP proxy. */
import { randomBytes } from 'node:crypto';
import { startNode, waitFor, collect } from '../helpers/nodes';
import { startLossyProxy, type LossyProxy, type LossRates } from '../helpers/lossy-proxy';
import type { MessageEvent, UdpVaultNode } from '../../src/node/types';

const text = (m: MessageEvent): string => Buffer.from(m.data).toString();

async function lossyPair(rates: Partial<LossRates>, settings = {}): Promise<{ a: UdpVaultNode; b: UdpVaultNode; proxy: LossyProxy; atB: MessageEvent[] }> {
  const a = await startNode({ settings });
  const b = await startNode({ settings });
  const proxy = await startLossyProxy({ a: { host: '127.0.0.1', port: a.port }, b: { host: '127.0.0.1', port: b.port }, seed: 42 });
  await a.addPeer({ endpoint: `127.0.0.1:${proxy.pA.port}`, key: b.publicKey, name: 'b' });
  await b.addPeer({ endpoint: `127.0.0.1:${proxy.pB.port}`, key: a.publicKey, name: 'a' });
  await waitFor(() => a.peers()[0]?.state === 'established' && b.peers()[0]?.state === 'established', 10000, 'handshake');
  const atB = collect(b);
  proxy.setRates(rates);
  return { a, b, proxy, atB };
}

describe('reliable delivery over a lossy network', () => {
  let ctx: Awaited<ReturnType<typeof lossyPair>> | null = null;
  afterEach(async () => {
    if (!ctx) return;
    await ctx.a.close();
    await ctx.b.close();
    await ctx.proxy.close();
    ctx = null;
  });

  test('1,000 reliable messages through 20% loss, 5% duplication and reordering arrive exactly once, in order, byte-exact', async () => {
    ctx = await lossyPair({ drop: 0.2, duplicate: 0.05, reorder: 0.1, jitterMs: 2 });
    const { a, atB, proxy } = ctx;
    const payloads = Array.from({ length: 1000 }, (_, i) => Buffer.concat([Buffer.from(`msg ${i} `), randomBytes(i % 300)]));
    await Promise.all(payloads.map((p) => a.send('b', p, { reliable: true })));
    await waitFor(() => atB.length >= 1000, 5000);
    await new Promise((r) => setTimeout(r, 200)); // any duplicate would show up now
    expect(atB).toHaveLength(1000);
    atB.forEach((m, i) => {
      expect(Buffer.from(m.data).equals(payloads[i]!)).toBe(true);
      expect(m.reliable).toBe(true);
    });
    expect(proxy.stats.aToB.dropped).toBeGreaterThan(0);
    expect(proxy.stats.aToB.duplicated).toBeGreaterThan(0);
  }, 60000);

  test('a 1 MiB reliable message arrives intact through 10% loss', async () => {
    ctx = await lossyPair({ drop: 0.1 });
    const { a, atB } = ctx;
    const big = randomBytes(1024 * 1024);
    await a.send('b', big, { reliable: true });
    await waitFor(() => atB.length === 1);
    expect(Buffer.from(atB[0]!.data).equals(big)).toBe(true);
  }, 60000);

  test('datagram mode under duplication delivers no duplicate', async () => {
    ctx = await lossyPair({ duplicate: 1 });
    const { a, atB, proxy } = ctx;
    for (let i = 0; i < 200; i++) await a.send('b', `d${i}`);
    await a.send('b', randomBytes(20_000)); // fragmented: every fragment arrives twice
    await waitFor(() => atB.length >= 201);
    expect(proxy.stats.aToB.duplicated).toBeGreaterThanOrEqual(201);
    await new Promise((r) => setTimeout(r, 200));
    expect(atB.slice(0, 200).map(text)).toEqual(Array.from({ length: 200 }, (_, i) => `d${i}`));
    expect(atB).toHaveLength(201);
    expect(ctx.b.status().counters.drops.replay).toBeGreaterThanOrEqual(200);
  });

  test('a peer that disappears makes reliable sends fail within the timeout; nothing undelivered is reported delivered', async () => {
    ctx = await lossyPair({});
    const { a, atB, proxy } = ctx;
    const delivered: number[] = [];
    const failed: Array<{ i: number; code: string; message: string }> = [];
    const send = (i: number) =>
      a.send('b', `r${i}`, { reliable: true, timeoutMs: 1500 }).then(
        () => delivered.push(i),
        (e: { code: string; message: string }) => failed.push({ i, code: e.code, message: e.message }),
      );
    await Promise.all(Array.from({ length: 100 }, (_, i) => send(i)));
    expect(delivered).toHaveLength(100);
    // the peer vanishes: nothing gets through any more, in either direction
    proxy.setRates({ drop: 1 });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 200 }, (_, i) => send(100 + i)));
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(4000); // the 1.5 s deadline plus timer latency on a loaded 2-core machine
    expect(delivered).toHaveLength(100);
    expect(failed).toHaveLength(200);
    for (const f of failed) {
      expect(f.code).toBe('ERR_NOT_ACKNOWLEDGED');
      expect(f.message).toMatch(/^reliable message to peer b: not acknowledged within 1500 ms/);
    }
    const received = new Set(atB.map(text));
    for (const i of delivered) expect(received.has(`r${i}`)).toBe(true);
    expect(atB.map(text)).toEqual(Array.from({ length: 100 }, (_, i) => `r${i}`));
  });

  test('reliable messages sent before the session exists are queued and delivered', async () => {
    const a = await startNode();
    const b = await startNode();
    const atB = collect(b);
    try {
      await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'b' });
      const sent = [a.send('b', 'early 1', { reliable: true }), a.send('b', 'early 2', { reliable: true })];
      await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, key: a.publicKey, name: 'a' });
      await Promise.all(sent);
      expect(atB.map(text)).toEqual(['early 1', 'early 2']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
