/**
 * The objects an idle peer keeps, by size (issue 12, mem22): each kind's heap per object,
 * measured (test/sim/heap-retained.ts: the median of three rounds of 50,000, within ~3 B). A field added to one of
 * them, a private instance method (its brand: a field of 8 B in every instance) or a list kept
 * with room to grow shows here as bytes. Before mem22 (same measurement): ReplayWindow 72 B in
 * order and 254 B with a counter missing, PeerTimers 96, PeerTrust 72, Keypairs 136, PmtuSearch
 * 360, LinkV4 104, Peer 424, Session 327 (the last three with the objects their constructors make).
 */
import { retainedPer } from './heap-retained';
import { ReplayWindow } from '../../src/crypto/replay';
import { PeerTimers } from '../../src/peer/timers';
import { PeerTrust } from '../../src/peer/trust';
import { Keypairs } from '../../src/peer/keypairs';
import { PmtuSearch } from '../../src/delivery/pmtu';
import { LinkV4 } from '../../src/engine/native/link-v4';
import { Peer } from '../../src/peer/peer';
import { Session } from '../../src/crypto/session';
import { cipherPair, packetCipher } from '../../src/crypto/aead';
import { ManualClock } from '../../src/runtime/clock';

/** `measured` is `bytes`, within the measurement's noise (a field is 8 B). */
function expectBytes(measured: number, bytes: number): void {
  expect(Math.abs(measured - bytes)).toBeLessThan(5);
}

const window = (...counters: number[]): ReplayWindow => {
  const w = new ReplayWindow();
  for (const c of counters) if (!w.accept(c)) throw new Error(`counter ${c} refused`);
  return w;
};

describe("an idle peer's objects, bytes each", () => {
  test('the replay window: no brand, no block count (the ring has it), missing counters in an array of exactly their number', () => {
    expect(window(0, 1).form).toBe('in-order');
    expectBytes(retainedPer(() => window(0, 1)), 56); // 3 header words + windowPackets, ring, highest, missing
    expect(window(0, 2).form).toBe('missing');
    expectBytes(retainedPer(() => window(0, 2)), 56 + 32 + 24); // + the array (32) and its one element (16 + 8)
    expectBytes(retainedPer(() => window(0, 3)), 56 + 32 + 32);
    expectBytes(retainedPer(() => window(0, 3, 1)), 56 + 32 + 24); // a filled counter leaves an exact array too
  });

  test('no brand on the per-peer classes (their helpers are static)', () => {
    expectBytes(retainedPer(() => new PeerTimers()), 88);
    expectBytes(retainedPer(() => new PeerTrust(null, 'unknown')), 64);
    const index = { bindSession: () => undefined, unbindSession: () => undefined } as never;
    expectBytes(retainedPer(() => new Keypairs({}, index)), 72 + 56); // + the owner given ({}: 56 B)
    expectBytes(retainedPer(() => new PmtuSearch({ baseBytes: 1200, maxBytes: 1472 })), 352);
    const clock = new ManualClock();
    const stored = { lastHandshakeTs: null };
    expectBytes(retainedPer(() => new LinkV4(clock, stored)), 96);
    const emit = (): void => undefined;
    const rested = { rate: 1, burst: 1 } as never;
    const peer = (i: number): Peer =>
      new Peer({ key: null, trust: 'unknown', name: null, spec: { host: 'h', port: i }, endpoint: { address: 'h', port: i, family: 4 }, compat: null, allowPlaintext: false, lastHandshakeTs: null, lastHandshakeAt: null, limiter: rested, emit });
    expectBytes(retainedPer(peer), 404);
    const remoteStatic = new Uint8Array(32);
    const session = (i: number): Session =>
      new Session({ sendKey: new Uint8Array(32).fill(1), recvKey: new Uint8Array(32).fill(2), localSid: i, remoteSid: 9, initiator: true, remoteStatic, remoteTimestampMs: 1 }, 0.5);
    const pair = (): unknown => cipherPair(packetCipher(new Uint8Array(32).fill(1)), packetCipher(new Uint8Array(32).fill(2)));
    // beyond its cipher pair (and the key store's slabs, whose growth depends on what ran before): the
    // session 144, its replay window 56 and its three boxed times 48
    const s = retainedPer(session, 20_000);
    const p = retainedPer(pair, 20_000);
    expectBytes(s - p, 144 + 56 + 48);
  });
});
