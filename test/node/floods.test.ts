/** Floods: handshake floods are rate limited per source IP before any signature check; data floods per peer. */
import * as dgram from 'node:dgram';
import { startNode, waitFor, pair, collect } from '../helpers/nodes';
import type { UdpVaultNode } from '../../src/node/types';
import { createInit } from '../../src/crypto/handshake';
import { generateIdentity, decodeKey } from '../../src/crypto/identity';
import { kxKeypair, sodiumReady } from '../../src/crypto/sodium';

const drops = (n: UdpVaultNode, r: string): number => (n.status().counters.drops as Record<string, number>)[r] ?? 0;

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

describe('floods', () => {
  beforeAll(sodiumReady);

  test('a handshake flood from one IP is cut by the per-IP limit before signature verification', async () => {
    const burst = 20;
    const b = await startNode({ settings: { handshakesPerSecondPerIp: 1, handshakeBurstPerIp: burst } });
    const aKey = generateIdentity().keyString;
    await b.addPeer({ endpoint: '127.0.0.1:9', key: aKey, name: 'a' });
    const mallory = generateIdentity();
    const s = await socket();
    try {
      const n = 500;
      for (let i = 0; i < n; i++) {
        // claims to be the peer, signed with another key: each would cost a verification
        const forged = createInit({
          identity: { ...mallory, publicKey: decodeKey(aKey) },
          responderStatic: decodeKey(b.publicKey),
          localSid: i + 1,
          ephemeral: kxKeypair(),
          timestampMs: Date.now() + i,
        });
        s.send(forged.init, b.port, '127.0.0.1');
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(() => drops(b, 'rateLimited') + drops(b, 'authFailure') === n, 10000, 'all forged inits dropped');
      expect(drops(b, 'authFailure')).toBeLessThanOrEqual(burst + 2); // only the burst (and refill) reached the signature check
      expect(drops(b, 'rateLimited')).toBeGreaterThanOrEqual(n - burst - 2);
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
});
