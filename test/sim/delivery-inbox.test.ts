/**
 * The inbox and acknowledgements you can trust (issue 9, deliverable 2), on the simulated
 * network with a manual clock: a reliable message is acknowledged only once a reader or the
 * inbox took it; with the inbox full it is held unacknowledged until room is made; datagram
 * messages that do not fit are dropped and counted.
 */
import { SimWorld, messages, text, watch } from './harness';
import type { MessageEvent, UdpVaultNode } from '../../src/node/types';

const A = '127.0.0.2';
const B = '127.0.0.3';

/** Reads `n` messages from an iterator (they must be there already or arrive while the sim runs). */
async function take(w: SimWorld, it: AsyncIterableIterator<MessageEvent>, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const next = it.next();
    const st = watch(next);
    await w.scheduler.runUntil(() => st.state !== 'pending', 5_000);
    const r = await next;
    if (r.done) break;
    out.push(text(r.value));
  }
  return out;
}

/** Runs the simulation until `p` settled (a reliable send resolves on its acknowledgement). */
async function settle(w: SimWorld, p: Promise<void>): Promise<void> {
  const st = watch(p);
  expect(await w.scheduler.runUntil(() => st.state !== 'pending', 5_000)).toBe(true);
  await p;
}

const inboxOf = (n: UdpVaultNode): number => (n as unknown as { inboxSize: number }).inboxSize;

describe('inbox and acknowledgement after the inbox', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(9);
    w.net.link(A, B, { latencyMs: 10 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('34 reliable messages to a node without a reader are kept, acknowledged, and read later in order', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    const sends = Array.from({ length: 34 }, (_, i) => watch(a.send('b', `m${i}`, { reliable: true })));
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state === 'resolved'), 5_000)).toBe(true);
    expect(inboxOf(b)).toBe(34);
    expect(b.status().counters.messagesIn).toBe(34);
    const it = b.messages();
    expect(await take(w, it, 34)).toEqual(Array.from({ length: 34 }, (_, i) => `m${i}`));
    expect(inboxOf(b)).toBe(0);
    await settle(w, a.send('b', 'after', { reliable: true }));
    expect(await take(w, it, 1)).toEqual(['after']);
    expect(b.status().counters.drops).toEqual({});
  });

  test('inbox full: further reliable messages are held unacknowledged, then delivered and acknowledged once a reader attaches', async () => {
    const a = await w.node(A);
    const b = await w.node(B, { settings: { inboxMaxMessages: 5 } });
    await w.pair(a, b);
    const sends = Array.from({ length: 8 }, (_, i) => watch(a.send('b', `m${i}`, { reliable: true, timeoutMs: 60_000 })));
    await w.scheduler.advance(2_000);
    expect(sends.map((s) => s.state)).toEqual(['resolved', 'resolved', 'resolved', 'resolved', 'resolved', 'pending', 'pending', 'pending']);
    expect(inboxOf(b)).toBe(5);
    expect(b.status().counters.messagesIn).toBe(5);
    const got = messages(b); // a listener takes the inbox first, then the held messages
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state === 'resolved'), 5_000)).toBe(true);
    expect(got.map(text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect(b.status().counters.messagesIn).toBe(8);
    expect(b.status().counters.drops).toEqual({});
  });

  test('takeInbox() then attachReader() in the same turn (subscribe --backlog): the held messages follow the backlog to that reader, none stay behind', async () => {
    const a = await w.node(A);
    const b = await w.node(B, { settings: { inboxMaxMessages: 3 } });
    await w.pair(a, b);
    const sends = Array.from({ length: 5 }, (_, i) => watch(a.send('b', `m${i}`, { reliable: true, timeoutMs: 60_000 })));
    await w.scheduler.advance(1_000);
    expect(sends.filter((x) => x.state === 'resolved')).toHaveLength(3);
    const node = b as unknown as { takeInbox(): { data: Uint8Array }[]; attachReader(r: (ev: { data: Uint8Array }) => void): () => void };
    const seen = node.takeInbox().map((m) => new TextDecoder().decode(m.data));
    node.attachReader((ev) => seen.push(new TextDecoder().decode(ev.data)));
    expect(await w.scheduler.runUntil(() => sends.every((x) => x.state === 'resolved'), 5_000)).toBe(true);
    expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(inboxOf(b)).toBe(0);
  });

  test('the receive credit offered to the sender is the inbox room while no reader is attached', async () => {
    const a = await w.node(A);
    const b = await w.node(B, { settings: { inboxMaxMessages: 5, inboxMaxBytes: 4 * 1024 * 1024, maxMessageBytes: 1024 * 1024 } });
    await w.pair(a, b);
    const ctx = (b as unknown as { context: { receiveCredit(p: unknown): { bytes: number; messages: number }; peers: { find(r: string): unknown } } }).context;
    const peerA = ctx.peers.find('a');
    expect(ctx.receiveCredit(peerA)).toEqual({ bytes: 4 * 1024 * 1024, messages: 5 });
    await settle(w, a.send('b', 'abc', { reliable: true }));
    expect(ctx.receiveCredit(peerA)).toEqual({ bytes: 4 * 1024 * 1024 - 3, messages: 4 });
    // Another peer's share: the inbox divided between the two (⌈5 ÷ 2⌉ = 3 messages, 2 MiB).
    expect(ctx.receiveCredit(null)).toEqual({ bytes: 2 * 1024 * 1024, messages: 3 });
    b.messages();
    expect(ctx.receiveCredit(peerA)).toEqual({ bytes: 4 * 1024 * 1024, messages: 5 }); // a reader: the whole budget
  });

  test('datagram-mode messages that do not fit the inbox are dropped and counted as inboxFull', async () => {
    const a = await w.node(A);
    const b = await w.node(B, { settings: { inboxMaxMessages: 3 } });
    await w.pair(a, b);
    for (let i = 0; i < 5; i++) await a.send('b', `d${i}`);
    await w.scheduler.advance(100);
    expect(inboxOf(b)).toBe(3);
    expect(b.status().counters.drops).toEqual({ inboxFull: 2 });
    expect(b.peers()[0]!.counters.drops).toEqual({ inboxFull: 2 });
    expect(b.status().counters.messagesIn).toBe(3);
    expect(await take(w, b.messages(), 3)).toEqual(['d0', 'd1', 'd2']);
  });

  test('messages({ backlog: false }) leaves the inbox for a later reader', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    await settle(w, a.send('b', 'old', { reliable: true }));
    const live = b.messages({ backlog: false });
    await settle(w, a.send('b', 'new', { reliable: true }));
    expect(await take(w, live, 1)).toEqual(['new']);
    expect(inboxOf(b)).toBe(1);
    await live.return!();
    expect(await take(w, b.messages(), 1)).toEqual(['old']);
  });

  test('a reliable message the receiver cannot decompress within its maxMessageBytes is never acknowledged', async () => {
    const a = await w.node(A, { settings: { maxMessageBytes: 2 * 1024 * 1024, inboxMaxBytes: 4 * 1024 * 1024, subscriberBufferBytes: 4 * 1024 * 1024, reassemblyPeerBytes: 4 * 1024 * 1024 } });
    const b = await w.node(B, { settings: { maxMessageBytes: 1024 * 1024 } });
    await w.pair(a, b);
    const got = messages(b);
    const big = watch(a.send('b', new Uint8Array(2 * 1024 * 1024), { reliable: true, timeoutMs: 3_000 })); // zeros: compresses to a few KiB
    const next = watch(a.send('b', 'next', { reliable: true, timeoutMs: 10_000 }));
    expect(await w.scheduler.runUntil(() => big.state !== 'pending', 10_000)).toBe(true);
    expect(big.state).toBe('rejected');
    expect((big.error as { code: string }).code).toBe('ERR_NOT_ACKNOWLEDGED');
    expect(await w.scheduler.runUntil(() => next.state !== 'pending', 10_000)).toBe(true);
    expect(next.state).toBe('resolved');
    expect(got.map(text)).toEqual(['next']);
    const drops = b.status().counters.drops;
    expect(drops.tooLarge ?? 0).toBeGreaterThanOrEqual(1); // once per (re)transmission that completed the message
    expect(Object.keys(drops)).toEqual(['tooLarge']); // not misreported as a rate limit
  });
});
