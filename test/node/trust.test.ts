/** Handshake attacks: MITM with another identity, key substitution, TOFU key change, replayed handshakes. */
import { startNode, waitFor, collect, pair } from '../helpers/nodes';
import { startTap } from '../helpers/tap';
import type { PeerEvent, UdpVaultNode } from '../../src/node/types';
import { generateIdentity, decodeKey } from '../../src/crypto/identity';
import { sodiumReady } from '../../src/crypto/sodium';
import { systemRandom } from '../../src/runtime/random';
import { systemClock } from '../../src/runtime/clock';
import { CookieGenerator } from '../../src/crypto/cookie';
import { x25519FromIdentityKey } from '../../src/crypto/noise/common';
import { encodeHandshake, V4 } from '../../src/wire/handshake-v4';
import { forgeIkInit } from '../helpers/v4-forge';
import * as dgram from 'node:dgram';

const drops = (n: UdpVaultNode, r: string): number => (n.status().counters.drops as Record<string, number>)[r] ?? 0;

async function rawSend(port: number, d: Uint8Array, fromPort = 0): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(fromPort, '127.0.0.1', () => r()));
  await new Promise<void>((r, j) => s.send(d, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  s.close();
}

describe('handshake trust', () => {
  const nodes: UdpVaultNode[] = [];
  const start = async (port = 0): Promise<UdpVaultNode> => {
    // every node here sends from 127.0.0.1: one admission source, so give it room
    const n = await startNode({ port, settings: { handshakeTimeoutMs: 1500, handshakesPerSecondPerIp: 5000, handshakeBurstPerIp: 1000 } });
    nodes.push(n);
    return n;
  };
  beforeAll(sodiumReady);
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  test('a third node at a pinned peer\'s endpoint can neither handshake nor inject', async () => {
    const a = await start();
    const b = await start();
    await pair(a, b);
    const aPort = a.port;
    await a.close();
    const m = await start(aPort); // the MITM takes A's address
    const atB = collect(b);
    await m.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'b' });
    const sent = m.send('b', 'i am a');
    await expect(sent).rejects.toMatchObject({ code: 'ERR_NO_SESSION' });
    expect(drops(b, 'keyChanged')).toBeGreaterThanOrEqual(1);
    expect(atB).toHaveLength(0);
    await waitFor(() => m.peers()[0]!.state === 'unreachable');
    expect(b.peers()[0]!.key).toBe(a.publicKey);
  });

  test('an init naming the pinned key but keyed by another secret fails authentication', async () => {
    const a = await start();
    const b = await start();
    await pair(a, b);
    const mallory = generateIdentity();
    const forged = forgeIkInit({ claimed: decodeKey(a.publicKey), secretOf: mallory, responderKey: decodeKey(b.publicKey), sid: 7, random: systemRandom, wallMs: Date.now() });
    const before = drops(b, 'authFailure');
    await rawSend(b.port, forged);
    await waitFor(() => drops(b, 'authFailure') === before + 1);
    expect(b.peers()[0]!.key).toBe(a.publicKey);
  });

  test('a MITM at the pinned peer\'s address cannot answer: the init hides its session id, a forged answer matches nothing', async () => {
    const a = await start();
    const b = await start();
    // A believes B is at the attacker's address; the attacker answers A's init with a response
    // whose mac1 is valid (A's key is public) for a guessed session id.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const answered = new Promise<void>((resolve) => {
      sock.on('message', (d, rinfo) => {
        if (d[0] !== V4.ikInit) return;
        const resp = encodeHandshake(V4.ikResponse, 0x01020304, systemRandom.bytes(32 + 38 + 16));
        new CookieGenerator({ receiverStatic: x25519FromIdentityKey(decodeKey(a.publicKey))!, clock: systemClock }).addMacs(resp);
        sock.send(resp, rinfo.port, rinfo.address, () => resolve());
      });
    });
    await a.addPeer({ endpoint: `127.0.0.1:${sock.address().port}`, key: b.publicKey, name: 'b' });
    await answered;
    await waitFor(() => drops(a, 'unknownSession') >= 1);
    expect(a.peers()[0]!.state).toBe('handshaking');
    expect(a.peers()[0]!.key).toBe(b.publicKey);
    sock.close();
  });

  test('TOFU records the first key, then a changed key raises key-changed and is refused', async () => {
    const a = await start();
    const b = await start();
    const events: PeerEvent[] = [];
    b.on('peer', (e) => events.push(e));
    await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, name: 'a' });
    await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'b' });
    await waitFor(() => b.peers()[0]?.state === 'established');
    expect(b.peers()[0]).toMatchObject({ key: a.publicKey, trust: 'tofu' });
    expect(events.map((e) => e.type)).toContain('tofu');
    const aPort = a.port;
    await a.close();
    const a2 = await start(aPort);
    await a2.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'b' });
    await waitFor(() => events.some((e) => e.type === 'key-changed'));
    const ev = events.find((e) => e.type === 'key-changed')!;
    expect(ev.offeredKey).toBe(a2.publicKey);
    expect(ev.peer.key).toBe(a.publicKey);
    expect(b.peers()[0]!.key).toBe(a.publicKey);
    expect(drops(b, 'keyChanged')).toBeGreaterThanOrEqual(1);
    await expect(a2.send('b', 'x')).rejects.toMatchObject({ code: 'ERR_NO_SESSION' });
  });

  test('a replayed handshake init is rejected', async () => {
    const a = await start();
    const b = await start();
    const tap = await startTap(a.port, b.port);
    try {
      await b.addPeer({ endpoint: `127.0.0.1:${tap.portForB}`, key: a.publicKey, name: 'a' });
      await a.addPeer({ endpoint: `127.0.0.1:${tap.portForA}`, key: b.publicKey, name: 'b' });
      await waitFor(() => a.peers()[0]?.state === 'established' && b.peers()[0]?.state === 'established');
      await new Promise((r) => setTimeout(r, 100)); // no handshake in flight any more
      const init = tap.aToB.find((d) => d[0] === V4.ikInit)!;
      const before = drops(b, 'replay');
      await tap.injectToB(init);
      await waitFor(() => drops(b, 'replay') === before + 1);
      // which side answered depends on the crossing-handshake tie-break (key order)
      const toA = tap.bToA.find((d) => d[0] === V4.ikResponse);
      const [resp, target, inject] = toA ? [toA, a, tap.injectToA] : [tap.aToB.find((d) => d[0] === V4.ikResponse)!, b, tap.injectToB];
      const unknown = drops(target, 'unknownSession');
      await inject(resp);
      await waitFor(() => drops(target, 'unknownSession') === unknown + 1);
    } finally {
      await tap.close();
    }
  });

  test('a handshake from an identity that is not a peer is refused and counted', async () => {
    const a = await start();
    const b = await start();
    await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey });
    await waitFor(() => drops(b, 'unknownPeer') >= 1);
    expect(b.peers()).toHaveLength(0);
  });
});

describe('crossing handshakes', () => {
  test('the higher-key side with a stale endpoint still answers the peer and connects', async () => {
    const x = await startNode();
    const y = await startNode();
    try {
      const [hi, lo] = Buffer.compare(decodeKeyBuf(x.publicKey), decodeKeyBuf(y.publicKey)) > 0 ? [x, y] : [y, x];
      const dead = dgram.createSocket('udp4');
      await new Promise<void>((r) => dead.bind(0, '127.0.0.1', () => r()));
      // hi's inits go nowhere; lo's reach hi
      await hi.addPeer({ endpoint: `127.0.0.1:${dead.address().port}`, key: lo.publicKey, name: 'lo' });
      await lo.addPeer({ endpoint: `127.0.0.1:${hi.port}`, key: hi.publicKey, name: 'hi' });
      await waitFor(() => hi.peers()[0]?.state === 'established' && lo.peers()[0]?.state === 'established', 8000, 'both established');
      expect(hi.peers()[0]!.endpoint).toBe(`127.0.0.1:${lo.port}`);
      const atHi = collect(hi);
      await lo.send('hi', 'made it');
      await waitFor(() => atHi.length === 1);
      dead.close();
    } finally {
      await x.close();
      await y.close();
    }
  }, 15000);
});

function decodeKeyBuf(k: string): Buffer {
  return Buffer.from(decodeKey(k));
}

describe('first contact', () => {
  test('peers added a moment apart connect in well under the retry interval, whatever the key order', async () => {
    for (let i = 0; i < 6; i++) {
      const x = await startNode();
      const y = await startNode();
      try {
        const t0 = Date.now();
        // x's first init reaches y before y knows x (refused); then y adds x
        await x.addPeer({ endpoint: `127.0.0.1:${y.port}`, key: y.publicKey });
        await new Promise((r) => setTimeout(r, 5));
        await y.addPeer({ endpoint: `127.0.0.1:${x.port}`, key: x.publicKey });
        await waitFor(() => x.peers()[0]?.state === 'established' && y.peers()[0]?.state === 'established', 5000, 'established');
        expect(Date.now() - t0).toBeLessThan(800);
      } finally {
        await x.close();
        await y.close();
      }
    }
  }, 30000);
});
