/**
 * The control socket's bounds (issue 10, deliverable 5): maxControlConnections,
 * maxSubscriptionsPerConnection and subscriberBufferBytes — what each refuses, with which code,
 * what a buffered message is charged, and that a reload applies them at once.
 */
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/runtime/log';
import { DEFAULT_SETTINGS } from '../../src/config/schema';
import { streamLine } from '../../src/control/protocol';
import { QUEUE_ENTRY_BYTES, Subscriber, type LineSink } from '../../src/control/subscriber';
import { KEY_A } from './fake-node';
import { RawSocket, startHarness, type Harness } from './helpers';

class Sink implements LineSink {
  lines: string[] = [];
  blocked = false;
  closed = false;
  /** Lines accepted before the sink blocks again (null: unlimited). */
  budget: number | null = null;
  write(line: string): boolean {
    this.lines.push(line);
    if (this.budget !== null && --this.budget <= 0) this.blocked = true;
    return !this.blocked;
  }
}

const parse = (l: string): Record<string, unknown> => JSON.parse(l) as Record<string, unknown>;
const body = (text: string): string => JSON.stringify({ type: 'message', peer: KEY_A, base64: Buffer.from(text).toString('base64'), text });
/** What one buffered line is charged: its UTF-8 bytes as written, plus the queue slot. */
const charge = (id: number | string, b: string): number => Buffer.byteLength(streamLine(id, b)) + QUEUE_ENTRY_BYTES;

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('subscriber buffer in bytes', () => {
  test('a buffered message is charged the UTF-8 bytes of its whole line, not its payload', () => {
    const sink = new Sink();
    sink.blocked = true;
    const b = body('€'.repeat(100)); // 300 payload bytes; the line carries them as base64 and as text
    const one = charge('sub-1', b);
    expect(one).toBe(Buffer.byteLength(`{"v":1,"id":"sub-1",${b.slice(1)}\n`) + 40);
    expect(one).toBeGreaterThan(400 + 300); // 300 payload bytes: base64 (400) + text (300 UTF-8 bytes) + fields
    const s = new Subscriber('sub-1', null, sink, () => true, { messages: 1000, bytes: 3 * one });
    for (let i = 0; i < 5; i++) s.push(b);
    expect([s.queued, s.queuedBytes, s.lostTotal]).toEqual([3, 3 * one, 2]);
    // One byte less and only two fit.
    const t = new Subscriber('sub-1', null, sink, () => true, { messages: 1000, bytes: 3 * one - 1 });
    for (let i = 0; i < 5; i++) t.push(b);
    expect([t.queued, t.queuedBytes, t.lostTotal]).toEqual([2, 2 * one, 3]);
  });

  test('the bytes given by the fan-out are used as the body length (computed once for all subscribers)', () => {
    const sink = new Sink();
    sink.blocked = true;
    const b = body('x');
    const s = new Subscriber(1, null, sink, () => true, { messages: 10, bytes: 1 << 20 });
    s.push(b, 1000);
    expect(s.queuedBytes).toBe(Buffer.byteLength(streamLine(1, '{')) - 1 + 1000 + QUEUE_ENTRY_BYTES);
  });

  test('the loss is reported where it happened: before the first message kept after it', () => {
    const sink = new Sink();
    sink.blocked = true;
    const s = new Subscriber(9, null, sink, () => true, { messages: 2, bytes: 1 << 20 });
    for (const t of ['a', 'b', 'c', 'd', 'e']) s.push(body(t)); // a, b kept; c, d, e lost
    sink.blocked = false;
    sink.budget = 1; // the socket takes one line, then pushes back again
    s.flush();
    s.push(body('f')); // room for one: behind the notice of c, d, e
    s.push(body('g')); // no room: lost
    sink.budget = null;
    sink.blocked = false;
    s.flush();
    expect(sink.lines.map(parse).map((l) => (l.type === 'lost' ? `lost ${String(l.count)}` : l.text))).toEqual(['a', 'b', 'lost 3', 'f', 'lost 1']);
    expect(s.lostTotal).toBe(4);
  });

  test('setLimits applies to what is buffered from then on', () => {
    const sink = new Sink();
    sink.blocked = true;
    const b = body('y'.repeat(50));
    const s = new Subscriber(1, null, sink, () => true, { messages: 100, bytes: 1 << 20 });
    for (let i = 0; i < 4; i++) s.push(b);
    s.setLimits({ messages: 100, bytes: 5 * charge(1, b) });
    for (let i = 0; i < 4; i++) s.push(b);
    expect([s.queued, s.lostTotal]).toEqual([5, 3]);
    s.setLimits({ messages: 2, bytes: 1 << 20 });
    s.push(b);
    expect([s.queued, s.lostTotal]).toEqual([5, 4]);
  });
});

describe('control server bounds', () => {
  let h: Harness | null = null;
  const raws: RawSocket[] = [];
  afterEach(async () => {
    for (const r of raws.splice(0)) r.close();
    await h?.cleanup();
    h = null;
  });
  const open = async (hh: Harness): Promise<RawSocket> => {
    const r = await RawSocket.connect(hh.sock);
    raws.push(r);
    return r;
  };

  test('the defaults are the schema\'s', async () => {
    h = await startHarness();
    expect(h.server.settings).toEqual({
      maxMessageBytes: 1024 * 1024,
      subscriberBufferMessages: 10_000,
      subscriberBufferBytes: DEFAULT_SETTINGS.subscriberBufferBytes,
      maxSubscriptionsPerConnection: DEFAULT_SETTINGS.maxSubscriptionsPerConnection,
      maxControlConnections: DEFAULT_SETTINGS.maxControlConnections,
    });
    expect([DEFAULT_SETTINGS.subscriberBufferBytes, DEFAULT_SETTINGS.maxSubscriptionsPerConnection, DEFAULT_SETTINGS.maxControlConnections]).toEqual([16 * 1024 * 1024, 16, 64]);
  });

  test('a connection beyond maxControlConnections gets ERR_TOO_MANY_CONNECTIONS and is closed; a freed slot is served again; one warn line per episode', async () => {
    const out = new PassThrough();
    let log = '';
    out.on('data', (c: Buffer) => (log += c.toString()));
    h = await startHarness({ maxControlConnections: 2, logger: createLogger('info', out) });
    const hh = h;
    const [a] = [await open(hh), await open(hh)];
    await until(() => hh.server.connections === 2, '2 connections');
    const refused: RawSocket[] = [];
    for (let i = 0; i < 5; i++) refused.push(await open(hh));
    for (const r of refused) await r.waitClosed();
    for (const r of refused) {
      expect(r.lines).toEqual([
        {
          v: 1,
          id: null,
          ok: false,
          error: { code: 'ERR_TOO_MANY_CONNECTIONS', kind: 'error', message: 'the daemon serves at most 2 control connections at once (setting maxControlConnections); close one and retry' },
        },
      ]);
    }
    expect(hh.server.connections).toBe(2);
    const warns = log.split('\n').filter((l) => l.includes('control connections at the limit'));
    expect(warns.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 40, connections: 2, maxControlConnections: 2 }),
    ]);

    a!.close();
    await until(() => hh.server.connections === 1, 'a closed connection to be forgotten');
    const again = await open(hh);
    again.request({ v: 1, id: 1, op: 'id' });
    await again.waitLines(1);
    expect(again.lines[0]).toMatchObject({ id: 1, ok: true });
    expect(hh.server.connections).toBe(2);
  });

  test('maxControlConnections is live on reload: raised, more are served; lowered, those open stay and new ones are refused', async () => {
    h = await startHarness({ maxControlConnections: 1 });
    const hh = h;
    const first = await open(hh);
    const second = await open(hh);
    await second.waitClosed();
    hh.server.updateSettings({ ...hh.server.settings, maxControlConnections: 3 });
    const [b, c] = [await open(hh), await open(hh)];
    for (const [i, r] of [first, b, c].entries()) r.request({ v: 1, id: i, op: 'id' });
    for (const r of [first, b, c]) await r.waitLines(1);
    expect([first, b, c].map((r) => r.lines[0]!.ok)).toEqual([true, true, true]);
    hh.server.updateSettings({ ...hh.server.settings, maxControlConnections: 1 });
    const d = await open(hh);
    await d.waitClosed();
    expect(d.lines[0]).toMatchObject({ ok: false, error: { code: 'ERR_TOO_MANY_CONNECTIONS' } });
    expect(hh.server.connections).toBe(3);
    c.request({ v: 1, id: 9, op: 'id' });
    await c.waitLines(2);
    expect(c.lines[1]).toMatchObject({ id: 9, ok: true });
  });

  test('a subscription beyond maxSubscriptionsPerConnection gets ERR_TOO_MANY_SUBSCRIPTIONS; the connection and the others go on', async () => {
    h = await startHarness({ maxSubscriptionsPerConnection: 3 });
    const hh = h;
    const raw = await open(hh);
    for (let i = 1; i <= 5; i++) raw.request({ v: 1, id: i, op: 'subscribe' });
    await raw.waitLines(5);
    expect(raw.lines.slice(0, 3)).toEqual([1, 2, 3].map((id) => ({ v: 1, id, ok: true, result: { peer: null, backlog: false } })));
    const refusal = {
      code: 'ERR_TOO_MANY_SUBSCRIPTIONS',
      kind: 'error',
      message: 'this connection holds 3 subscriptions, the most allowed (setting maxSubscriptionsPerConnection = 3); unsubscribe one or use another connection',
    };
    expect(raw.lines.slice(3)).toEqual([4, 5].map((id) => ({ v: 1, id, ok: false, error: refusal })));
    expect(hh.server.subscribers).toBe(3);

    // Another connection has its own allowance; the subscriptions of the first still receive.
    const other = await open(hh);
    other.request({ v: 1, id: 'x', op: 'subscribe' });
    await other.waitLines(1);
    expect(other.lines[0]).toMatchObject({ id: 'x', ok: true });
    hh.node.receive(KEY_A, 'hello');
    await raw.waitLines(8);
    expect(raw.lines.slice(5).map((l) => [l.id, l.type, l.text])).toEqual([1, 2, 3].map((id) => [id, 'message', 'hello']));

    // Unsubscribing frees a slot.
    raw.request({ v: 1, id: 6, op: 'unsubscribe', subscription: 2 });
    raw.request({ v: 1, id: 7, op: 'subscribe' });
    await raw.waitLines(11);
    expect(raw.lines.slice(8)).toEqual([
      { v: 1, id: 2, type: 'end', reason: 'unsubscribed' },
      { v: 1, id: 6, ok: true, result: {} },
      { v: 1, id: 7, ok: true, result: { peer: null, backlog: false } },
    ]);
  });

  test('maxSubscriptionsPerConnection and subscriberBufferBytes are live on reload, for subscriptions open already', async () => {
    h = await startHarness({ maxSubscriptionsPerConnection: 1 });
    const hh = h;
    const raw = await open(hh);
    raw.request({ v: 1, id: 1, op: 'subscribe' });
    raw.request({ v: 1, id: 2, op: 'subscribe' });
    await raw.waitLines(2);
    expect(raw.lines[1]).toMatchObject({ id: 2, ok: false, error: { code: 'ERR_TOO_MANY_SUBSCRIPTIONS' } });
    hh.server.updateSettings({ ...hh.server.settings, maxSubscriptionsPerConnection: 2 });
    raw.request({ v: 1, id: 3, op: 'subscribe' });
    await raw.waitLines(3);
    expect(raw.lines[2]).toMatchObject({ id: 3, ok: true });

    // 100 messages of 64 KiB (~87 KiB lines, ~8.7 MB) to a subscriber that does not read: the
    // default 16 MiB holds them all; lowered to 1 MiB by the reload, most are lost.
    const slow = await open(hh);
    slow.request({ v: 1, id: 's', op: 'subscribe' });
    await slow.waitLines(1);
    slow.socket.pause();
    hh.server.updateSettings({ ...hh.server.settings, subscriberBufferBytes: 1024 * 1024 });
    const payload = 'z'.repeat(64 * 1024);
    for (let i = 0; i < 100; i++) hh.node.receive(KEY_A, payload);
    slow.socket.resume();
    const events = (): Record<string, unknown>[] => slow.lines.slice(1);
    const accounted = (): number => events().reduce((n, e) => n + (e.type === 'lost' ? (e.count as number) : 1), 0);
    await until(() => accounted() >= 100, 'every message delivered or counted as lost');
    const lost = events().filter((e) => e.type === 'lost');
    expect(lost).toHaveLength(1);
    const delivered = events().length - 1;
    expect(lost[0]!.count).toBe(100 - delivered);
    // 1 MiB holds 12 such lines; the rest of what arrived was in socket buffers when it blocked.
    expect(delivered).toBeLessThan(50);
  });
});
