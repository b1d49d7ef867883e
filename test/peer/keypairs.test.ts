/**
 * A peer's sessions (src/peer/keypairs.ts): a retired session's keys are zeroed where they live
 * (native: its two 32-byte slots of the sodium_malloc'd key store; wasm: the cipher's arrays),
 * on each backend, and a session the peer still sends on is kept with its keys.
 */
import { Session, type HandshakeKeys } from '../../src/crypto/session';
import { Keypairs, type RetireRules, type SessionIndex } from '../../src/peer/keypairs';
import { eachBackend } from '../crypto/each-backend';

const RULES: RetireRules = { limits: { rekeyAfterMs: 120_000, rekeyAfterMessages: 2 ** 40, rejectAfterMs: 180_000 }, graceMs: 10_000, unconfirmedMs: 15_000 };

function session(sid: number, nowMs: number): Session {
  const keys: HandshakeKeys = {
    sendKey: new Uint8Array(32).fill(sid),
    recvKey: new Uint8Array(32).fill(sid + 1),
    localSid: sid,
    remoteSid: sid + 100,
    initiator: true,
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
