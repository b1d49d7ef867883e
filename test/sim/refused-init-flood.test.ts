/**
 * The refused-init cache (RefusedInits, PROTOCOL §5.5 first contact) under a flood of genuine IK
 * inits from identities that are not peers, sent from many addresses: every one costs the
 * responder its DH and is refused (`unknownPeer`), none is answered, the cache holds at most
 * REFUSED_INITS_MAX of them (the oldest go), and a legitimate init the flood pushed out only costs
 * first contact its shortcut: the responder, adding the peer, starts its own attempt and the
 * crossing rule settles on one session. Exact simulated times (no CPU on the simulator).
 */
import { SimWorld, SIM_PORT, established, messages, text } from './harness';
import { decodeKey, identityFromSeed } from '../../src/crypto/identity';
import { SeededRandom } from '../../src/runtime/random';
import { REFUSED_INITS_MAX } from '../../src/engine/native/refused-inits';
import { nativeLinkOf } from '../node/internals';
import { forgeIkInit, IK_INIT_BYTES, IK_RESPONSE_BYTES } from '../helpers/v4-forge';
import type { UdpVaultNode } from '../../src/node/types';
import type { Transport } from '../../src/net/transport';

const A = '127.0.6.1';
const B = '127.0.6.2';
const endpoint = (n: UdpVaultNode): string => `${n.status().host}:${SIM_PORT}`;
const drops = (n: UdpVaultNode): Record<string, number> => n.status().counters.drops as Record<string, number>;

describe('refused inits under a flood of inits from strangers', () => {
  test('a flood from 8 addresses pushes a kept legitimate init out: every stranger refused and unanswered, at most 16 kept, first contact still makes one session', async () => {
    const w = new SimWorld(11);
    w.net.setDefaultLink({ latencyMs: 1 });
    const attackers: Transport[] = [];
    try {
      const a = await w.node(A);
      const b = await w.node(B);
      const refusedEvents: string[] = [];
      b.on('refused', (ev) => refusedEvents.push(ev.reason));
      // a adds b first: its init reaches b before b knows a, is refused and kept
      await a.addPeer({ endpoint: endpoint(b), key: b.publicKey, name: 'peer' });
      await w.scheduler.advance(2);
      expect(drops(b)).toEqual({ unknownPeer: 1 });
      // 32 strangers' genuine inits (each holds its own secret), 4 from each of 8 addresses
      const strangers = 2 * REFUSED_INITS_MAX;
      const random = new SeededRandom(5);
      for (let h = 0; h < 8; h++) {
        const host = `127.0.7.${h + 1}`;
        attackers.push(await w.net.host(host).openTransport({ host, port: SIM_PORT, onMessage: () => undefined, onError: () => undefined }));
      }
      // in rounds of one per address, 25 ms apart: each source's fair share of the handshake
      // admission (50/s here) lets every one reach its DH, all within the cache's 250 ms TTL
      for (let i = 0; i < strangers; i++) {
        const id = identityFromSeed(new Uint8Array(32).fill(i + 1));
        attackers[i % 8]!.send(forgeIkInit({ claimed: id.publicKey, secretOf: id, responderKey: decodeKey(b.publicKey), sid: i + 1, random, wallMs: w.clock.now(), clock: w.clock }), SIM_PORT, B, 4);
        if (i % 8 === 7) await w.scheduler.advance(25);
      }
      expect(drops(b)).toEqual({ unknownPeer: 1 + strangers });
      expect(refusedEvents).toEqual(new Array<string>(1 + strangers).fill('unknown-identity'));
      // Within the cache's TTL, b adds a: a's init is no longer kept, so b starts its own attempt.
      await b.addPeer({ endpoint: endpoint(a), key: a.publicKey, name: 'peer' });
      const link = nativeLinkOf(b, 'peer');
      expect(link.engine.v4.refused.size).toBe(REFUSED_INITS_MAX); // the newest strangers; nothing of a's was taken
      expect(link.handshaker.pending).not.toBeNull();
      expect(await w.scheduler.runUntil(() => established(a, 'peer') && established(b, 'peer'), 5_000)).toBe(true);
      await w.scheduler.advance(1_000);
      const from = (n: UdpVaultNode, size: number): number => w.net.trace.filter((e) => e.from === endpoint(n) && e.size === size).length;
      // One init each (a's pending attempt, b's own), and one answer: the crossing rule's.
      expect([from(a, IK_INIT_BYTES), from(b, IK_INIT_BYTES)]).toEqual([1, 1]);
      expect(from(a, IK_RESPONSE_BYTES) + from(b, IK_RESPONSE_BYTES)).toBe(1);
      // Nothing went to the strangers' addresses.
      expect(w.net.trace.filter((e) => e.from === endpoint(b) && e.to.startsWith('127.0.7.'))).toHaveLength(0);
      expect([nativeLinkOf(a, 'peer').keypairs.size, link.keypairs.size]).toEqual([1, 1]);
      expect(drops(b)).toEqual({ unknownPeer: 1 + strangers });
      const atA = messages(a);
      await b.send('peer', 'after the flood');
      await w.scheduler.advance(100);
      expect(atA.map(text)).toEqual(['after the flood']);
    } finally {
      for (const t of attackers) await t.close();
      await w.closeAll();
    }
  });
});
