/**
 * Handshake v4 between real nodes on the simulated network: IK toward a pinned key (one round
 * trip), XX for TOFU first contact (cookie round trip, then three messages), and the trust rule:
 * a TOFU key, an endpoint move and the replay mark are acted on only when authenticated data
 * confirms the session.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimWorld, SIM_PORT, established, messages, peerEvents, text } from './harness';
import { decodeKey, identityFromSeed } from '../../src/crypto/identity';
import { SeededRandom } from '../../src/runtime/random';
import type { UdpVaultNode } from '../../src/node/types';
import type { OpenTransport } from '../../src/net/transport';
import { forgeIkInit, COOKIE_REPLY_BYTES, IK_INIT_BYTES, IK_RESPONSE_BYTES, XX1_BYTES, XX2_BYTES, XX3_BYTES } from '../helpers/v4-forge';

const A = '127.0.0.2';
const B = '127.0.0.3';
const M = '127.0.0.66';
const drops = (n: UdpVaultNode, r: string): number => (n.status().counters.drops as Record<string, number>)[r] ?? 0;

/** Wraps a node's transport to keep a copy of every datagram it sends. */
function recording(sent: Buffer[]): (open: OpenTransport) => OpenTransport {
  return (open) => async (o) => {
    const t = await open(o);
    return {
      host: t.host, port: t.port, hasFamily: (f) => t.hasFamily(f), close: () => t.close(),
      send: (parts, port, address, family, done) => {
        sent.push(Buffer.concat(Array.isArray(parts) ? (parts as Uint8Array[]) : [parts as Uint8Array]));
        return t.send(parts, port, address, family, done);
      },
    };
  };
}

describe('handshake v4 between nodes', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(410);
    w.net.setDefaultLink({ latencyMs: 10 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('pinned keys: IK, one round trip (199-byte init, 123-byte response), then data both ways', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    await w.scheduler.advance(2_000); // b's first init was refused by a (not a peer yet); b waits for its retry
    w.net.clearTrace();
    const t0 = w.clock.monotonic();
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 2_000)).toBe(true);
    expect(w.clock.monotonic() - t0).toBe(30); // init (10 ms), response (10 ms), a's first packet (10 ms)
    const sizes = w.net.trace.map((e) => `${e.from === `${A}:${SIM_PORT}` ? 'a' : 'b'}${e.size}`);
    expect(sizes.slice(0, 2)).toEqual([`a${IK_INIT_BYTES}`, `b${IK_RESPONSE_BYTES}`]);
    const [atA, atB] = [messages(a), messages(b)];
    await Promise.all([a.send('b', 'to b'), b.send('a', 'to a')]);
    await w.scheduler.advance(50);
    expect([atA.map(text), atB.map(text)]).toEqual([['to a'], ['to b']]);
    expect([a.peers()[0]!.trust, b.peers()[0]!.trust]).toEqual(['pinned', 'pinned']);
  });

  test('TOFU on both sides: XX after a cookie round trip (267 → 61 → 267 → 203 → 171 bytes); each records the other\'s key', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    const [evA, evB] = [peerEvents(a), peerEvents(b)];
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, name: 'a' });
    await w.scheduler.advance(2_000);
    w.net.clearTrace();
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, name: 'b' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 3_000)).toBe(true);
    const fromA = w.net.trace.filter((e) => e.from === `${A}:${SIM_PORT}`).map((e) => e.size);
    const fromB = w.net.trace.filter((e) => e.from === `${B}:${SIM_PORT}`).map((e) => e.size);
    expect(fromA.slice(0, 3)).toEqual([XX1_BYTES, XX1_BYTES, XX3_BYTES]); // msg1, msg1 with mac2, msg3
    expect(fromB.slice(0, 2)).toEqual([COOKIE_REPLY_BYTES, XX2_BYTES]);
    expect(a.peers()[0]).toMatchObject({ key: b.publicKey, trust: 'tofu' });
    expect(b.peers()[0]).toMatchObject({ key: a.publicKey, trust: 'tofu' });
    expect(evA.filter((e) => e.type === 'tofu')).toHaveLength(1);
    expect(evB.filter((e) => e.type === 'tofu')).toHaveLength(1);
    const atB = messages(b);
    await a.send('b', 'first contact');
    await w.scheduler.advance(50);
    expect(atB.map(text)).toEqual(['first contact']);
  });

  test('a spoofed init at a TOFU peer\'s endpoint, whose answer the attacker never reads, records nothing; the real peer then connects', async () => {
    const b = await w.node(B);
    const events = peerEvents(b);
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, name: 'a' }); // key-less: TOFU
    // The attacker sends from the peer's configured endpoint (spoofed) and never reads the answer.
    const mallory = identityFromSeed(new Uint8Array(32).fill(0x66));
    const spoof = await w.net.host(A).openTransport({ host: A, port: SIM_PORT, onMessage: () => undefined, onError: () => undefined });
    const random = new SeededRandom(3);
    for (let i = 0; i < 5; i++) {
      spoof.send(forgeIkInit({ claimed: mallory.publicKey, secretOf: mallory, responderKey: decodeKey(b.publicKey), sid: 100 + i, random, wallMs: w.clock.now() + i, clock: w.clock }), SIM_PORT, B, 4);
      await w.scheduler.advance(2_000);
    }
    // b answered (an unconfirmed session each) but acted on none of them
    expect(b.peers()[0]).toMatchObject({ key: null, trust: 'unknown', endpoint: `${A}:${SIM_PORT}` });
    expect(events.filter((e) => e.type === 'tofu' || e.type === 'handshake')).toEqual([]);
    await w.scheduler.advance(10_000); // the unconfirmed sessions expire unused
    await spoof.close();
    const a = await w.node(A);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 5_000)).toBe(true);
    expect(b.peers()[0]).toMatchObject({ key: a.publicKey, trust: 'tofu' });
  });

  test('a TOFU peer whose endpoint echoes every datagram never makes the node pin its own key', async () => {
    const b = await w.node(B);
    const events = peerEvents(b);
    const echo = await w.net.host(A).openTransport({
      host: A, port: SIM_PORT, onError: () => undefined,
      onMessage: (data, address, port) => void echo.send(data, port, address, 4),
    });
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, name: 'a' });
    await w.scheduler.advance(20_000);
    expect(b.peers()[0]).toMatchObject({ key: null, trust: 'unknown' });
    expect(events.filter((e) => e.type === 'tofu' || e.type === 'handshake')).toEqual([]);
    // its own XX msg2 came back and was refused (own key), and nothing else was installed
    expect(drops(b, 'unknownPeer')).toBeGreaterThanOrEqual(1);
    await echo.close();
  });

  test('a replay of a captured init after a restart (killed before anything confirmed the session) is answered but never moves the endpoint or records anything', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'udpvault-v4-'));
    try {
      const sent: Buffer[] = [];
      const a = await w.node(A, {}, recording(sent));
      let b = await w.node(B, { home });
      await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
      await w.scheduler.advance(2_000); // b's attempt is old: b answers a's init (no crossing)
      // 1. a's init reaches b, b accepts and answers, but a's confirming packet is lost: b is
      //    killed before anything confirms the session.
      w.net.linkOneWay(B, A, { loss: 1 });
      await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
      await w.scheduler.advance(15);
      const init = sent.find((d) => d[0] === 0x41)!;
      expect(init).toBeDefined();
      expect(b.peers()[0]!.lastHandshake).toBeNull(); // accepted (unconfirmed), nothing recorded
      await b.close(); // the final save writes only what was confirmed: nothing
      await a.close();
      b = await w.node(B, { home });
      // 2. the replayer, at another address, replays the init to the restarted node
      const replayer = await w.net.host(M).openTransport({ host: M, port: 7000, onMessage: () => undefined, onError: () => undefined });
      replayer.send(init, SIM_PORT, B, 4);
      await w.scheduler.advance(5_000);
      // answered once (the mark was never persisted), but the session is never confirmed
      expect(b.peers()[0]).toMatchObject({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, lastHandshake: null });
      expect(b.peers()[0]!.state).not.toBe('established');
      await replayer.close();
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  test('a confirmed handshake persists the replay mark: after a restart a replay of its init is refused', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'udpvault-v4-'));
    try {
      const sent: Buffer[] = [];
      const a = await w.node(A, {}, recording(sent));
      let b = await w.node(B, { home });
      await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
      await w.scheduler.advance(2_000);
      await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
      expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 2_000)).toBe(true);
      await w.scheduler.advance(500); // the store is written
      expect(b.peers()[0]!.lastHandshake).not.toBeNull();
      const init = sent.find((d) => d[0] === 0x41)!;
      await b.close();
      await a.close();
      b = await w.node(B, { home });
      const replayer = await w.net.host(M).openTransport({ host: M, port: 7000, onMessage: () => undefined, onError: () => undefined });
      const before = drops(b, 'replay');
      replayer.send(init, SIM_PORT, B, 4);
      await w.scheduler.advance(100);
      expect(drops(b, 'replay')).toBe(before + 1);
      expect(b.peers()[0]!.endpoint).toBe(`${A}:${SIM_PORT}`);
      await replayer.close();
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  test('replays of a captured data datagram never drain the peer\'s packet bucket (it is charged after authentication)', async () => {
    const sent: Buffer[] = [];
    const a = await w.node(A, {}, recording(sent));
    const b = await w.node(B, { settings: { peerPacketsPerSecond: 10, peerPacketBurst: 30 } });
    await w.pair(a, b);
    const atB = messages(b);
    await a.send('b', 'captured');
    await w.scheduler.advance(20);
    const data = sent.filter((d) => d[0] === 0x33 || d[0] === 0x43).pop()!;
    const raw = await w.net.host(M).openTransport({ host: M, port: 7000, onMessage: () => undefined, onError: () => undefined });
    const before = { replay: drops(b, 'replay'), limited: drops(b, 'rateLimited') };
    for (let i = 0; i < 1000; i++) raw.send(data, SIM_PORT, B, 4);
    await w.scheduler.advance(50);
    expect(drops(b, 'replay') - before.replay).toBe(1000);
    for (let i = 0; i < 20; i++) await a.send('b', `m${i}`);
    await w.scheduler.advance(50);
    expect(atB.map(text)).toEqual(['captured', ...Array.from({ length: 20 }, (_, i) => `m${i}`)]);
    expect(drops(b, 'rateLimited')).toBe(before.limited);
    await raw.close();
  });
  test.each([['a first'], ['b first']])('first contact with the adds 1 ms apart (%s): the refused init is resent on time, not at a tick', async (order) => {
    // 1 ms each way: the first node's init reaches the other before it knows the sender (refused,
    // silently); the other's init then crosses the first's still-pending attempt within
    // RESEND_AFTER_MS. Depending on the keys' tie-break either it is answered at once, or it is
    // ignored and our init is resent CROSSING_ANSWER_WAIT_MS (100 ms) later — on a timer of its
    // own (before: at the next 100 ms tick after that, up to 200 ms).
    w.net.setDefaultLink({ latencyMs: 1 });
    const a = await w.node(A);
    const b = await w.node(B);
    await w.scheduler.advance(37); // off the tick grid
    const [first, second] = order === 'a first' ? [a, b] : [b, a];
    const addr = (n: UdpVaultNode): string => `${n === a ? A : B}:${SIM_PORT}`;
    await first.addPeer({ endpoint: addr(second), key: second.publicKey, name: 'x' });
    await w.scheduler.advance(2);
    expect(drops(second, 'unknownPeer')).toBe(1); // refused: not added yet
    const t0 = w.clock.monotonic();
    await second.addPeer({ endpoint: addr(first), key: first.publicKey, name: 'y' });
    expect(await w.scheduler.runUntil(() => established(a, a === first ? 'x' : 'y') && established(b, b === first ? 'x' : 'y'), 1_000)).toBe(true);
    expect(w.clock.monotonic() - t0).toBeLessThanOrEqual(110);
  });
});
