/** PeerTimers: each timer armed and disarmed only by the hooks named for what happened (wireguard-go style). */
import { ANSWER_DELAY_MS, PeerTimers } from '../../src/peer/timers';

const S = { livenessTimeoutMs: 10_000, unreachableAfterMs: 5_000, keepaliveMs: 25_000 };

describe('PeerTimers liveness hooks', () => {
  test('an eliciting packet arms newHandshake once (the first unanswered one counts); any received packet disarms it', () => {
    const t = new PeerTimers();
    t.packetSent(1_000, true, S);
    t.packetSent(4_000, true, S); // still the first one's deadline
    expect([t.deadline('newHandshake'), t.unansweredSinceMs]).toEqual([11_000, 1_000]);
    expect([t.isDue('newHandshake', 10_999), t.isDue('newHandshake', 11_000)]).toEqual([false, true]);
    t.packetReceived(5_000, false, S);
    expect([t.isArmed('newHandshake'), t.unansweredSinceMs]).toEqual([false, null]);
    t.packetSent(6_000, true, S);
    expect(t.deadline('newHandshake')).toBe(16_000);
  });

  test('deadlines are whole milliseconds rounded up (never early; small integers in their fields: issue 12)', () => {
    const t = new PeerTimers();
    t.packetSent(1_000.25, true, S);
    expect([t.deadline('newHandshake'), t.deadline('sendKeepalive'), t.unansweredSinceMs]).toEqual([11_001, 26_001, 1_000.25]);
    expect([t.isDue('newHandshake', 11_000.9), t.isDue('newHandshake', 11_001)]).toEqual([false, true]);
  });

  test('a packet that asks for nothing (an answer, an ack) does not start the liveness clock', () => {
    const t = new PeerTimers();
    t.packetSent(1_000, false, S);
    expect([t.isArmed('newHandshake'), t.unansweredSinceMs]).toEqual([false, null]);
    expect(t.deadline('sendKeepalive')).toBe(26_000); // but it restarts the keepalive interval
  });

  test('newHandshake fired → declareUnreachable unreachableAfterMs later; an answer disarms both', () => {
    const t = new PeerTimers();
    t.packetSent(0, true, S);
    t.livenessHandshakeStarted(10_000, S);
    expect([t.isArmed('newHandshake'), t.deadline('declareUnreachable')]).toEqual([false, 15_000]);
    expect(t.unansweredSinceMs).toBe(0); // still counted from the first unanswered packet
    t.packetReceived(14_000, false, S);
    expect([t.isArmed('declareUnreachable'), t.unansweredSinceMs]).toEqual([false, null]);
    t.packetSent(20_000, true, S);
    t.livenessHandshakeStarted(30_000, S);
    t.unreachableDeclared();
    expect(t.isArmed('declareUnreachable')).toBe(false);
  });

  test('an eliciting packet from the peer arms sendAnswer (≤ 1 s, a quarter of the liveness timeout at most); anything we send disarms it', () => {
    const t = new PeerTimers();
    t.packetReceived(0, true, S);
    expect(t.deadline('sendAnswer')).toBe(ANSWER_DELAY_MS);
    t.packetReceived(500, true, S); // not pushed back
    expect(t.deadline('sendAnswer')).toBe(ANSWER_DELAY_MS);
    t.packetSent(600, false, S);
    expect(t.isArmed('sendAnswer')).toBe(false);
    t.packetReceived(700, false, S); // a packet asking for nothing arms nothing
    expect(t.isArmed('sendAnswer')).toBe(false);
    const fast = new PeerTimers();
    fast.packetReceived(0, true, { ...S, livenessTimeoutMs: 2_000 });
    expect(fast.deadline('sendAnswer')).toBe(500);
    fast.answerSent();
    expect(fast.isArmed('sendAnswer')).toBe(false);
  });

  test('stopped clears every timer; nextDeadline is the earliest armed one', () => {
    const t = new PeerTimers();
    t.handshakeInitiated(0, 1_500);
    t.packetSent(100, true, S);
    t.packetReceived(200, true, S);
    expect(t.nextDeadline()).toBe(200 + ANSWER_DELAY_MS);
    t.stopped();
    expect([t.nextDeadline(), t.unansweredSinceMs]).toEqual([null, null]);
  });
});
