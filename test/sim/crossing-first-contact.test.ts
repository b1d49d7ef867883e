/**
 * First contact when both sides add each other a moment apart (scripts, demos, tests): ~1 round
 * trip after the second add, in both key orders (PROTOCOL §5.5). The first side's init reaches
 * the other before it knows the first (refused `unknownPeer`) unless the gap is under one
 * one-way trip. The other's init then crosses the first side's pending attempt; before this rule
 * the first side, when its key was the greater, ignored it and resent its own only 100 ms later
 * (gaps under 20 ms: 109 / 123 ms at 5 / 19 ms gaps, 1 ms each way) or at once (a round trip
 * more). Now, holding no session with the peer (nothing shows the peer knows us), it answers.
 * Exact simulated times: no CPU on the simulator, so gap + 3 one-way trips when the first init
 * was refused (the answer, and the initiator's confirming keepalive), gap + 2 when both inits
 * crossed (each side's own init answered; a crossing pair, which converges on one session).
 */
import { SimWorld, SIM_PORT, established, messages, text } from './harness';
import { decodeKey } from '../../src/crypto/identity';
import { nativeLinkOf } from '../node/internals';
import { IK_INIT_BYTES, IK_RESPONSE_BYTES } from '../helpers/v4-forge';
import type { UdpVaultNode } from '../../src/node/types';

const A = '127.0.6.1';
const B = '127.0.6.2';
const endpoint = (n: UdpVaultNode): string => `${n.status().host}:${SIM_PORT}`;
const drops = (n: UdpVaultNode): Record<string, number> => n.status().counters.drops as Record<string, number>;
const link = (n: UdpVaultNode): ReturnType<typeof nativeLinkOf> => nativeLinkOf(n, 'peer');

const cases: Array<[number, number, 'greater' | 'smaller']> = [];
for (const latencyMs of [1, 10]) for (const first of ['greater', 'smaller'] as const) for (const gapMs of [0, 5, 19, 25]) cases.push([latencyMs, gapMs, first]);

describe('first contact, both sides add each other a moment apart', () => {
  test.each(cases)('%i ms each way, the second adds %i ms after the first (the %s key first): one round trip after the second add, one init each, one session left', async (latencyMs, gapMs, firstKey) => {
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
      expect(w.clock.monotonic() - t0).toBe(gapMs + (refused ? 3 : 2) * latencyMs);
      await w.scheduler.advance(4 * latencyMs + 200);
      const sent = (n: UdpVaultNode, size: number): number => w.net.trace.filter((e) => e.from === endpoint(n) && e.size === size).length;
      // One init each: no crossing resend, no retry. The first side answers the second's init
      // (whatever the key order); the second answers the first's only if it knew it in time.
      expect([sent(first, IK_INIT_BYTES), sent(second, IK_INIT_BYTES)]).toEqual([1, 1]);
      expect([sent(first, IK_RESPONSE_BYTES), sent(second, IK_RESPONSE_BYTES)]).toEqual([1, refused ? 0 : 1]);
      expect([drops(first), drops(second)]).toEqual([{}, refused ? { unknownPeer: 1 } : {}]);
      expect([link(first).handshaker.pending, link(second).handshaker.pending]).toEqual([null, null]);
      expect([link(first).keypairs.size, link(second).keypairs.size]).toEqual(refused ? [1, 1] : [2, 2]);
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
});
