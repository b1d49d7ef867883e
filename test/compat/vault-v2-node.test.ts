/**
 * vault-v2 mode of a live node (SPEC §6) over real UDP on loopback: two udpvault nodes, and a
 * raw dgram peer that behaves like the reference (announces its port, sends from random ports).
 */
import { TYPE_DATA } from '../../src/constants';
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../src/runtime/clock';
import { decodeKey, encodeKey } from '../../src/crypto/identity';
import { signKeypair, sodiumReady } from '../../src/crypto/sodium';
import { UdpVaultError } from '../../src/errors';
import type { MessageEvent, PeerEvent, UdpVaultNode } from '../../src/node/types';
import { VAULT_V2_MTU_OVERHEAD, sealEnvelope } from '../../src/compat/vault-v2-codec';
import { collect, startNode, waitFor } from '../helpers/nodes';
import { MTU, RawV2Peer, type RawReceived } from '../helpers/vault-v2-raw';

/** Body length of a padded vault-v2 body at MTU 1500 when the padding needs a bin16 header. */
const PADDED_BODY = MTU - VAULT_V2_MTU_OVERHEAD + 1;
const text = (m: MessageEvent): string => Buffer.from(m.data).toString('utf8');
const drops = (n: UdpVaultNode, r: string): number => (n.status().counters.drops as Record<string, number>)[r] ?? 0;
const peerEvents = (n: UdpVaultNode): PeerEvent[] => {
  const got: PeerEvent[] = [];
  n.on('peer', (e) => got.push(e));
  return got;
};
async function rejection(p: Promise<unknown>): Promise<UdpVaultError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UdpVaultError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
const settle = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * Bound of the waits: each waits for datagrams already sent to be handled (an exact count or
 * state, no timer to run out), so it only turns a stall into an error before the test's
 * timeout. 5 s ran out once under load (the refusals test, session 6).
 */
const SETTLE_MS = 20_000;
jest.setTimeout(90_000);

/** System time with a monotonic clock that the test can move forward. */
class SkewClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now();
  }
  monotonic(): number {
    return performance.now() + this.offsetMs;
  }
}

beforeAll(() => sodiumReady());

describe('two udpvault nodes in vault-v2 mode', () => {
  let a: UdpVaultNode;
  let b: UdpVaultNode;
  beforeEach(async () => {
    a = await startNode();
    b = await startNode();
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  test('pinned keys: keys learned from plaintext announcements, messages both ways, exact text', async () => {
    const atA = collect(a);
    const atB = collect(b);
    await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'b', compat: 'vault-v2' });
    await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, key: a.publicKey, name: 'a', compat: 'vault-v2' });
    await waitFor(() => a.peers()[0]?.state === 'established' && b.peers()[0]?.state === 'established', SETTLE_MS, 'keys learned');
    await a.send('b', 'hello from a');
    await a.send('b', 'grüße ✓ – unicode');
    await b.send('a', 'hello from b');
    await a.send('b', '');
    await waitFor(() => atB.length === 3 && atA.length === 1, SETTLE_MS, 'messages');
    expect(atB.map(text)).toEqual(['hello from a', 'grüße ✓ – unicode', '']);
    expect(atA.map(text)).toEqual(['hello from b']);
    expect(atB[0]).toMatchObject({ peer: a.publicKey, name: 'a', addr: `127.0.0.1:${a.port}`, reliable: false, encrypted: true });
    expect(atA[0]).toMatchObject({ peer: b.publicKey, name: 'b', addr: `127.0.0.1:${b.port}`, reliable: false, encrypted: true });
    expect(a.peers()[0]).toMatchObject({ key: b.publicKey, trust: 'pinned', compat: 'vault-v2', state: 'established' });
    expect(b.status().counters.messagesIn).toBe(3);
    expect(a.status().counters.messagesOut).toBe(3);
    expect(b.peers()[0]!.counters.messagesIn).toBe(3);
    expect(a.status().counters.drops).toEqual({});
  });

  // The pacing property (≤ 100 datagrams/s per source) is shown on the simulated network with exact
  // send times: test/sim/node-scenarios.test.ts (receive times on a loaded machine bunch up).

  test('without keys: TOFU on the first announcement, then messages both ways', async () => {
    const atA = collect(a);
    const atB = collect(b);
    const evA = peerEvents(a);
    await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, name: 'b', compat: 'vault-v2' });
    await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, name: 'a', compat: 'vault-v2' });
    await waitFor(() => a.peers()[0]?.state === 'established' && b.peers()[0]?.state === 'established', SETTLE_MS, 'keys learned');
    expect(a.peers()[0]).toMatchObject({ key: b.publicKey, trust: 'tofu' });
    expect(b.peers()[0]).toMatchObject({ key: a.publicKey, trust: 'tofu' });
    expect(evA.map((e) => e.type)).toEqual(['added', 'tofu', 'handshake']);
    await Promise.all([a.send('b', 'one'), a.send('b', 'two'), b.send('a', 'three')]);
    await waitFor(() => atB.length === 2 && atA.length === 1, SETTLE_MS, 'messages');
    expect(atB.map(text)).toEqual(['one', 'two']);
    expect(atA.map(text)).toEqual(['three']);
    expect(atA[0]!.peer).toBe(b.publicKey);
  });

  test('a message sent before the peer announced waits for its key, then is delivered', async () => {
    const atB = collect(b);
    await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'b', compat: 'vault-v2' });
    const sent = a.send('b', 'queued until b announces');
    await settle(100);
    await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, key: a.publicKey, name: 'a', compat: 'vault-v2' });
    await sent;
    await waitFor(() => atB.length === 1, SETTLE_MS, 'queued message');
    expect(text(atB[0]!)).toBe('queued until b announces');
  });
});

describe('a node and a reference-style raw peer', () => {
  let node: UdpVaultNode;
  let raw: RawV2Peer;
  let clock: SkewClock;
  beforeEach(async () => {
    clock = new SkewClock();
    node = await startNode({ clock });
    raw = await RawV2Peer.open();
  });
  afterEach(async () => {
    await node.close();
    await raw.close();
  });

  /** Adds the raw peer, receives the node's announcement, announces back from a random port. */
  async function handshake(o: { key?: string; allowPlaintext?: boolean } = {}): Promise<{ nodeEncPk: Uint8Array; answer: RawReceived }> {
    await node.addPeer({ endpoint: `127.0.0.1:${raw.port}`, name: 'ref', compat: 'vault-v2', ...o });
    const first = await raw.next(0, RawV2Peer.isPlainAnnouncement, 'the node announcement');
    const { ann } = RawV2Peer.announcementOf(first);
    const mark = raw.received.length;
    await raw.send(raw.announcementBody(), node.port, 1);
    await waitFor(() => node.peers()[0]?.state === 'established', SETTLE_MS, 'raw peer keys learned');
    const answer = await raw.next(mark, RawV2Peer.isPlainAnnouncement, 'the node answer to a new announcement');
    return { nodeEncPk: ann.encPk, answer };
  }

  test('the node announces in plaintext from its own port, with its identity key, at once on add', async () => {
    await node.addPeer({ endpoint: `127.0.0.1:${raw.port}`, name: 'ref', compat: 'vault-v2' });
    const r = await raw.next(0);
    expect(r.port).toBe(node.port);
    const { ann } = RawV2Peer.announcementOf(r); // signature and signed content verified
    expect(Buffer.from(ann.signPk)).toEqual(Buffer.from(decodeKey(node.publicKey)));
    expect(ann.port).toBe(node.port);
    expect(ann.encPk.length).toBe(32);
    expect(r.data.length).toBe(PADDED_BODY);
    expect(node.peers()[0]!.state).toBe('handshaking');
  });

  test('announcement from a random port: TOFU, answer, encrypted payload from another port delivered', async () => {
    const events = peerEvents(node);
    const got = collect(node);
    const { nodeEncPk, answer } = await handshake();
    expect(answer.port).toBe(node.port);
    expect(node.peers()[0]).toMatchObject({ key: raw.keyString, trust: 'tofu', state: 'established' });
    expect(events.map((e) => e.type)).toEqual(['added', 'tofu', 'handshake']);

    const dgram = raw.seal(raw.payloadBody('hello vault'), nodeEncPk);
    await raw.send(dgram, node.port, 2);
    await waitFor(() => got.length === 1, SETTLE_MS, 'message');
    expect(got[0]).toMatchObject({ peer: raw.keyString, name: 'ref', addr: `127.0.0.1:${raw.sourcePort(2)}`, reliable: false, encrypted: true });
    expect(text(got[0]!)).toBe('hello vault');

    // The same datagram again: refused by the inner-nonce replay cache.
    await raw.send(dgram, node.port, 1);
    await waitFor(() => drops(node, 'replay') === 1, SETTLE_MS, 'replay drop');
    expect(node.peers()[0]!.counters.drops).toEqual({ replay: 1 });
    expect(got.length).toBe(1);
    expect(drops(node, 'unknownVersion')).toBe(0);
  });

  test('the node sends encrypted payloads the raw peer opens; bodies padded to the vault-v2 MTU', async () => {
    const { nodeEncPk } = await handshake();
    const mark = raw.received.length;
    await node.send('ref', 'hi reference');
    await node.send(raw.keyString, 'ünïcødé');
    const isEncrypted = (r: RawReceived): boolean => !RawV2Peer.isPlainAnnouncement(r);
    await waitFor(() => raw.received.slice(mark).filter(isEncrypted).length === 2, SETTLE_MS, 'two encrypted datagrams');
    const opened = raw.received.slice(mark).filter(isEncrypted).map((r) => {
      expect(r.port).toBe(node.port);
      return raw.open(r, nodeEncPk);
    });
    expect(opened.map((o) => o.text)).toEqual(['hi reference', 'ünïcødé']);
    for (const o of opened) {
      expect(o.body.length).toBe(PADDED_BODY);
      expect(o.fields.c.length).toBe(0);
    }
    expect(node.status().counters.messagesOut).toBe(2);
  });

  test('envelopes whose random nonce starts with a native type byte are still vault-v2; ours never do', async () => {
    const got = collect(node);
    const { nodeEncPk } = await handshake();
    const types = [TYPE_DATA, 0x41, 0x42, 0x44, 0x45, 0x46, 0x47]; // data, v4 handshakes, cookie reply
    for (const [i, t] of types.entries()) {
      const random = (n: number): Uint8Array => {
        const r = new Uint8Array(randomBytes(n));
        if (n === 24) r[0] = t;
        return r;
      };
      const sealed = sealEnvelope(raw.payloadBody(`type ${i}`), { receiverEncPk: nodeEncPk, senderEncSk: raw.enc.privateKey, clock: systemClock, random });
      expect(sealed[0]).toBe(t);
      await raw.send(sealed, node.port, 2);
    }
    await waitFor(() => got.length === types.length, SETTLE_MS, 'one message per type');
    expect(got.map(text)).toEqual(types.map((_, i) => `type ${i}`));
    expect(node.status().counters.drops).toEqual({});

    const mark = raw.received.length;
    for (let batch = 1; batch <= 4; batch++) {
      // Batches of 50 (the raw socket's default receive buffer holds ~150 datagrams of 1.4 kB).
      await Promise.all(Array.from({ length: 50 }, (_, i) => node.send('ref', `m${i}`)));
      await waitFor(() => raw.received.length - mark >= 50 * batch, SETTLE_MS, `${50 * batch} datagrams`);
    }
    const firstBytes = new Set(raw.received.slice(mark).filter((r) => !RawV2Peer.isPlainAnnouncement(r)).map((r) => r.data[0]));
    for (const t of types) expect(firstBytes.has(t)).toBe(false);
  });

  test('an encrypted announcement refreshes the keys', async () => {
    const { nodeEncPk } = await handshake();
    await raw.send(raw.seal(raw.announcementBody(), nodeEncPk), node.port, 2);
    await waitFor(() => node.peers()[0]!.counters.packetsIn === 2, SETTLE_MS, 'encrypted announcement accepted');
    expect(node.status().counters.drops).toEqual({});
  });

  test('plaintext payload: refused without allowPlaintext, delivered (encrypted: false) with it', async () => {
    const got = collect(node);
    await handshake();
    await raw.send(raw.payloadBody('plain fallback'), node.port, 1);
    await waitFor(() => drops(node, 'plaintextRefused') === 1, SETTLE_MS, 'plaintext refused');
    expect(node.peers()[0]!.counters.drops).toEqual({ plaintextRefused: 1 });
    expect(got).toEqual([]);

    await node.addPeer({ endpoint: `127.0.0.1:${raw.port}`, compat: 'vault-v2', allowPlaintext: true });
    await raw.send(raw.payloadBody('plain fallback'), node.port, 2);
    await waitFor(() => got.length === 1, SETTLE_MS, 'plaintext message');
    expect(got[0]).toMatchObject({ peer: raw.keyString, name: 'ref', addr: `127.0.0.1:${raw.sourcePort(2)}`, encrypted: false, reliable: false });
    expect(text(got[0]!)).toBe('plain fallback');
  });

  test('refusals: unknown key, stale timestamp, other port, changed key (TOFU), pinned mismatch', async () => {
    const events = peerEvents(node);
    const { nodeEncPk } = await handshake();
    const other = await RawV2Peer.open();
    try {
      // Encrypted with a key no peer on that IP announced. Its first byte (the nonce's) is not a
      // native type: with a random nonce, 7 in 256 of these were counted as malformed instead
      // (the refusals test failed 1 in 20 runs, whatever the load); that case comes next.
      await raw.send(raw.seal(raw.payloadBody('x'), nodeEncPk, undefined, other.enc.privateKey, 0x00), node.port, 1);
      await waitFor(() => drops(node, 'authFailure') === 1, SETTLE_MS, () => `authFailure: drops ${JSON.stringify(node.status().counters.drops)}`);
      // Starting with the data type byte, the native path judges it first and the vault-v2
      // fallback does not authenticate it either: the native reason counts (engine.ts).
      await raw.send(raw.seal(raw.payloadBody('x'), nodeEncPk, undefined, other.enc.privateKey, TYPE_DATA), node.port, 1);
      await waitFor(() => drops(node, 'malformed') === 1, SETTLE_MS, () => `malformed: drops ${JSON.stringify(node.status().counters.drops)}`);
      expect(drops(node, 'authFailure')).toBe(1);
      // 120 s old.
      const old: Clock = { now: () => Date.now() - 120_000, monotonic: () => 0 };
      await raw.send(raw.seal(raw.payloadBody('x'), nodeEncPk, old), node.port, 1);
      await waitFor(() => drops(node, 'stale') === 1, SETTLE_MS, () => `stale: drops ${JSON.stringify(node.status().counters.drops)}`);
      // An announcement for a port where no vault-v2 peer is.
      await raw.send(raw.announcementBody({ port: other.port }), node.port, 1);
      await waitFor(() => drops(node, 'unknownPeer') === 1, SETTLE_MS, () => `unknownPeer: drops ${JSON.stringify(node.status().counters.drops)}`);
      // Another sign key for the TOFU peer: refused, key-changed raised once.
      const intruder = signKeypair();
      await raw.send(raw.announcementBody({ sign: intruder, encPk: other.enc.publicKey }), node.port, 1);
      await raw.send(raw.announcementBody({ sign: intruder, encPk: other.enc.publicKey }), node.port, 2);
      await waitFor(() => drops(node, 'keyChanged') === 2, SETTLE_MS, () => `keyChanged: drops ${JSON.stringify(node.status().counters.drops)}`);
      expect(events.filter((e) => e.type === 'key-changed').map((e) => e.offeredKey)).toEqual([encodeKey(intruder.publicKey)]);
      expect(node.peers()[0]!.key).toBe(raw.keyString);

      // Pinned to a key that is not the raw peer's.
      await node.addPeer({ endpoint: `127.0.0.1:${other.port}`, key: other.keyString, name: 'other', compat: 'vault-v2' });
      await other.send(raw.announcementBody({ port: other.port }), node.port, 1);
      await waitFor(() => drops(node, 'keyChanged') === 3, SETTLE_MS, () => `pinned keyChanged: drops ${JSON.stringify(node.status().counters.drops)}`);
      expect(node.peers().find((p) => p.name === 'other')).toMatchObject({ key: other.keyString, trust: 'pinned', state: 'handshaking' });
      expect(node.peers().find((p) => p.name === 'other')!.counters.drops).toEqual({ keyChanged: 1 });
    } finally {
      await other.close();
    }
  });

  test('a vault-v2 datagram from an IP without vault-v2 peers is counted as unknown version', async () => {
    await raw.send(raw.announcementBody(), node.port, 1);
    await waitFor(() => drops(node, 'unknownVersion') === 1, SETTLE_MS, 'unknownVersion');
  });

  test('send errors: not UTF-8, too large, reliable, no key within the timeout', async () => {
    const events = peerEvents(node);
    await node.addPeer({ endpoint: `127.0.0.1:${raw.port}`, name: 'ref', compat: 'vault-v2' });
    const notUtf8 = await rejection(node.send('ref', new Uint8Array([0x68, 0xff, 0xfe])));
    expect(notUtf8.code).toBe('ERR_BAD_ARGUMENT');
    expect(notUtf8.message).toMatch(/vault-v2 peer ref accepts only UTF-8 text/);
    const big = randomBytes(3000).toString('base64'); // incompressible text, beyond one datagram
    const tooLarge = await rejection(node.send('ref', big));
    expect(tooLarge.code).toBe('ERR_TOO_LARGE');
    expect(tooLarge.message).toMatch(/^message too large for vault-v2 peer ref: the body needs \d+ bytes, the limit at MTU 1500 is 1393/);
    const reliable = await rejection(node.send('ref', 'x', { reliable: true }));
    expect(reliable.code).toBe('ERR_RELIABLE_UNSUPPORTED');
    const timeout = await rejection(node.send('ref', 'nobody announced', { timeoutMs: 300 }));
    expect(timeout.code).toBe('ERR_PEER_UNREACHABLE');
    expect(timeout.message).toMatch(/no key announcement received from vault-v2 peer ref/);
    expect(node.peers()[0]!.state).toBe('unreachable');
    expect(events.map((e) => e.type)).toEqual(['added', 'unreachable']);
    expect(node.status().counters.messagesOut).toBe(0);
    // Only announcements went out: never a plaintext payload.
    for (const r of raw.received) expect(RawV2Peer.isPlainAnnouncement(r)).toBe(true);
  });

  test('keys are forgotten 60 s after the last announcement; re-announcements every 5 s only while keys are held', async () => {
    const { nodeEncPk } = await handshake();
    const mark = raw.received.length;
    clock.offsetMs += 5_500;
    await raw.next(mark, RawV2Peer.isPlainAnnouncement, 're-announcement after 5 s');
    clock.offsetMs += 56_000; // 61.5 s since the raw peer's announcement
    await waitFor(() => node.peers()[0]!.state === 'handshaking', SETTLE_MS, 'keys forgotten');
    // Without keys a message waits instead of being sent.
    const sent = node.send('ref', 'after forgetting', { timeoutMs: 60_000 });
    await settle();
    const before = raw.received.length;
    clock.offsetMs += 20_000; // no re-announcement without keys (probe interval is 90 s)
    await settle(300);
    expect(raw.received.length).toBe(before);
    // The raw peer announces again: the node learns, answers, and sends the waiting message.
    await raw.send(raw.announcementBody(), node.port, 2);
    await sent;
    expect(node.peers()[0]!.state).toBe('established');
    const msg = await raw.next(before, (r) => !RawV2Peer.isPlainAnnouncement(r), 'the waiting message');
    expect(raw.open(msg, nodeEncPk).text).toBe('after forgetting');
  });
});
