/**
 * Flow control between whole nodes on the simulated network (issue 9, deliverable 2): the
 * receiver's inbox room is the credit it grants; a sender out of credit pauses without counting
 * loss or backing off, and resumes on the window update a reader's drain sends; a sender that
 * ignores the credit has the excess refused and counted; a send that never got credit fails
 * with ERR_FLOW_CONTROL, not "not acknowledged".
 */
import { SimWorld, messages, text, watch } from './harness';
import { nativeLinkOf } from '../node/internals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OpenTransport, Transport } from '../../src/net/transport';
import type { UdpVaultNode } from '../../src/node/types';

const A = '127.0.0.2';
const B = '127.0.0.3';
const C = '127.0.0.4';

const inboxOf = (n: UdpVaultNode): number => (n as unknown as { inboxSize: number }).inboxSize;

/** The sender-side figures of `node`'s link to `ref`. */
function senderFigures(node: UdpVaultNode, ref: string) {
  const link = nativeLinkOf(node, ref);
  const space = link.path.space;
  const sender = link.engine.reliable.senderOf(link)!;
  return {
    retransmissions: sender.retransmissions,
    lostPackets: space.loss.lostPackets,
    cwnd: space.cc.windowBytes,
    blocked: space.sendCredit.blocked,
    blockedEpisodes: space.sendCredit.blockedEpisodes,
    sentMessages: space.sendCredit.sentMessages,
    limits: space.sendCredit.limits,
    queued: sender.queued,
  };
}

describe('flow control between nodes', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(21);
    w.net.link(A, B, { latencyMs: 10 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('inbox full: the sender pauses (no retransmission, no loss, window untouched), then a reader drains and everything arrives once, in order', async () => {
    const a = await w.node(A);
    const b = await w.node(B, { settings: { inboxMaxMessages: 20 } });
    await w.pair(a, b);
    const body = (i: number): string => `m${i}:${'x'.repeat(1000)}`;
    const sends = Array.from({ length: 100 }, (_, i) => watch(a.send('b', body(i), { reliable: true, timeoutMs: 120_000 })));
    await w.scheduler.advance(2_000);
    expect(inboxOf(b)).toBe(20);
    expect(sends.filter((s) => s.state === 'resolved')).toHaveLength(20);
    const paused = senderFigures(a, 'b');
    // Exactly the granted 20 messages left; the other 80 wait, unsent.
    expect(paused).toMatchObject({ retransmissions: 0, lostPackets: 0, blocked: true, sentMessages: 20, limits: { maxMessages: 20 }, queued: 80 });
    await w.scheduler.advance(20_000); // a long stall: probes only, nothing counted as loss
    const later = senderFigures(a, 'b');
    // One stall: no new episode, nothing sent, nothing retransmitted or lost.
    expect(later).toMatchObject({ retransmissions: 0, lostPackets: 0, blocked: true, blockedEpisodes: paused.blockedEpisodes, sentMessages: 20, queued: 80 });
    expect(later.cwnd).toBe(paused.cwnd);
    expect(a.peers()[0]).toMatchObject({ flowBlocked: paused.blockedEpisodes, lostPackets: 0 }); // visible in peer list
    expect(b.status().counters.drops).toEqual({});
    expect(sends.filter((s) => s.state === 'resolved')).toHaveLength(20);

    const got = messages(b); // takes the inbox first, then what the window update lets in
    const t0 = w.clock.monotonic();
    expect(await w.scheduler.runUntil(() => got.length > 20, 5_000)).toBe(true);
    expect(w.clock.monotonic() - t0).toBeLessThan(100); // the window update went at once (not the 1 s probe)
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state === 'resolved'), 30_000)).toBe(true);
    expect(got.map(text)).toEqual(Array.from({ length: 100 }, (_, i) => body(i)));
    const end = senderFigures(a, 'b');
    expect(end).toMatchObject({ retransmissions: 0, lostPackets: 0, blocked: false, sentMessages: 100, queued: 0 });
    const recv = nativeLinkOf(b, 'a').path.space.recvCredit;
    expect([recv.receivedBytes, recv.receivedMessages]).toEqual([nativeLinkOf(a, 'b').path.space.sendCredit.sentBytes, 100]); // both sides counted the same
    expect(b.status().counters.messagesIn).toBe(100);
    expect(b.status().counters.drops).toEqual({});
  });

  test('a send that never got credit fails at its timeout with ERR_FLOW_CONTROL; one in flight keeps ERR_NOT_ACKNOWLEDGED semantics', async () => {
    const a = await w.node(A);
    const b = await w.node(B, { settings: { inboxMaxMessages: 2 } });
    await w.pair(a, b);
    // 16 messages use the initial credit: 2 reach the inbox, 14 wait unacknowledged at b.
    const first = Array.from({ length: 16 }, (_, i) => watch(a.send('b', `m${i}`, { reliable: true, timeoutMs: 60_000 })));
    await w.scheduler.advance(1_000);
    expect(first.filter((s) => s.state === 'resolved')).toHaveLength(2);
    const stalled = watch(a.send('b', 'late', { reliable: true, timeoutMs: 3_000 }));
    await w.scheduler.advance(2_900);
    expect(stalled.state).toBe('pending'); // waits its whole timeout, never fails early for lack of credit
    await w.scheduler.advance(200);
    expect(stalled.state).toBe('rejected');
    const err = stalled.error as { code: string; message: string; mayHaveSucceeded?: boolean };
    expect(err.code).toBe('ERR_FLOW_CONTROL');
    expect(err.message).toBe("reliable message to peer b: not sent within 3000 ms: the peer's inbox is full (it granted no flow-control credit); the message was not delivered");
    expect(senderFigures(a, 'b')).toMatchObject({ retransmissions: 0, lostPackets: 0, sentMessages: 16, queued: 0 });
    // Room again: the held messages and the next one arrive; the failed one was never sent.
    const got = messages(b);
    const next = watch(a.send('b', 'next', { reliable: true }));
    expect(await w.scheduler.runUntil(() => next.state === 'resolved' && first.every((s) => s.state === 'resolved'), 5_000)).toBe(true);
    expect(got.map(text)).toEqual([...Array.from({ length: 16 }, (_, i) => `m${i}`), 'next']);
  });

  test('a sender that ignores the credit: the excess is refused and counted (flowControl), then delivered once room is made', async () => {
    const a = await w.node(A);
    const b = await w.node(B, { settings: { inboxMaxMessages: 10 } });
    await w.pair(a, b);
    // Lie to a's sender: credit nobody granted (as a sender ignoring flow control would behave).
    nativeLinkOf(a, 'b').path.space.sendCredit.onCredit({ maxBytes: 2 ** 40, maxMessages: 2 ** 40 });
    const sends = Array.from({ length: 30 }, (_, i) => watch(a.send('b', `m${i}`, { reliable: true, timeoutMs: 120_000 })));
    await w.scheduler.advance(3_000);
    expect(inboxOf(b)).toBe(10);
    // b granted 16 messages (the initial credit): 10 went to the inbox, 6 wait unacknowledged in
    // its reassembly buffer; the other 14 went past the credit: refused, counted, not acknowledged.
    const link = nativeLinkOf(b, 'a');
    const recv = link.path.space.recvCredit;
    expect([recv.bufferedMessages, recv.advertised.maxMessages]).toEqual([6, 16]);
    const drops = b.status().counters.drops.flowControl ?? 0;
    expect(drops).toBeGreaterThanOrEqual(14); // every first transmission past the credit, plus backstop retransmissions
    expect(b.peers()[0]!.counters.drops.flowControl).toBe(drops);
    expect(recv.violations).toBe(drops);
    expect(sends.filter((s) => s.state === 'resolved')).toHaveLength(10);
    const got = messages(b);
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state === 'resolved'), 60_000)).toBe(true);
    expect(got.map(text)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
  });

  test('a credit stall whose window update is lost is recovered by the sender\'s probe', async () => {
    let dropAcks = false;
    const wrap = (open: OpenTransport): OpenTransport => async (o) => {
      const t = await open(o);
      const send = t.send.bind(t);
      // While set, b's small datagrams (acks) to a vanish.
      t.send = (d, port, address, family, cb) => (dropAcks && d.length < 200 ? (cb?.(null), true) : send(d, port, address, family, cb));
      return t;
    };
    const a = await w.node(A);
    const b = await w.node(B, { settings: { inboxMaxMessages: 4 } }, wrap);
    await w.pair(a, b);
    const sends = Array.from({ length: 8 }, (_, i) => watch(a.send('b', `m${i}`, { reliable: true, timeoutMs: 60_000 })));
    await w.scheduler.advance(1_000);
    // 16 messages of initial credit: all 8 left; 4 in the inbox, 4 held unacknowledged.
    expect(sends.filter((s) => s.state === 'resolved')).toHaveLength(4);
    const more = Array.from({ length: 4 }, (_, i) => watch(a.send('b', `n${i}`, { reliable: true, timeoutMs: 60_000 })));
    await w.scheduler.advance(1_000);
    dropAcks = true;
    const got = messages(b); // drains: delivery acks and the window update are lost
    await w.scheduler.advance(50);
    dropAcks = false;
    expect(await w.scheduler.runUntil(() => [...sends, ...more].every((s) => s.state === 'resolved'), 10_000)).toBe(true);
    expect(got.map(text)).toEqual([...Array.from({ length: 8 }, (_, i) => `m${i}`), ...Array.from({ length: 4 }, (_, i) => `n${i}`)]);
  });

  test('the receiver restarts (home) while its acks are lost: afterwards both sides count the same credit, nothing stalls', async () => {
    const homeB = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-flow-b-'));
    try {
      let mute = false;
      const muting = (open: OpenTransport): OpenTransport => async (o) => {
        const t: Transport = await open(o);
        const send = t.send.bind(t);
        t.send = (d, port, address, family, cb) => (mute ? (cb?.(null), true) : send(d, port, address, family, cb));
        return t;
      };
      const a = await w.node(A);
      let b = await w.node(B, { home: homeB }, muting);
      await w.pair(a, b);
      messages(b);
      const first = Array.from({ length: 40 }, (_, i) => watch(a.send('b', `m${i}:${'y'.repeat(3000)}`, { reliable: true, timeoutMs: 120_000 })));
      await w.scheduler.advance(15);
      mute = true; // b delivers, but a hears nothing more
      await w.scheduler.advance(500);
      await w.close(b);
      mute = false;
      b = await w.node(B, { home: homeB }, muting);
      const got = messages(b);
      const more = Array.from({ length: 40 }, (_, i) => watch(a.send('b', `n${i}`, { reliable: true, timeoutMs: 120_000 })));
      expect(await w.scheduler.runUntil(() => [...first, ...more].every((s) => s.state === 'resolved'), 60_000)).toBe(true);
      expect(got.map(text).slice(-40)).toEqual(Array.from({ length: 40 }, (_, i) => `n${i}`));
      const sent = nativeLinkOf(a, 'b').path.space.sendCredit;
      const recv = nativeLinkOf(b, 'a').path.space.recvCredit;
      expect([sent.sentBytes, sent.sentMessages]).toEqual([recv.receivedBytes, recv.receivedMessages]);
      // (a packet of the old session may arrive after the restart: unknownSession, timing-dependent)
      expect(b.status().counters.drops.flowControl ?? 0).toBe(0);
    } finally {
      await w.closeAll();
      fs.rmSync(homeB, { recursive: true, force: true });
    }
  });

  test('two senders share an inbox without a reader: each gets about half, neither is starved', async () => {
    w.net.link(C, B, { latencyMs: 10 });
    const a = await w.node(A);
    const c = await w.node(C);
    const b = await w.node(B, { settings: { inboxMaxMessages: 40 } });
    await w.pair(a, b, ['b', 'a']);
    await w.pair(c, b, ['b', 'c']);
    const fromA = Array.from({ length: 60 }, (_, i) => watch(a.send('b', `a${i}`, { reliable: true, timeoutMs: 120_000 })));
    const fromC = Array.from({ length: 60 }, (_, i) => watch(c.send('b', `c${i}`, { reliable: true, timeoutMs: 120_000 })));
    await w.scheduler.advance(3_000);
    const inbox = (b as unknown as { inboxMessages(): { name?: string }[] }).inboxMessages();
    const perPeer = { a: inbox.filter((m) => m.name === 'a').length, c: inbox.filter((m) => m.name === 'c').length };
    // Each is held near half (⌈40 ÷ 2⌉ = 20): a's first grants were computed a moment before c's
    // data arrived, so it is a few ahead; neither is starved below the initial 16.
    expect(perPeer.a + perPeer.c).toBe(40);
    expect(Math.min(perPeer.a, perPeer.c)).toBeGreaterThanOrEqual(16);
    expect(Math.max(perPeer.a, perPeer.c)).toBeLessThanOrEqual(24);
    expect(b.status().counters.drops).toEqual({});
    const got = messages(b);
    expect(await w.scheduler.runUntil(() => [...fromA, ...fromC].every((s) => s.state === 'resolved'), 60_000)).toBe(true);
    expect(got.filter((m) => m.name === 'a').map(text)).toEqual(Array.from({ length: 60 }, (_, i) => `a${i}`));
    expect(got.filter((m) => m.name === 'c').map(text)).toEqual(Array.from({ length: 60 }, (_, i) => `c${i}`));
  });
});
