/**
 * Liveness on the simulated network (SPEC §4, docs/PROTOCOL.md §15): a packet that expects an
 * answer and gets none for livenessTimeoutMs (10 s) → a new handshake; unreachableAfterMs (5 s)
 * more → the 'unreachable' event and state; an idle peer is probed every keepalive interval;
 * retries go on, backing off, and a returning peer is reached as soon as it answers.
 */
import { SimWorld, SIM_PORT, established, messages, peerEvents, text } from './harness';
import { IK_INIT_BYTES as INIT_BYTES, IK_RESPONSE_BYTES as RESPONSE_BYTES } from '../helpers/v4-forge';
import type { UdpVaultNode } from '../../src/node/types';

const A = '127.0.0.2';
const B = '127.0.0.3';
const TICK = 100;

const stateOf = (n: UdpVaultNode, name: string): string | undefined => n.peers().find((p) => p.name === name)?.state;

describe('liveness', () => {
  let w: SimWorld;
  let a: UdpVaultNode;
  let b: UdpVaultNode;
  beforeEach(async () => {
    w = new SimWorld(7);
    w.net.link(A, B, { latencyMs: 10 });
    a = await w.node(A);
    b = await w.node(B);
    await w.pair(a, b);
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  const initsFrom = (addr: string, sinceMs: number): number[] =>
    w.net.trace.filter((e) => e.size === INIT_BYTES && e.from.startsWith(`${addr}:`) && e.sentMs >= sinceMs).map((e) => e.sentMs);

  test('a peer that vanishes during a stream: a new handshake 10 s after the first unanswered packet, unreachable 5 s later (event once, peer list)', async () => {
    const events = peerEvents(a);
    await w.scheduler.advance(3_000); // everything so far answered (answers go out within 1 s)
    w.net.partition(A, B, true);
    const firstUnanswered = w.clock.monotonic();
    let sent = 0;
    while (stateOf(a, 'b') === 'established' && w.clock.monotonic() - firstUnanswered < 30_000) {
      await a.send('b', `m${sent++}`); // datagram sends keep resolving: handed to the kernel
      await w.scheduler.advance(250);
    }
    const detectedAfter = w.clock.monotonic() - firstUnanswered;
    expect(stateOf(a, 'b')).toBe('unreachable');
    expect(detectedAfter).toBeGreaterThanOrEqual(15_000);
    expect(detectedAfter).toBeLessThanOrEqual(15_000 + 250 + TICK);
    const probes = initsFrom(A, firstUnanswered);
    expect(probes[0]! - firstUnanswered).toBeGreaterThanOrEqual(10_000); // not before the liveness timeout
    expect(probes[0]! - firstUnanswered).toBeLessThanOrEqual(10_000 + TICK);
    expect(events.filter((e) => e.type === 'unreachable').map((e) => e.peer.state)).toEqual(['unreachable']);
    expect(a.peers().map((p) => [p.name, p.state])).toEqual([['b', 'unreachable']]);
  });

  test('an idle peer that vanishes is probed at the keepalive interval and reported within keepalive + 15 s', async () => {
    await w.scheduler.advance(3_000);
    w.net.partition(A, B, true);
    const vanished = w.clock.monotonic();
    const ok = await w.scheduler.runUntil(() => stateOf(a, 'b') === 'unreachable' && stateOf(b, 'a') === 'unreachable', 60_000);
    expect(ok).toBe(true);
    const took = w.clock.monotonic() - vanished;
    expect(took).toBeLessThanOrEqual(25_000 + 15_000 + TICK);
    expect(took).toBeGreaterThan(15_000); // a probe had to go unanswered first
  });

  test('two idle peers that are alive: never unreachable, no liveness handshakes, at most a probe and an answer each way per keepalive', async () => {
    const events = [...peerEvents(a), ...peerEvents(b)];
    const t0 = w.clock.monotonic();
    const inits = w.net.trace.filter((e) => e.size === INIT_BYTES).length;
    w.net.clearTrace();
    await w.scheduler.advance(100_000); // below the 120 s rekey
    expect([stateOf(a, 'b'), stateOf(b, 'a')]).toEqual(['established', 'established']);
    expect(events).toEqual([]);
    expect(w.net.trace.filter((e) => e.size === INIT_BYTES)).toHaveLength(0);
    expect(inits).toBeGreaterThan(0);
    const fromA = w.net.trace.filter((e) => e.from.startsWith(`${A}:`) && e.sentMs >= t0).length;
    const fromB = w.net.trace.filter((e) => e.from.startsWith(`${B}:`) && e.sentMs >= t0).length;
    expect(fromA).toBeGreaterThanOrEqual(4); // a keepalive every 25 s
    // … at most one answer to each of b's, and (congestion control, docs/CONGESTION.md) a packet
    // ack 25 ms after each ack-eliciting packet received, plus the path MTU search at the start.
    expect(fromA).toBeLessThanOrEqual(16);
    expect(fromB).toBeLessThanOrEqual(16);
  });

  test('a one-way stream is answered (at most once a second), so the sender never suspects the receiver', async () => {
    const events = peerEvents(a);
    const got = messages(b);
    w.net.clearTrace();
    for (let i = 0; i < 600; i++) {
      await a.send('b', `s${i}`);
      await w.scheduler.advance(100);
    }
    expect(got).toHaveLength(600);
    expect(events).toEqual([]);
    expect(stateOf(a, 'b')).toBe('established');
    expect(w.net.trace.filter((e) => e.size === INIT_BYTES)).toHaveLength(0);
    const answers = w.net.trace.filter((e) => e.from.startsWith(`${B}:`)).length;
    expect(answers).toBeGreaterThanOrEqual(50); // one per second of the 60 s stream
    // Congestion control acknowledges every datagram (packet acks: every 2nd ack-eliciting packet
    // or after 25 ms; at 10 datagrams a second, each one 25 ms after it arrived).
    expect(answers).toBeLessThanOrEqual(600 + 62);
  });

  test('while unreachable the retries back off to the cap and go on; a returning peer is reached at the next handshake, from either side', async () => {
    w.net.partition(A, B, true);
    expect(await w.scheduler.runUntil(() => stateOf(a, 'b') === 'unreachable' && stateOf(b, 'a') === 'unreachable', 60_000)).toBe(true);
    const since = w.clock.monotonic();
    await w.scheduler.advance(120_000);
    const retries = initsFrom(A, since);
    const gaps = retries.slice(1).map((t, i) => t - retries[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(7); // they go on…
    expect(Math.max(...gaps)).toBeLessThanOrEqual(12_000 * 1.2 + TICK); // …at most the capped, jittered interval apart
    expect(Math.min(...gaps.slice(-4))).toBeGreaterThanOrEqual(12_000 * 0.8); // backed off to the cap
    expect([stateOf(a, 'b'), stateOf(b, 'a')]).toEqual(['unreachable', 'unreachable']);

    const aEvents = peerEvents(a);
    const bEvents = peerEvents(b);
    w.net.partition(A, B, false);
    const healed = w.clock.monotonic();
    w.net.clearTrace();
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 30_000)).toBe(true);
    // The first init either side sent after the heal was answered: no further attempt was needed.
    const first = w.net.trace.find((e) => e.size === INIT_BYTES && e.fate === 'delivered')!;
    const response = w.net.trace.find((e) => e.size === RESPONSE_BYTES && e.fate === 'delivered')!;
    expect(response.sentMs - first.atMs).toBe(0);
    expect(w.clock.monotonic() - first.sentMs).toBeLessThanOrEqual(2 * 10 + TICK);
    expect(first.sentMs - healed).toBeLessThanOrEqual(12_000 * 1.2 + TICK);
    expect(aEvents.map((e) => e.type)).toEqual(['handshake']);
    expect(bEvents.map((e) => e.type)).toEqual(['handshake']);
    const got = messages(b);
    await a.send('b', 'back');
    await w.scheduler.advance(50);
    expect(got.map(text)).toEqual(['back']);
  });

  test('a peer that answers only by its own data (no handshake) is established again at once', async () => {
    w.net.partition(A, B, true);
    expect(await w.scheduler.runUntil(() => stateOf(a, 'b') === 'unreachable', 60_000)).toBe(true);
    w.net.partition(A, B, false);
    // b's session is still valid (below 180 s): its next datagram proves it alive.
    const events = peerEvents(a);
    await b.send('a', 'still here');
    await w.scheduler.advance(20);
    expect(stateOf(a, 'b')).toBe('established');
    expect(events.map((e) => e.type)).toEqual(['handshake']);
  });

  test('the liveness settings are the node settings (livenessTimeoutMs 2 s + unreachableAfterMs 1 s → reported 3 s after the first unanswered packet)', async () => {
    const c = await w.node('127.0.0.4', { settings: { livenessTimeoutMs: 2_000, unreachableAfterMs: 1_000 } });
    const d = await w.node('127.0.0.5');
    await w.pair(c, d, ['d', 'c']);
    await w.scheduler.advance(100); // packets of the handshake's end (acks, path MTU probes) land before the cut
    w.net.partition('127.0.0.4', '127.0.0.5', true);
    const t0 = w.clock.monotonic();
    await c.send('d', 'unanswered');
    expect(await w.scheduler.runUntil(() => stateOf(c, 'd') === 'unreachable', 10_000)).toBe(true);
    expect(w.clock.monotonic() - t0).toBeGreaterThanOrEqual(3_000);
    expect(w.clock.monotonic() - t0).toBeLessThanOrEqual(3_000 + 2 * TICK);
  });
});

describe('sends without a session', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(8);
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  const settle = (p: Promise<void>): { at: number | null; err: unknown } => {
    const r: { at: number | null; err: unknown } = { at: null, err: null };
    p.then(
      () => void (r.at = w.clock.monotonic()),
      (e: unknown) => {
        r.at = w.clock.monotonic();
        r.err = e;
      },
    );
    return r;
  };

  test('datagram and reliable sends fail at the handshake timeout with ERR_NO_SESSION and the same message (not a 30 s ack wait)', async () => {
    const a = await w.node(A);
    await a.addPeer({ endpoint: `127.0.0.9:${SIM_PORT}`, name: 'gone' });
    const t0 = w.clock.monotonic();
    const dgram = settle(a.send('gone', 'd'));
    const rel = settle(a.send('gone', 'r', { reliable: true }));
    const relShort = settle(a.send('gone', 'r3', { reliable: true, timeoutMs: 3_000 }));
    await w.scheduler.advance(31_000);
    const msg10 = 'no session: the handshake with gone did not complete within 10 s';
    expect(dgram.err).toMatchObject({ code: 'ERR_NO_SESSION', message: msg10 });
    expect(rel.err).toMatchObject({ code: 'ERR_NO_SESSION', message: msg10 });
    expect(relShort.err).toMatchObject({ code: 'ERR_NO_SESSION', message: 'no session: the handshake with gone did not complete within 3 s' });
    expect([dgram.at! - t0, rel.at! - t0, relShort.at! - t0]).toEqual([10_000, 10_000, 3_000].map((ms) => Math.ceil(ms / TICK) * TICK));
    expect(a.peers()[0]!.state).toBe('unreachable');
  });

  test('a reliable message sent before the session exists waits for it and is delivered once, in order with later ones', async () => {
    w.net.link(A, B, { latencyMs: 10 });
    const a = await w.node(A);
    const b = await w.node(B);
    const got = messages(b);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    const first = settle(a.send('b', 'first', { reliable: true }));
    await w.scheduler.advance(2_000); // b does not know a yet: a's init is refused
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    const second = settle(a.send('b', 'second', { reliable: true }));
    expect(await w.scheduler.runUntil(() => first.at !== null && second.at !== null, 10_000)).toBe(true);
    expect([first.err, second.err]).toEqual([null, null]);
    expect(got.map(text)).toEqual(['first', 'second']);
  });
});
