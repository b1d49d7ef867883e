/**
 * First contact when both sides add each other a moment apart (scripts, demos, tests): about a
 * round trip after the second add, one handshake, in both key orders (PROTOCOL §5.5). When the
 * gap is at least one one-way trip, the first side's init reaches the other before it knows the
 * first and is refused (`unknownPeer`); the refused init is kept (RefusedInits), and when the
 * other adds the first it answers that init instead of starting its own attempt: gap + 2 one-way
 * trips (the answer, and the initiator's confirming keepalive). Before, the second's own init
 * crossed the first's pending attempt and, the first's key being the greater, was ignored and
 * the first resent only 100 ms later: 109 / 123 ms at 5 / 19 ms gaps, 1 ms each way; 59 / 65 ms
 * at 19 / 25 ms gaps, 10 ms each way. When the inits cross (gap under a one-way trip, both
 * known in time), the crossing rule keeps one handshake: the smaller key answers the greater's
 * init. Exact simulated times (no CPU on the simulator).
 */
import { SimWorld, SIM_PORT, established, messages, text } from './harness';
import { decodeKey } from '../../src/crypto/identity';
import { nativeLinkOf } from '../node/internals';
import { IK_INIT_BYTES, IK_RESPONSE_BYTES } from '../helpers/v4-forge';
import { identityFromSeed } from '../../src/crypto/identity';
import { SeededRandom } from '../../src/runtime/random';
import { forgeIkInit } from '../helpers/v4-forge';
import type { UdpVaultNode } from '../../src/node/types';

const A = '127.0.6.1';
const B = '127.0.6.2';
const endpoint = (n: UdpVaultNode): string => `${n.status().host}:${SIM_PORT}`;
const drops = (n: UdpVaultNode): Record<string, number> => n.status().counters.drops as Record<string, number>;
const link = (n: UdpVaultNode): ReturnType<typeof nativeLinkOf> => nativeLinkOf(n, 'peer');

const cases: Array<[number, number, 'greater' | 'smaller']> = [];
for (const latencyMs of [1, 10]) for (const first of ['greater', 'smaller'] as const) for (const gapMs of [0, 5, 19, 25]) cases.push([latencyMs, gapMs, first]);

describe('first contact, both sides add each other a moment apart', () => {
  test.each(cases)('%i ms each way, the second adds %i ms after the first (the %s key first): about a round trip after the second add, one handshake, one session', async (latencyMs, gapMs, firstKey) => {
    const w = new SimWorld(7);
    w.net.setDefaultLink({ latencyMs });
    try {
      const a = await w.node(A);
      const b = await w.node(B);
      const g = Buffer.compare(Buffer.from(decodeKey(a.publicKey)), Buffer.from(decodeKey(b.publicKey))) > 0 ? a : b;
      const s = g === a ? b : a;
      const [first, second] = firstKey === 'greater' ? [g, s] : [s, g];
      const t0 = w.clock.monotonic();
      await first.addPeer({ endpoint: endpoint(second), key: second.publicKey, name: 'peer' });
      await w.scheduler.advance(gapMs);
      await second.addPeer({ endpoint: endpoint(first), key: first.publicKey, name: 'peer' });
      expect(await w.scheduler.runUntil(() => established(a, 'peer') && established(b, 'peer'), 5_000)).toBe(true);
      const refused = gapMs >= latencyMs; // the first init arrived before the second side knew the first
      const greaterFirst = firstKey === 'greater';
      expect(w.clock.monotonic() - t0).toBe(refused ? gapMs + 2 * latencyMs : (greaterFirst ? 0 : gapMs) + 3 * latencyMs);
      await w.scheduler.advance(4 * latencyMs + 200);
      const sent = (n: UdpVaultNode, size: number): number => w.net.trace.filter((e) => e.from === endpoint(n) && e.size === size).length;
      // One handshake. Refused: the second answers the first's kept init and sends none of its
      // own. Crossing: one init each, and only the smaller key answers (the crossing rule).
      expect([sent(first, IK_INIT_BYTES), sent(second, IK_INIT_BYTES)]).toEqual(refused ? [1, 0] : [1, 1]);
      expect([sent(first, IK_RESPONSE_BYTES), sent(second, IK_RESPONSE_BYTES)]).toEqual(refused || greaterFirst ? [0, 1] : [1, 0]);
      expect([drops(first), drops(second)]).toEqual([{}, refused ? { unknownPeer: 1 } : {}]);
      expect([link(first).handshaker.pending, link(second).handshaker.pending]).toEqual([null, null]);
      expect([link(first).keypairs.size, link(second).keypairs.size]).toEqual([1, 1]);
      // The grace period (10 s) and keepalives (25 s): one session, the same on both sides.
      await w.scheduler.advance(40_000);
      const [cf, cs] = [link(first).current(), link(second).current()];
      expect([link(first).keypairs.size, link(second).keypairs.size]).toEqual([1, 1]);
      expect([cf!.localSid, cf!.remoteSid]).toEqual([cs!.remoteSid, cs!.localSid]);
      expect([drops(first), drops(second)]).toEqual([{}, refused ? { unknownPeer: 1 } : {}]);
      const [atA, atB] = [messages(a), messages(b)];
      await a.send('peer', 'to b');
      await b.send('peer', 'to a');
      await w.scheduler.advance(200);
      expect([atA.map(text), atB.map(text)]).toEqual([['to a'], ['to b']]);
    } finally {
      await w.closeAll();
    }
  }, 60_000);

  test('a kept init is read again in full when its peer is added: a forgery naming the peer (refused before any payload was authenticated) is refused then, no session, and our own handshake starts', async () => {
    const w = new SimWorld(8);
    w.net.setDefaultLink({ latencyMs: 1 });
    try {
      const a = await w.node(A);
      const b = await w.node(B);
      // Mallory names a's key from a's address, without a's secret (its ss is Mallory's).
      const mallory = identityFromSeed(new Uint8Array(32).fill(0x6d));
      const spoof = await w.net.host(A).openTransport({ host: A, port: SIM_PORT + 1, onMessage: () => undefined, onError: () => undefined });
      spoof.send(forgeIkInit({ claimed: decodeKey(a.publicKey), secretOf: mallory, responderKey: decodeKey(b.publicKey), sid: 7, random: new SeededRandom(3), wallMs: w.clock.now(), clock: w.clock }), SIM_PORT, B, 4);
      await w.scheduler.advance(5);
      expect(drops(b)).toEqual({ unknownPeer: 1 }); // refused and kept
      await b.addPeer({ endpoint: endpoint(a), key: a.publicKey, name: 'peer' });
      // Read in full now: its payload does not authenticate (counted on the peer), nothing
      // installed, no answer sent; b's own init went out instead.
      expect(Object.keys(drops(b)).sort()).toEqual(['authFailure', 'unknownPeer']);
      expect(drops(b)['authFailure']).toBe(1);
      expect(link(b).keypairs.size).toBe(0);
      expect(link(b).handshaker.pending).not.toBeNull();
      expect(w.net.trace.filter((e) => e.from === endpoint(b) && e.size === IK_RESPONSE_BYTES)).toHaveLength(0);
      await a.addPeer({ endpoint: endpoint(b), key: b.publicKey, name: 'peer' });
      expect(await w.scheduler.runUntil(() => established(a, 'peer') && established(b, 'peer'), 5_000)).toBe(true);
      await spoof.close();
    } finally {
      await w.closeAll();
    }
  });
});
