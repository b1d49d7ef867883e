import { ManualClock } from '../../src/runtime/clock';
import { UdpVaultError } from '../../src/errors';
import { ReliableSender, type ReliableSenderOptions } from '../../src/delivery/reliable-sender';

const STREAM = 0xabcdef01;
const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function make(over: Partial<ReliableSenderOptions> = {}): { s: ReliableSender; clock: ManualClock } {
  const clock = new ManualClock();
  const s = new ReliableSender({ clock, stream: STREAM, window: 64, rtoInitialMs: 200, rtoMinMs: 100, rtoMaxMs: 5000, ...over });
  return { s, clock };
}

/** Tracks a push() promise's outcome. */
function track(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => (t.state = 'resolved'),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  );
  return t;
}

describe('ReliableSender', () => {
  it('assigns consecutive seqs and wire flags per item', () => {
    const { s } = make();
    void s.push([b(1)], 1, 10_000);
    void s.push([b(2), b(3), b(4)], 0, 10_000);
    expect(s.pendingMessages).toBe(2);
    expect(s.queued).toBe(4);
    expect(s.base).toBe(1);
    expect(s.hasWork()).toBe(true);
    expect(s.take(10)).toEqual([
      { seq: 1, flags: 1 | 2, data: b(1) },
      { seq: 2, flags: 2 | 4, data: b(2), index: 0, count: 3 },
      { seq: 3, flags: 2 | 4, data: b(3), index: 1, count: 3 },
      { seq: 4, flags: 2 | 4, data: b(4), index: 2, count: 3 },
    ]);
    expect(s.inFlight).toBe(4);
    expect(s.queued).toBe(0);
    expect(s.hasWork()).toBe(false);
    expect(s.take(10)).toEqual([]);
  });

  it('takes at most maxItems', () => {
    const { s } = make();
    void s.push([b(1), b(2), b(3)], 0, 10_000);
    expect(s.take(2).map((i) => i.seq)).toEqual([1, 2]);
    expect(s.take(2).map((i) => i.seq)).toEqual([3]);
  });

  it('never has more than `window` items in flight', () => {
    const { s } = make({ window: 4 });
    for (let i = 0; i < 10; i++) void s.push([b(i)], 0, 10_000);
    expect(s.take(100).map((i) => i.seq)).toEqual([1, 2, 3, 4]);
    expect(s.hasWork()).toBe(false);
    s.onAck(STREAM, 0, [2, 4]); // SACKed items still occupy the window
    expect(s.take(100).map((i) => i.seq)).toEqual([1]); // fast retransmission only
    expect(s.take(100)).toEqual([]);
    s.onAck(STREAM, 2, [3, 4]);
    expect(s.base).toBe(3);
    expect(s.take(100).map((i) => i.seq)).toEqual([5, 6]);
    expect(s.inFlight).toBe(4);
    expect(s.queued).toBe(4);
  });

  it('resolves a message only when the cumulative ack covers its last seq', async () => {
    const { s } = make();
    const m1 = track(s.push([b(1), b(2), b(3)], 0, 10_000));
    const m2 = track(s.push([b(4)], 0, 10_000));
    s.take(10);
    s.onAck(STREAM, 0, [1, 4]);
    s.onAck(STREAM, 2, [3, 4]);
    await flush();
    expect([m1.state, m2.state]).toEqual(['pending', 'pending']);
    s.onAck(STREAM + 1, 4, []); // another stream: ignored
    await flush();
    expect(m1.state).toBe('pending');
    s.onAck(STREAM, 3, [4, 4]);
    await flush();
    expect([m1.state, m2.state]).toEqual(['resolved', 'pending']);
    s.onAck(STREAM, 99, []); // beyond what was sent: clamped
    await flush();
    expect(m2.state).toBe('resolved');
    expect(s.base).toBe(5);
    expect(s.inFlight).toBe(0);
    expect(s.pendingMessages).toBe(0);
  });

  it('rejects with ERR_NOT_ACKNOWLEDGED at the deadline, not before, and moves base past it', async () => {
    const { s, clock } = make({ rtoMaxMs: 400 });
    const m1 = track(s.push([b(1), b(2)], 0, 1000));
    const m2 = track(s.push([b(3)], 0, 5000));
    let now = 0;
    for (;;) {
      s.take(10);
      const d = s.nextDeadline()!;
      if (d >= 1000) break;
      clock.advance(d - now);
      now = d;
      s.tick();
    }
    clock.advance(999 - now);
    s.tick();
    await flush();
    expect(m1.state).toBe('pending');
    expect(s.nextDeadline()).toBe(1000);
    clock.advance(1);
    s.tick();
    await flush();
    expect(m1.state).toBe('rejected');
    expect(m1.error).toBeInstanceOf(UdpVaultError);
    expect(m1.error).toMatchObject({ code: 'ERR_NOT_ACKNOWLEDGED', message: 'not acknowledged within 1000 ms', name: 'DeliveryError' });
    expect(m2.state).toBe('pending');
    expect(s.base).toBe(3);
    expect(s.inFlight).toBe(1);
    expect(s.pendingMessages).toBe(1);
    s.onAck(STREAM, 3, []);
    await flush();
    expect(m2.state).toBe('resolved');
    expect(s.nextDeadline()).toBeNull();
  });

  it('abandons queued items that were never sent', async () => {
    const { s, clock } = make({ window: 1 });
    const m1 = track(s.push([b(1)], 0, 10_000));
    const m2 = track(s.push([b(2)], 0, 100));
    const m3 = track(s.push([b(3)], 0, 10_000));
    expect(s.take(10).map((i) => i.seq)).toEqual([1]);
    clock.advance(100);
    s.tick();
    await flush();
    expect(m2.state).toBe('rejected');
    expect(s.queued).toBe(1);
    s.onAck(STREAM, 1, []);
    expect(s.base).toBe(3);
    expect(s.take(10).map((i) => i.seq)).toEqual([3]);
    s.onAck(STREAM, 3, []);
    await flush();
    expect([m1.state, m3.state]).toEqual(['resolved', 'resolved']);
  });

  it('resends the item at the new base after an abandonment, so the receiver learns the base', () => {
    const { s, clock } = make();
    void s.push([b(1)], 0, 100).catch(() => undefined);
    void s.push([b(2)], 0, 10_000);
    s.take(10);
    s.onAck(STREAM, 0, [2, 2]); // seq 2 buffered at the receiver, waiting for seq 1
    clock.advance(100);
    s.tick();
    expect(s.base).toBe(2);
    expect(s.take(10)).toEqual([{ seq: 2, flags: 2, data: b(2) }]);
    expect(s.nextDeadline()).toBe(100 + s.rtoMs); // repeated until acknowledged
  });

  it('doubles the RTO on each timeout and caps it', () => {
    const { s, clock } = make({ rtoInitialMs: 200, rtoMaxMs: 1000 });
    void s.push([b(1)], 0, 100_000).catch(() => undefined);
    const sentAt: number[] = [];
    const rtos: number[] = [];
    let now = 0;
    for (let k = 0; k < 7; k++) {
      expect(s.take(10).map((i) => i.seq)).toEqual([1]);
      sentAt.push(now);
      const d = s.nextDeadline()!;
      clock.advance(d - now);
      now = d;
      s.tick();
      rtos.push(s.rtoMs);
    }
    expect(sentAt).toEqual([0, 200, 600, 1400, 2400, 3400, 4400]);
    expect(rtos).toEqual([400, 800, 1000, 1000, 1000, 1000, 1000]);
    expect(s.retransmissions).toBe(6);
    s.failAll(new UdpVaultError('ERR_CLOSED', 'closed'));
  });

  it('backs off once per timeout round, not once per timed-out item', () => {
    const { s, clock } = make({ rtoInitialMs: 200 });
    for (let i = 0; i < 3; i++) void s.push([b(i)], 0, 100_000).catch(() => undefined);
    s.take(1);
    clock.advance(50);
    s.take(1);
    clock.advance(50);
    s.take(1);
    clock.advance(100); // seq 1 times out
    s.tick();
    expect(s.rtoMs).toBe(400);
    expect(s.take(10).map((i) => i.seq)).toEqual([1]);
    clock.advance(100); // seqs 2 and 3 time out, sent before the backoff: same round
    s.tick();
    expect(s.take(10).map((i) => i.seq)).toEqual([2, 3]);
    expect(s.rtoMs).toBe(400);
    s.failAll(new UdpVaultError('ERR_CLOSED', 'closed'));
  });

  it('estimates RTT per RFC 6298 from items sent once (Karn)', () => {
    const { s, clock } = make({ rtoInitialMs: 200, rtoMinMs: 10 });
    void s.push([b(1)], 0, 100_000);
    s.take(1);
    clock.advance(100);
    s.onAck(STREAM, 1, []);
    expect(s.rttMs).toBe(100);
    expect(s.rtoMs).toBe(300); // 100 + 4 × 50
    void s.push([b(2)], 0, 100_000);
    s.take(1);
    clock.advance(50);
    s.onAck(STREAM, 2, []);
    expect(s.rttMs).toBe(93.75); // 7/8 × 100 + 1/8 × 50
    expect(s.rtoMs).toBe(293.75); // rttvar = 3/4 × 50 + 1/4 × 50 = 50
    void s.push([b(3)], 0, 100_000);
    s.take(1);
    clock.advance(293.75);
    s.tick();
    expect(s.rtoMs).toBe(587.5);
    s.take(1); // retransmission
    clock.advance(10);
    s.onAck(STREAM, 3, []);
    expect(s.rttMs).toBe(93.75); // no sample from a retransmitted item
    expect(s.rtoMs).toBe(587.5);
  });

  it('does not retransmit SACKed items', () => {
    const { s, clock } = make();
    void s.push([b(1), b(2), b(3)], 0, 100_000);
    s.take(10);
    clock.advance(10);
    s.onAck(STREAM, 0, [2, 3]);
    expect(s.rtoMs).toBe(100); // sample 10 ms: 10 + 4 × 5, raised to rtoMinMs
    expect(s.nextDeadline()).toBe(200); // seq 1, sent with the initial RTO
    clock.advance(190);
    s.tick();
    expect(s.rtoMs).toBe(200);
    expect(s.take(10).map((i) => i.seq)).toEqual([1]);
    expect(s.nextDeadline()).toBe(400);
  });

  it('fast-retransmits an item once three later transmissions were acknowledged', () => {
    const { s } = make();
    void s.push([b(1), b(2), b(3), b(4), b(5)], 0, 100_000);
    s.take(10);
    s.onAck(STREAM, 0, [2, 3]);
    expect(s.hasWork()).toBe(false); // only two later transmissions acknowledged
    s.onAck(STREAM, 0, [2, 4]);
    expect(s.hasWork()).toBe(true);
    expect(s.take(10).map((i) => i.seq)).toEqual([1]);
    expect(s.retransmissions).toBe(1);
  });

  it('retransmits SACKed items the receiver no longer reports (reneging)', () => {
    const { s } = make();
    void s.push([b(1), b(2), b(3)], 0, 100_000);
    s.take(10);
    s.onAck(STREAM, 0, [2, 3]);
    expect(s.hasWork()).toBe(false);
    s.onAck(STREAM, 0, []);
    expect(s.take(10).map((i) => i.seq)).toEqual([2, 3]);
  });

  it('refuses messages larger than the window and empty messages', async () => {
    const { s } = make({ window: 2 });
    await expect(s.push([b(1), b(2), b(3)], 0, 1000)).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
    await expect(s.push([], 0, 1000)).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT' });
    expect(s.pendingMessages).toBe(0);
    expect(s.hasWork()).toBe(false);
  });

  it('failAll rejects everything pending; seqs continue afterwards', async () => {
    const { s } = make();
    const m1 = s.push([b(1)], 0, 1000);
    const m2 = s.push([b(2)], 0, 1000);
    s.take(1);
    const err = new UdpVaultError('ERR_CLOSED', 'node closed');
    s.failAll(err);
    await expect(m1).rejects.toBe(err);
    await expect(m2).rejects.toBe(err);
    expect([s.inFlight, s.queued, s.pendingMessages, s.base]).toEqual([0, 0, 0, 3]);
    expect(s.nextDeadline()).toBeNull();
    void s.push([b(3)], 0, 1000);
    expect(s.take(10).map((i) => i.seq)).toEqual([3]);
  });
});
