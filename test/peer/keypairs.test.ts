/**
 * A peer's sessions (src/peer/keypairs.ts): a retired session's keys are zeroed where they live
 * (native: its two 32-byte slots of the sodium_malloc'd key store; wasm: the cipher's arrays),
 * on each backend, and a session the peer still sends on is kept with its keys.
 */
import { Session, type HandshakeKeys } from '../../src/crypto/session';
import { CROSSING_WINDOW_MS, Keypairs, type RetireRules, type SessionIndex } from '../../src/peer/keypairs';
import { eachBackend } from '../crypto/each-backend';

const RULES: RetireRules = { limits: { rekeyAfterMs: 120_000, rekeyAfterMessages: 2 ** 40, rejectAfterMs: 180_000 }, graceMs: 10_000, unconfirmedMs: 15_000 };

function session(sid: number, nowMs: number, initiator = true): Session {
  const keys: HandshakeKeys = {
    sendKey: new Uint8Array(32).fill(sid),
    recvKey: new Uint8Array(32).fill(sid + 1),
    localSid: sid,
    remoteSid: sid + 100,
    initiator,
    remoteStatic: new Uint8Array(32).fill(7),
    remoteTimestampMs: 1,
  };
  return new Session(keys, nowMs);
}

const zero = (v: Uint8Array): boolean => v.every((b) => b === 0);

function index(): SessionIndex<string> & { bound: number[] } {
  const bound: number[] = [];
  return {
    bound,
    bindSession: (_peer, s) => void bound.push(s.localSid),
    unbindSession: (s) => void bound.splice(bound.indexOf(s.localSid), 1),
  };
}

eachBackend((backend) => {
  test(`a superseded session retires after the grace period and its keys are zeroed (${backend})`, () => {
    const ix = index();
    const kp = new Keypairs('peer', ix);
    const old = session(1, 0);
    kp.install(old, 0, RULES);
    const cur = session(2, 1_000);
    kp.install(cur, 1_000, RULES);
    const [oldViews, curViews] = [old.secretViews(), cur.secretViews()];
    expect([oldViews.length, curViews.length]).toEqual([2, 2]); // send and receive key
    expect([...oldViews, ...curViews].some(zero)).toBe(false);
    cur.lastReceivedAtMs = 2_000; // the peer sent on the current session
    kp.retire(10_999, RULES); // 9,999 ms after the current session came: within the grace period
    expect(kp.size).toBe(2);
    kp.retire(11_000, RULES);
    expect(kp.size).toBe(1);
    expect(old.wiped).toBe(true);
    expect(oldViews.map(zero)).toEqual([true, true]);
    expect(old.secretViews()).toEqual([]);
    expect(curViews.map(zero)).toEqual([false, false]);
    expect(ix.bound).toEqual([2]);
    kp.wipeAll();
    expect(curViews.map(zero)).toEqual([true, true]);
    expect(ix.bound).toEqual([]);
  });

  test(`an older session the peer still sends on keeps its keys (${backend})`, () => {
    const kp = new Keypairs('peer', index());
    const old = session(3, 0);
    kp.install(old, 0, RULES);
    const cur = session(4, 1_000);
    kp.install(cur, 1_000, RULES);
    old.lastReceivedAtMs = 50_000; // crossing handshakes: the peer's current is our older one
    kp.retire(100_000, RULES);
    expect(kp.size).toBe(2);
    expect(old.secretViews().map(zero)).toEqual([false, false]);
  });
});

/**
 * Crossing handshakes (PROTOCOL §5.5): of two sessions of opposite initiators made within
 * CROSSING_WINDOW_MS, both sides send on the one the greater key initiated — once the peer has
 * sent on it after the other was made — and the other retires like an older session.
 */
describe('a crossing pair', () => {
  const L = RULES.limits;
  /** `ownWins`: our key is the greater. Ours: the session we initiated (confirmed at once); theirs: the peer's (confirmed by its first packet). */
  function pair(ownWins: boolean, oursAt: number, theirsAt: number): { kp: Keypairs<string>; ours: Session; theirs: Session } {
    const kp = new Keypairs('peer', index());
    const ours = session(1, oursAt, true);
    const theirs = session(2, theirsAt, false);
    for (const s of oursAt < theirsAt ? [ours, theirs] : [theirs, ours]) kp.install(s, s.createdAtMs, RULES, ownWins);
    return { kp, ours, theirs };
  }

  test('the greater key keeps sending on the newest until the peer sent on its own older one; then on that one, and the newer one retires after the grace period', () => {
    const { kp, ours, theirs } = pair(true, 0, 5);
    theirs.confirmed = true;
    theirs.lastReceivedAtMs = 6;
    expect(kp.current(10, L)).toBe(theirs); // no sign yet that the peer holds ours
    ours.lastReceivedAtMs = 5; // not after theirs was made
    expect(kp.current(10, L)).toBe(theirs);
    ours.lastReceivedAtMs = 20; // the peer moved to ours (it computes the same winner)
    expect(kp.current(20, L)).toBe(ours);
    kp.retire(10_005, RULES); // theirs received last at 6: idle for 9,999 ms
    expect(kp.size).toBe(2);
    kp.retire(10_006, RULES);
    expect([kp.size, theirs.wiped, kp.current(10_006, L)]).toEqual([1, true, ours]);
  });

  test('the smaller key sends on its own until the peer\'s (the winner) is confirmed by a packet after its own was made', () => {
    const { kp, ours, theirs } = pair(false, 5, 0);
    expect(kp.current(10, L)).toBe(ours); // theirs unconfirmed
    theirs.confirmed = true;
    theirs.lastReceivedAtMs = 4; // confirmed before ours existed: the newest still wins
    expect(kp.current(10, L)).toBe(ours);
    theirs.lastReceivedAtMs = 30;
    expect(kp.current(30, L)).toBe(theirs);
    // Ours is newer but the loser: superseded once idle for the grace period after the peer moved.
    ours.lastReceivedAtMs = 25;
    kp.retire(10_024, RULES);
    expect(kp.size).toBe(2);
    kp.retire(10_025, RULES);
    expect([kp.size, ours.wiped]).toEqual([1, true]);
  });

  test('a newer loser the peer still sends on stays (the peer has not moved)', () => {
    const { kp, ours, theirs } = pair(true, 0, 5);
    theirs.confirmed = true;
    ours.lastReceivedAtMs = 20;
    theirs.lastReceivedAtMs = 40; // the peer's last packet came on the loser
    expect(kp.current(40, L)).toBe(ours);
    kp.retire(100_000, RULES);
    expect([kp.size, theirs.wiped]).toEqual([2, false]);
  });

  test(`sessions made more than ${CROSSING_WINDOW_MS} ms apart are no pair: the newest wins`, () => {
    const { kp, ours, theirs } = pair(true, 0, CROSSING_WINDOW_MS + 1);
    theirs.confirmed = true;
    ours.lastReceivedAtMs = CROSSING_WINDOW_MS + 50;
    expect(kp.current(CROSSING_WINDOW_MS + 50, L)).toBe(theirs);
    const within = pair(true, 0, CROSSING_WINDOW_MS);
    within.theirs.confirmed = true;
    within.ours.lastReceivedAtMs = CROSSING_WINDOW_MS + 50;
    expect(within.kp.current(CROSSING_WINDOW_MS + 50, L)).toBe(within.ours);
  });

  test('two sessions of the same initiator are no pair: the newest wins', () => {
    const kp = new Keypairs('peer', index());
    const [s1, s2] = [session(1, 0, true), session(2, 5, true)];
    kp.install(s1, 0, RULES, true);
    kp.install(s2, 5, RULES, true);
    s1.lastReceivedAtMs = 20;
    expect(kp.current(20, L)).toBe(s2);
  });
});
