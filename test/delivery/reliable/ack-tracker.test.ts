import { AckTracker, ackPolicyForWindow, BULK_ACK_POLICY } from '../../../src/delivery/reliable/ack-tracker';

describe('AckTracker', () => {
  it('acks after every 2nd ack-eliciting packet, with the delay since the largest arrived', () => {
    const t = new AckTracker();
    expect(t.onPacketReceived(0, true, 0)).toBe(true);
    expect([t.ackDue(0), t.deadline()]).toEqual([false, 25]);
    t.onPacketReceived(1, true, 3);
    expect(t.ackDue(3)).toBe(true);
    expect(t.takeAck(4)).toEqual({ ranges: [{ smallest: 0, largest: 1 }], ackDelayMs: 1 });
    expect([t.ackDue(4), t.deadline(), t.hasNewInfo]).toEqual([false, null, false]);
  });

  it('acks a lone packet when the 25 ms max ack delay expires', () => {
    const t = new AckTracker();
    t.onPacketReceived(7, true, 10);
    expect([t.ackDue(34), t.ackDue(35), t.deadline()]).toEqual([false, true, 35]);
    expect(t.takeAck(35)).toEqual({ ranges: [{ smallest: 7, largest: 7 }], ackDelayMs: 25 });
  });

  it('never acks for non-ack-eliciting packets alone, nor counts them as news for a piggybacked ack, but reports them', () => {
    const t = new AckTracker();
    for (let k = 0; k < 5; k++) t.onPacketReceived(k, false, k);
    // ack16: a data sender receiving the peer's ack-only datagrams does not acknowledge each of them (quic-go's hasNewAck).
    expect([t.ackDue(1000), t.deadline(), t.hasNewInfo]).toEqual([false, null, false]);
    expect(t.takeAck(1000)?.ranges).toEqual([{ smallest: 0, largest: 4 }]);
    t.onPacketReceived(5, true, 1001);
    expect(t.hasNewInfo).toBe(true);
  });

  it('acks at once on a gap or a reordered packet, merging ranges', () => {
    const t = new AckTracker();
    t.onPacketReceived(0, true, 0);
    t.onPacketReceived(1, true, 0);
    t.takeAck(0);
    t.onPacketReceived(3, true, 1); // gap: 2 missing
    expect(t.ackDue(1)).toBe(true);
    expect(t.takeAck(1)?.ranges).toEqual([{ smallest: 3, largest: 3 }, { smallest: 0, largest: 1 }]);
    t.onPacketReceived(2, true, 2); // fills the gap (reordered)
    expect(t.ackDue(2)).toBe(true);
    expect(t.takeAck(2)?.ranges).toEqual([{ smallest: 0, largest: 3 }]);
    t.onPacketReceived(10, true, 3);
    t.onPacketReceived(6, true, 3);
    t.onPacketReceived(8, true, 3);
    t.onPacketReceived(7, true, 3);
    t.onPacketReceived(5, true, 3);
    expect(t.takeAck(3)?.ranges).toEqual([{ smallest: 10, largest: 10 }, { smallest: 5, largest: 8 }, { smallest: 0, largest: 3 }]);
  });

  it('refuses duplicates without touching the ack state', () => {
    const t = new AckTracker();
    t.onPacketReceived(4, true, 0);
    t.takeAck(0);
    expect(t.onPacketReceived(4, true, 1)).toBe(false);
    expect([t.duplicates, t.ackDue(100), t.hasNewInfo]).toEqual([1, false, false]);
  });

  it('keeps at most 32 ranges, dropping the oldest and ignoring what falls below them', () => {
    const t = new AckTracker();
    for (let k = 0; k < 40; k++) t.onPacketReceived(2 * k, true, k); // 40 isolated packets
    const ack = t.takeAck(40)!;
    expect(ack.ranges.length).toBe(32);
    expect(ack.ranges[0]).toEqual({ smallest: 78, largest: 78 });
    expect(ack.ranges[31]).toEqual({ smallest: 16, largest: 16 });
    expect(t.onPacketReceived(13, true, 41)).toBe(false); // below the kept ranges
    expect(t.onPacketReceived(17, true, 41)).toBe(true); // joins 16 and 18
    const merged = t.takeAck(41)!.ranges;
    expect([merged.length, merged[30]]).toEqual([31, { smallest: 16, largest: 18 }]);
  });

  it('ackPolicyForWindow asks for about 4 acks per window, between every 2nd and every 10th packet', () => {
    expect([12_000, 14_400, 24_000, 48_000, 60_000, 1e9].map((w) => ackPolicyForWindow(w, 1200).ackEveryPackets)).toEqual([2, 3, 5, 10, 10, 10]);
    expect(ackPolicyForWindow(48_000, 1200)).toEqual({ ackEveryPackets: 10, maxAckDelayMs: 25, ignoreOrder: false });
    expect(BULK_ACK_POLICY).toEqual({ ackEveryPackets: 10, maxAckDelayMs: 25, ignoreOrder: false });
  });

  it('ignoreOrder thinning: every 10th packet, 25 ms at most, no immediate ack on reordering', () => {
    const t = new AckTracker({ ...BULK_ACK_POLICY, ignoreOrder: true });
    for (let k = 0; k < 9; k++) t.onPacketReceived(k === 4 ? 20 : k, true, 1); // 20: a gap
    expect([t.ackDue(1), t.deadline()]).toEqual([false, 26]);
    t.onPacketReceived(4, true, 2);
    expect(t.ackDue(2)).toBe(true);
    expect(() => t.setPolicy({ ackEveryPackets: 2, maxAckDelayMs: 26, ignoreOrder: false })).toThrow('maxAckDelayMs must be in 0…25');
  });

  it('pruneBelow drops what the peer knows we acknowledged, and ignores it afterwards', () => {
    const t = new AckTracker();
    for (const pn of [1, 2, 4, 5, 6, 9]) t.onPacketReceived(pn, true, 0);
    t.pruneBelow(5);
    expect(t.takeAck(0)?.ranges).toEqual([{ smallest: 9, largest: 9 }, { smallest: 5, largest: 6 }]);
    expect(t.onPacketReceived(3, true, 1)).toBe(false);
    t.pruneBelow(2); // lower than before: nothing changes
    expect(t.takeAck(1)?.ranges).toEqual([{ smallest: 9, largest: 9 }, { smallest: 5, largest: 6 }]);
    t.pruneBelow(100);
    expect(t.takeAck(2)).toBeNull();
  });

  it('reset forgets everything', () => {
    const t = new AckTracker();
    t.onPacketReceived(9, true, 0);
    t.reset();
    expect([t.largest, t.rangeCount, t.takeAck(0)]).toEqual([-1, 0, null]);
  });
});

describe('AckTracker: delayable packets (ack20: the peer\'s delivery-ack datagrams)', () => {
  it('count toward no ack-every threshold: acknowledged by a piggybacked ack, else once the ack delay expired', () => {
    const t = new AckTracker();
    for (let k = 0; k < 5; k++) expect(t.onPacketReceived(k, true, 10 + k, true)).toBe(true);
    // five in order: never due by count (every 2nd would have made two lone acks), the delay counts from the first
    expect([t.ackDue(34), t.deadline(), t.hasNewInfo]).toEqual([false, 35, true]);
    expect(t.ackDue(35)).toBe(true);
    expect(t.takeAck(35)).toEqual({ ranges: [{ smallest: 0, largest: 4 }], ackDelayMs: 21 });
    expect([t.ackDue(1000), t.deadline(), t.hasNewInfo]).toEqual([false, null, false]);
  });

  it('a data packet still counts: one delayable and one data packet are not two, two data packets are', () => {
    const t = new AckTracker();
    t.onPacketReceived(0, true, 0, true);
    t.onPacketReceived(1, true, 1);
    expect([t.ackDue(1), t.deadline()]).toEqual([false, 25]);
    t.onPacketReceived(2, true, 2);
    expect(t.ackDue(2)).toBe(true);
  });

  it('one that opens a gap or arrives out of order is acknowledged at once (fast loss detection for the peer)', () => {
    const t = new AckTracker();
    t.onPacketReceived(0, true, 0, true);
    expect(t.ackDue(0)).toBe(false);
    t.onPacketReceived(2, true, 1, true); // 1 missing
    expect(t.ackDue(1)).toBe(true);
    expect(t.takeAck(1)!.ranges).toEqual([{ smallest: 2, largest: 2 }, { smallest: 0, largest: 0 }]);
    t.onPacketReceived(1, true, 2, true); // the gap filled late
    expect(t.ackDue(2)).toBe(true);
  });
});
