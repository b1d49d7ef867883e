import { connect, type ControlClient, type SubscribedMessage } from '../../src/control/client';
import { KEY_A, KEY_B } from './fake-node';
import { RawSocket, sleep, startHarness, type Harness } from './helpers';

let h: Harness;
let client: ControlClient;
beforeEach(async () => {
  h = await startHarness({ subscriberBufferMessages: 50 });
  client = await connect({ home: h.dir });
  await client.addPeer({ endpoint: '127.0.0.1:12000', key: KEY_A, name: 'alice' });
  await client.addPeer({ endpoint: '127.0.0.2:12000', key: KEY_B });
});
afterEach(async () => {
  client.close();
  await h.cleanup();
});

async function take(it: AsyncIterator<SubscribedMessage>, n: number): Promise<SubscribedMessage[]> {
  const out: SubscribedMessage[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('subscribe', () => {
  test('message fields: exact bytes as base64, text only for valid UTF-8, ISO time, flags', async () => {
    const sub = client.subscribe();
    await sub.ready();
    h.node.receive(KEY_A, 'hello ✓', { name: 'alice', reliable: true });
    const binary = new Uint8Array([0xff, 0x00, 0xc3, 0x28, 0x80]);
    h.node.receive(KEY_B, binary, { encrypted: false, addr: '[::1]:5' });
    const [a, b] = await take(sub, 2);
    expect(a).toEqual({
      type: 'message',
      peer: KEY_A,
      name: 'alice',
      addr: '127.0.0.1:12000',
      size: Buffer.byteLength('hello ✓'),
      base64: Buffer.from('hello ✓').toString('base64'),
      text: 'hello ✓',
      receivedAt: '2030-01-02T03:04:05.678Z',
      reliable: true,
      encrypted: true,
      data: new Uint8Array(Buffer.from('hello ✓')),
    });
    expect(b).not.toHaveProperty('text');
    expect(b).not.toHaveProperty('name');
    expect(Buffer.from(b!.base64, 'base64').equals(Buffer.from(binary))).toBe(true);
    expect(b).toMatchObject({ size: 5, encrypted: false, addr: '[::1]:5', reliable: false });
    sub.close();
  });

  test('fan-out: every subscriber gets every message; the filter selects by name, key or address', async () => {
    const all1 = client.subscribe();
    const all2 = client.subscribe();
    const byName = client.subscribe({ peer: 'alice' });
    const byKey = client.subscribe({ peer: KEY_B });
    const byEndpoint = client.subscribe({ peer: '127.0.0.2:12000' });
    await Promise.all([all1.ready(), all2.ready(), byName.ready(), byKey.ready(), byEndpoint.ready()]);
    expect((await client.status()).subscribers).toBe(5);
    for (let i = 0; i < 10; i++) h.node.receive(i % 2 ? KEY_B : KEY_A, `m${i}`, i % 2 ? { addr: '10.0.0.9:1' } : { name: 'alice' });
    const texts = async (s: AsyncIterator<SubscribedMessage>, n: number): Promise<string[]> => (await take(s, n)).map((m) => m.text!);
    expect(await texts(all1, 10)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    expect(await texts(all2, 10)).toHaveLength(10);
    expect(await texts(byName, 5)).toEqual(['m0', 'm2', 'm4', 'm6', 'm8']);
    expect(await texts(byKey, 5)).toEqual(['m1', 'm3', 'm5', 'm7', 'm9']);
    expect(await texts(byEndpoint, 5)).toEqual(['m1', 'm3', 'm5', 'm7', 'm9']);
  });

  test('an unknown peer filter is refused', async () => {
    const sub = client.subscribe({ peer: 'nobody' });
    await expect(sub.ready()).rejects.toMatchObject({ code: 'ERR_UNKNOWN_PEER', message: expect.stringContaining('unknown peer "nobody"') });
    await expect(sub.next()).rejects.toMatchObject({ code: 'ERR_UNKNOWN_PEER' });
    expect(await sub.next()).toEqual({ value: undefined, done: true });
  });

  test('a slow subscriber is bounded, told what it lost, and stalls neither the daemon nor other subscribers', async () => {
    const fast = client.subscribe({ highWaterMark: 100_000 });
    await fast.ready();
    const slow = await RawSocket.connect(h.sock);
    slow.request({ v: 1, id: 'S', op: 'subscribe' });
    await slow.waitLines(1);
    slow.socket.pause(); // stops reading: the kernel buffers fill, then the daemon's bounded buffer

    const payload = 'x'.repeat(16 * 1024);
    const total = 2000; // ~33 MB of lines: far more than socket buffers + 50 messages
    const got: SubscribedMessage[] = [];
    for (let i = 0; i < total; i += 20) {
      const t0 = Date.now();
      for (let j = i; j < i + 20; j++) h.node.receive(KEY_A, `${j}:${payload}`);
      // The node's emit never waits for a subscriber (a blocking emit would never return while the
      // slow one is paused); the bound only catches a pathological cost, with room for a loaded machine.
      expect(Date.now() - t0).toBeLessThan(5000);
      got.push(...(await take(fast, 20))); // the fast subscriber keeps up while the slow one is stuck
    }
    expect(got.map((m) => Number(m.text!.split(':')[0]))).toEqual([...Array(total).keys()]);
    expect(fast.lost).toBe(0);

    slow.socket.resume();
    await sleep(300);
    await slow.waitLines(2);
    const events = slow.lines.slice(1);
    const msgs = events.filter((e) => e.type === 'message');
    const lost = events.filter((e) => e.type === 'lost');
    expect(lost).toHaveLength(1);
    expect((lost[0] as { count: number }).count).toBe(total - msgs.length);
    expect(msgs.length).toBeLessThan(total);
    expect(msgs.length).toBeGreaterThanOrEqual(50);
    // What arrived is in order and complete up to the drop point, then the lost notice.
    const ids = msgs.map((m) => Number((m.text as string).split(':')[0]));
    expect(ids).toEqual([...Array(msgs.length).keys()]);
    expect(events.indexOf(lost[0]!)).toBe(msgs.length);

    // After catching up, it receives new messages again.
    h.node.receive(KEY_A, 'after');
    await slow.waitLines(msgs.length + 3);
    expect(slow.lines.at(-1)).toMatchObject({ id: 'S', type: 'message', text: 'after' });
    slow.close();
  });

  test('the client iterator pauses its socket when the consumer is slow, and reports loss via onLost', async () => {
    let lostSeen = 0;
    const sub = client.subscribe({ highWaterMark: 10, onLost: (n) => (lostSeen += n) });
    await sub.ready();
    const payload = 'y'.repeat(32 * 1024);
    for (let i = 0; i < 1500; i++) h.node.receive(KEY_A, payload);
    await sleep(200);
    h.node.receive(KEY_A, 'last');
    let got = 0;
    for await (const m of sub) {
      if (m.text === 'last') break;
      got++;
    }
    // Whatever was not delivered was reported as lost, before the later message.
    expect(lostSeen).toBeGreaterThan(0);
    expect(got + lostSeen).toBe(1500);
    expect(sub.lost).toBe(lostSeen);
  });

  test('unsubscribe on a raw connection', async () => {
    const raw = await RawSocket.connect(h.sock);
    raw.request({ v: 1, id: 1, op: 'subscribe' });
    raw.request({ v: 1, id: 1, op: 'subscribe' });
    await raw.waitLines(2);
    expect(raw.lines[1]).toMatchObject({ id: 1, ok: false, error: { code: 'ERR_BAD_REQUEST' } });
    raw.request({ v: 1, id: 2, op: 'unsubscribe', subscription: 1 });
    raw.request({ v: 1, id: 3, op: 'unsubscribe', subscription: 1 });
    await raw.waitLines(5);
    expect(raw.lines.slice(2)).toEqual([
      { v: 1, id: 1, type: 'end', reason: 'unsubscribed' },
      { v: 1, id: 2, ok: true, result: {} },
      expect.objectContaining({ id: 3, ok: false }),
    ]);
    h.node.receive(KEY_A, 'nobody listens');
    await sleep(50);
    expect(raw.lines).toHaveLength(5);
    raw.close();
  });
});
