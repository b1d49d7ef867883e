/** Floods: handshake floods are admitted per source (after mac1, before any DH) or answered with cookies; data floods per peer. */
import * as dgram from 'node:dgram';
import { startNode, waitFor, pair, collect } from '../helpers/nodes';
import type { UdpVaultNode } from '../../src/node/types';
import { generateIdentity, decodeKey } from '../../src/crypto/identity';
import { sodiumReady } from '../../src/crypto/sodium';
import { systemRandom } from '../../src/runtime/random';
import { forgeIkInit, COOKIE_REPLY_BYTES } from '../helpers/v4-forge';
import { REFUSED_INITS_MAX } from '../../src/engine/native/refused-inits';
import { nativeLinkOf } from './internals';

const drops = (n: UdpVaultNode, r: string): number => (n.status().counters.drops as Record<string, number>)[r] ?? 0;

async function socket(host = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  return s;
}

describe('floods', () => {
  beforeAll(sodiumReady);

  test('a handshake flood from one IP: only the burst reaches a Diffie-Hellman, the rest is refused or answered with a 61-byte cookie', async () => {
    const burst = 20;
    const b = await startNode({ settings: { handshakesPerSecondPerIp: 1, handshakeBurstPerIp: burst } });
    const aKey = generateIdentity().keyString;
    await b.addPeer({ endpoint: '127.0.0.1:9', key: aKey, name: 'a' });
    const mallory = generateIdentity();
    const s = await socket();
    let cookies = 0;
    s.on('message', (d) => {
      if (d.length === COOKIE_REPLY_BYTES && d[0] === 0x47) cookies++;
    });
    try {
      const n = 500;
      for (let i = 0; i < n; i++) {
        // claims to be the peer, keyed with another secret: each admitted one costs a DH, then fails the AEAD
        const forged = forgeIkInit({ claimed: decodeKey(aKey), secretOf: mallory, responderKey: decodeKey(b.publicKey), sid: i + 1, random: systemRandom, wallMs: Date.now() + i });
        s.send(forged, b.port, '127.0.0.1');
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(() => drops(b, 'rateLimited') + drops(b, 'authFailure') + cookies === n, 10000, 'all forged inits refused or answered');
      expect(drops(b, 'authFailure')).toBeLessThanOrEqual(burst + 2); // only a source burst (and refill) reached the DH
      expect(drops(b, 'authFailure')).toBeGreaterThan(0);
      expect(b.peers()[0]!.state).not.toBe('established');
    } finally {
      s.close();
      await b.close();
    }
  }, 30000);

  test('a peer sending above its packet rate is rate limited and counted; the daemon keeps serving', async () => {
    // The receiver's drops look like congestion to the sender: a long window wait keeps its sends from failing with ERR_CONGESTION.
    const a = await startNode({ settings: { mtu: 1500, datagramWindowWaitMs: 30_000 } });
    const b = await startNode({ settings: { peerPacketsPerSecond: 100, peerPacketBurst: 50 } });
    try {
      await pair(a, b);
      const atB = collect(b);
      for (let i = 0; i < 300; i++) await a.send('b', `m${i}`); // each in its own turn: one datagram each
      await waitFor(() => atB.length + drops(b, 'rateLimited') >= 300, 5000, 'all accounted for');
      expect(drops(b, 'rateLimited')).toBeGreaterThan(200);
      expect(atB.length).toBeLessThan(100);
      // every message is either delivered or a counted drop (keepalives may be dropped too)
      expect(atB.length + drops(b, 'rateLimited')).toBeGreaterThanOrEqual(300);
      expect(new Set(atB.map((m) => Buffer.from(m.data).toString())).size).toBe(atB.length);
      await new Promise((r) => setTimeout(r, 1100)); // bucket refills
      await a.send('b', 'after the flood');
      await waitFor(() => atB.some((m) => Buffer.from(m.data).toString() === 'after the flood'));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('genuine inits from 400 strangers over 16 source addresses: each refused, rate limited or answered with a cookie only, at most 16 kept for first contact, the node still pairs', async () => {
    const b = await startNode();
    const a = await startNode();
    const sockets = await Promise.all(Array.from({ length: 16 }, (_, i) => socket(`127.0.8.${i + 1}`)));
    const got: number[] = [];
    for (const s of sockets) s.on('message', (d) => got.push(d.length === COOKIE_REPLY_BYTES && d[0] === 0x47 ? 0 : d.length));
    try {
      const n = 400;
      for (let i = 0; i < n; i++) {
        // a stranger's own secret: a genuine init, refused only because its key is no peer's
        const id = generateIdentity();
        sockets[i % sockets.length]!.send(forgeIkInit({ claimed: id.publicKey, secretOf: id, responderKey: decodeKey(b.publicKey), sid: i + 1, random: systemRandom, wallMs: Date.now() }), b.port, '127.0.0.1');
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
      }
      const refused = (): number => drops(b, 'unknownPeer');
      await waitFor(() => refused() + drops(b, 'rateLimited') + got.length === n, 20000, () => `${refused()} refused, ${drops(b, 'rateLimited')} rate limited, ${got.length} answered`);
      expect(refused()).toBeGreaterThan(REFUSED_INITS_MAX); // enough reached the DH to fill the cache
      await pair(b, a, ['a', 'b']); // the node still serves (b adds a first: b's cache is not touched); its link shows the cache
      expect(nativeLinkOf(b, 'a').engine.v4.refused.size).toBe(REFUSED_INITS_MAX);
      expect(got.filter((len) => len !== 0)).toEqual([]); // strangers got cookie replies at most, never a handshake answer
      expect(b.status().counters.drops).toEqual(expect.not.objectContaining({ authFailure: expect.anything() }));
    } finally {
      for (const s of sockets) s.close();
      await a.close();
      await b.close();
    }
  }, 30000);
});
