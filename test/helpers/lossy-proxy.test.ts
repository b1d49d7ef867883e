import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { mulberry32, startLossyProxy, type LossyProxy, type LossyProxyOptions } from './lossy-proxy';

interface Received {
  text: string;
  fromPort: number;
  atMs: number;
}
interface Peer {
  socket: dgram.Socket;
  port: number;
  got: Received[];
}

const HOST = '127.0.0.1';
const open: Array<{ close(): unknown }> = [];

async function peer(): Promise<Peer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
  const p: Peer = { socket, port: (socket.address() as AddressInfo).port, got: [] };
  socket.on('message', (msg, rinfo) => p.got.push({ text: msg.toString(), fromPort: rinfo.port, atMs: performance.now() }));
  open.push({ close: () => socket.close() });
  return p;
}

async function setup(opts: Omit<LossyProxyOptions, 'a' | 'b'>): Promise<{ a: Peer; b: Peer; proxy: LossyProxy }> {
  const a = await peer();
  const b = await peer();
  const proxy = await startLossyProxy({ a: { host: HOST, port: a.port }, b: { host: HOST, port: b.port }, ...opts });
  open.push(proxy);
  return { a, b, proxy };
}

function send(from: Peer, port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => from.socket.send(text, port, HOST, (err) => (err ? reject(err) : resolve())));
}

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends datagrams one by one, each after the proxy received the previous one (keeps order). */
async function sendAll(from: Peer, port: number, texts: string[], received: () => number): Promise<void> {
  for (const t of texts) {
    const before = received();
    await send(from, port, t);
    await waitFor(() => received() > before);
  }
}

afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

const range = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i}`);

describe('lossy proxy', () => {
  it('relays both ways, each side seeing the other proxy socket as the source', async () => {
    const { a, b, proxy } = await setup({});
    await send(a, proxy.pA.port, 'hello b');
    await send(b, proxy.pB.port, 'hello a');
    await waitFor(() => a.got.length === 1 && b.got.length === 1);
    expect(b.got.map((r) => [r.text, r.fromPort])).toEqual([['hello b', proxy.pB.port]]);
    expect(a.got.map((r) => [r.text, r.fromPort])).toEqual([['hello a', proxy.pA.port]]);
    expect(proxy.pA.host).toBe(HOST);
    expect(proxy.stats.aToB).toEqual({ received: 1, forwarded: 1, dropped: 0, duplicated: 0, reordered: 0 });
    expect(proxy.stats.bToA).toEqual({ received: 1, forwarded: 1, dropped: 0, duplicated: 0, reordered: 0 });
  });

  it('drops everything with drop = 1', async () => {
    const { a, b, proxy } = await setup({ drop: 1 });
    await sendAll(a, proxy.pA.port, range(20), () => proxy.stats.aToB.received);
    await sleep(30);
    expect(b.got.length).toBe(0);
    expect(proxy.stats.aToB).toEqual({ received: 20, forwarded: 0, dropped: 20, duplicated: 0, reordered: 0 });
  });

  it('doubles everything with duplicate = 1', async () => {
    const { a, b, proxy } = await setup({ duplicate: 1 });
    await sendAll(a, proxy.pA.port, range(20), () => proxy.stats.aToB.received);
    await waitFor(() => b.got.length === 40);
    expect(b.got.map((r) => r.text)).toEqual(range(20).flatMap((t) => [t, t]));
    expect(proxy.stats.aToB).toEqual({ received: 20, forwarded: 40, dropped: 0, duplicated: 20, reordered: 0 });
  });

  it('makes exactly the decisions of its seeded PRNG (four draws per datagram)', async () => {
    const seed = 1234;
    const { a, b, proxy } = await setup({ drop: 0.3, duplicate: 0.2, seed });
    const texts = range(100);
    const expectAtB: string[] = [];
    const expectAtA: string[] = [];
    const rngAB = mulberry32(seed);
    const rngBA = mulberry32(seed ^ 0x9e3779b9);
    let [dropped, duplicated] = [0, 0];
    for (const t of texts) {
      const [rDrop, rDup] = [rngAB(), rngAB(), rngAB(), rngAB()];
      if (rDrop! < 0.3) dropped++;
      else if (rDup! < 0.2) {
        duplicated++;
        expectAtB.push(t, t);
      } else expectAtB.push(t);
      const [sDrop, sDup] = [rngBA(), rngBA(), rngBA(), rngBA()];
      if (sDrop! >= 0.3) expectAtA.push(...(sDup! < 0.2 ? [t, t] : [t]));
    }
    await sendAll(a, proxy.pA.port, texts, () => proxy.stats.aToB.received);
    await sendAll(b, proxy.pB.port, texts, () => proxy.stats.bToA.received);
    await waitFor(() => b.got.length === expectAtB.length && a.got.length === expectAtA.length);
    await sleep(20);
    expect(b.got.map((r) => r.text)).toEqual(expectAtB);
    expect(a.got.map((r) => r.text)).toEqual(expectAtA);
    expect(proxy.stats.aToB).toEqual({ received: 100, forwarded: 100 - dropped + duplicated, dropped, duplicated, reordered: 0 });
    expect(dropped).toBe(20);
    expect(duplicated).toBe(16);
  });

  it('reorders: holds a datagram until the next one passes (or the hold time ends)', async () => {
    const { a, b, proxy } = await setup({ reorder: 1, holdMs: 500 });
    await sendAll(a, proxy.pA.port, ['1', '2', '3', '4', '5'], () => proxy.stats.aToB.received);
    await waitFor(() => b.got.length === 4);
    expect(b.got.map((r) => r.text)).toEqual(['2', '1', '4', '3']);
    await waitFor(() => b.got.length === 5);
    expect(b.got[4]!.text).toBe('5');
    expect(proxy.stats.aToB).toEqual({ received: 5, forwarded: 5, dropped: 0, duplicated: 0, reordered: 3 });
  });

  it('delays by delayMs', async () => {
    const { a, b, proxy } = await setup({ delayMs: 80 });
    const t0 = performance.now();
    await send(a, proxy.pA.port, 'late');
    await sleep(40);
    expect(b.got.length).toBe(0);
    await waitFor(() => b.got.length === 1);
    expect(b.got[0]!.atMs - t0).toBeGreaterThanOrEqual(75);
  });

  it('changes rates at run time', async () => {
    const { a, b, proxy } = await setup({ drop: 1 });
    await sendAll(a, proxy.pA.port, ['x1', 'x2'], () => proxy.stats.aToB.received);
    proxy.setRates({ drop: 0, duplicate: 1 });
    await sendAll(a, proxy.pA.port, ['y1'], () => proxy.stats.aToB.received);
    await waitFor(() => b.got.length === 2);
    expect(b.got.map((r) => r.text)).toEqual(['y1', 'y1']);
    expect(proxy.stats.aToB).toEqual({ received: 3, forwarded: 2, dropped: 2, duplicated: 1, reordered: 0 });
  });

  it('closes idempotently, discarding held datagrams', async () => {
    const { a, b, proxy } = await setup({ reorder: 1, holdMs: 20 });
    await sendAll(a, proxy.pA.port, ['held'], () => proxy.stats.aToB.received);
    await proxy.close();
    await proxy.close();
    await sleep(40);
    expect(b.got.length).toBe(0);
  });
});
