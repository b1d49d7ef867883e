import { PacketSpace, THIN_MAX_ACK_EVERY } from '../../../src/delivery/reliable/packet-space';
import { decodeAck } from '../../../src/wire/ack';

const MSS = 1200;
const make = () =>
  new PacketSpace<string>({
    maxDatagramBytes: MSS,
    receiveWindow: { windowBytes: 100_000, windowMessages: 10 },
    initialSendCredit: { maxBytes: 100_000, maxMessages: 10 },
  });

describe('PacketSpace', () => {
  it('numbers datagrams, holds ack-eliciting ones for window and pacing, and acks with credit', () => {
    const a = make();
    const b = make();
    // the 12 000-byte initial window: 10 datagrams now (the pacer's burst is 10 as well)
    for (let k = 0; k < 10; k++) {
      expect(a.sendDelay(0, MSS)).toBe(0);
      expect(a.onDatagramSent(0, MSS, true, [`d${k}`])).toBe(k);
    }
    expect(a.sendDelay(0, MSS)).toBe(Infinity);
    expect(a.onDatagramSent(0, 50, false)).toBe(10); // an ack-only datagram still goes, numbered
    expect(a.loss.bytesInFlight).toBe(12_000);

    expect(b.onPacketReceived(0, true, 20)).toBe(true);
    expect(b.ackToSend(20)).toBeNull(); // one packet: delayed
    expect(b.deadline()).toBe(45);
    expect(b.onPacketReceived(1, true, 21)).toBe(true);
    const ack = b.ackToSend(21)!;
    expect(decodeAck(ack)).toEqual({ ranges: [{ smallest: 0, largest: 1 }], ackDelayMs: 0, maxBytes: 100_000, maxMessages: 10 });
    expect(b.onPacketReceived(1, true, 22)).toBe(false); // duplicate

    const res = a.onAckFrame(ack, 40);
    expect([res.acked.map((p) => p.frames[0]), res.lost, res.rttUpdated, res.unblocked]).toEqual([['d0', 'd1'], [], true, false]);
    expect([a.rtt.smoothedMs, a.loss.bytesInFlight, a.cc.windowBytes]).toEqual([40, 9600, 14_400]);
    expect(a.sendDelay(40, MSS)).toBe(0);
  });

  it('refuses a malformed ack or one for numbers never sent, changing nothing', () => {
    const a = make();
    a.onDatagramSent(0, MSS, true);
    expect(() => a.onAckFrame(new Uint8Array([0x00, 0x00]), 10)).toThrow('invalid ack: truncated at range count');
    const b = make();
    for (let k = 0; k < 3; k++) b.onPacketReceived(k, true, 0);
    expect(() => a.onAckFrame(b.ackToSend(0)!, 10)).toThrow('ack for a packet number not sent yet');
    expect([a.loss.bytesInFlight, a.loss.largestAcked, a.rtt.hasSample]).toEqual([1200, -1, false]);
  });

  it('piggybacks an ack only when it says something new', () => {
    const b = make();
    expect(b.ackToSend(0, true)).toBeNull();
    b.onPacketReceived(0, true, 0);
    expect(b.ackToSend(0)).toBeNull();
    expect(b.ackToSend(0, true)).not.toBeNull();
    expect(b.ackToSend(1, true)).toBeNull();
  });

  it('after a PTO, probes go regardless of a full window, then the window rules again', () => {
    const a = make();
    for (let k = 0; k < 10; k++) a.onDatagramSent(0, MSS, true);
    expect(a.deadline()).toBe(1024);
    expect(a.onTimeout(1024)).toEqual({ lost: [], probes: 2 });
    expect([a.probesPending, a.sendDelay(1024, MSS)]).toEqual([2, 0]);
    a.onDatagramSent(1024, MSS, true);
    a.onDatagramSent(1024, MSS, true);
    expect([a.probesPending, a.sendDelay(1024, MSS)]).toEqual([0, Infinity]);
  });

  it('a new path resets RTT, window and pacing', () => {
    const a = make();
    for (let k = 0; k < 10; k++) a.onDatagramSent(0, MSS, true);
    a.resetForNewPath();
    expect([a.loss.bytesInFlight, a.sendDelay(0, MSS), a.cc.windowBytes, a.rtt.smoothedMs]).toEqual([0, 0, 12_000, 333]);
  });

  it('thins acks for a bulk flow: every ⌊n / 8⌋-th of n packets per RTT (at most every 32nd), delayed ≤ RTT/4, a gap still at once; never before an RTT sample', () => {
    const a = make();
    const b = make();
    // Without an RTT sample b keeps acking every 2nd packet, however many arrive.
    for (let pn = 0; pn < 200; pn++) b.onPacketReceived(pn, true, pn / 10);
    expect(b.acks.policy.ackEveryPackets).toBe(2);
    b.ackToSend(20);
    // b gets an RTT sample of 10 ms (its own ack-eliciting datagram, acknowledged by a).
    b.onDatagramSent(20, MSS, true);
    a.onPacketReceived(0, true, 25);
    expect(b.onAckFrame(a.ackToSend(25, true)!, 30).rttUpdated).toBe(true);
    expect(b.rtt.smoothedMs).toBe(10);
    // Round 1 opens at t = 40; 100 packets in it; the first packet after 10 ms closes it.
    let pn = 200;
    for (let k = 0; k < 100; k++) b.onPacketReceived(pn++, true, 40 + k / 20);
    expect(b.acks.policy.ackEveryPackets).toBe(2);
    b.ackToSend(45);
    b.onPacketReceived(pn++, true, 50);
    expect(b.acks.policy).toEqual({ ackEveryPackets: 12, maxAckDelayMs: 3, ignoreOrder: false }); // 100 / 8 = 12 (ack16: capped at 10 before); delay ⌈10 / 4⌉ ms
    for (let k = 0; k < 10; k++) b.onPacketReceived(pn++, true, 50);
    expect([b.ackToSend(50), b.deadline()]).toEqual([null, 53]); // 11 waiting, at most 3 ms
    b.onPacketReceived(pn++, true, 50);
    expect(decodeAck(b.ackToSend(50)!).ranges).toEqual([{ smallest: 0, largest: pn - 1 }]);
    b.onPacketReceived(pn + 1, true, 51); // a gap: acknowledged at once
    expect(decodeAck(b.ackToSend(51)!).ranges).toEqual([{ smallest: pn + 1, largest: pn + 1 }, { smallest: 0, largest: pn - 1 }]);
    // That round (t = 50…60) saw 15 packets (the window shrank): back to every 2nd.
    for (let k = 0; k < 4; k++) b.onPacketReceived(pn + 2 + k, true, 55);
    b.ackToSend(55);
    b.onPacketReceived(pn + 6, true, 61);
    expect(b.acks.policy).toEqual({ ackEveryPackets: 2, maxAckDelayMs: 25, ignoreOrder: false });
    // A round of 400 (t = 61…71): every 32nd, the cap (THIN_MAX_ACK_EVERY), not 400 / 8 = 50.
    pn += 7;
    for (let k = 0; k < 400; k++) b.onPacketReceived(pn++, true, 61 + k / 40);
    b.onPacketReceived(pn++, true, 71);
    expect(b.acks.policy).toEqual({ ackEveryPackets: THIN_MAX_ACK_EVERY, maxAckDelayMs: 3, ignoreOrder: false });
    expect(THIN_MAX_ACK_EVERY).toBe(32);
  });

  it('with acks every 32nd packet (the thinning cap), a loss inside the flow is declared at the next ack (packet threshold), a tail loss by the probe timeout', () => {
    const a = make();
    const b = new PacketSpace<string>({ maxDatagramBytes: MSS, receiveWindow: { windowBytes: 1e6, windowMessages: 1e3 }, initialSendCredit: { maxBytes: 1e6, maxMessages: 1e3 }, ackPolicy: { ackEveryPackets: THIN_MAX_ACK_EVERY, maxAckDelayMs: 1, ignoreOrder: false } });
    for (let k = 0; k < 64; k++) a.onDatagramSent(0, MSS, true, [`d${k}`]); // pn 0…63; 10 and 63 are lost on the way
    const acks: Array<[number, Uint8Array]> = [];
    for (let pn = 0; pn < 63; pn++) {
      if (pn === 10) continue;
      b.onPacketReceived(pn, true, 1);
      const ack = b.ackToSend(1);
      if (ack) acks.push([1, ack]);
    }
    expect(b.deadline()).toBe(2); // the last 19 wait for the delay
    acks.push([2, b.ackToSend(2)!]);
    // The gap's ack at once (largest 11), the 32nd after it (largest 43), the delayed one (largest 62).
    expect(acks.map(([t, x]) => [t, decodeAck(x).ranges[0]!.largest])).toEqual([[1, 11], [1, 43], [2, 62]]);
    const lost: number[][] = acks.map(([t, x]) => a.onAckFrame(x, t + 1).lost.map((p) => p.pn));
    expect(lost).toEqual([[], [10], []]); // 43 ≥ 10 + 3: the packet threshold, one ack after the gap's
    expect(a.loss.bytesInFlight).toBe(MSS); // 63, the tail
    const pto = a.deadline()!;
    expect(a.onTimeout(pto)).toEqual({ lost: [], probes: 2 }); // found by the PTO: its probes elicit an ack that covers or reveals it
  });

  it('a fixed ack policy is never adapted', () => {
    const b = new PacketSpace<string>({ maxDatagramBytes: MSS, receiveWindow: { windowBytes: 1e5, windowMessages: 10 }, initialSendCredit: { maxBytes: 1e5, maxMessages: 10 }, ackPolicy: { ackEveryPackets: 3, maxAckDelayMs: 25, ignoreOrder: false } });
    const a = make();
    b.onDatagramSent(0, MSS, true);
    a.onPacketReceived(0, true, 0);
    b.onAckFrame(a.ackToSend(0, true)!, 1);
    for (let pn = 0; pn < 500; pn++) b.onPacketReceived(pn, true, 2 + pn / 10);
    expect(b.acks.policy.ackEveryPackets).toBe(3);
  });
});

describe('PacketSpace RTT probes (a receiver that sends nothing ack-eliciting)', () => {
  /** Feeds ack-eliciting packets at `perMs` from `fromMs` to `toMs`; returns the times a probe was asked for. */
  function arrivals(b: PacketSpace<string>, perMs: number, fromMs: number, toMs: number, pn0 = 0): { probes: number[]; next: number } {
    const probes: number[] = [];
    let pn = pn0;
    for (let t = fromMs; t < toMs; t++) {
      for (let k = 0; k < perMs; k++) {
        b.onPacketReceived(pn++, true, t);
        if (b.takeRttProbe()) probes.push(t);
      }
      b.ackToSend(t); // the acks this side sends are ack-only
      b.onDatagramSent(t, 60, false);
    }
    return { probes, next: pn };
  }

  it('asks once per second while ≥ 5 packets/ms arrive and no sample ever comes; never for a slower flow', () => {
    const b = make();
    expect(arrivals(b, 5, 0, 2_100).probes).toEqual([25, 1_025, 2_025]); // rounds of 25 ms before a sample
    expect(b.acks.policy.ackEveryPackets).toBe(2); // no sample: no thinning
    const slow = make();
    expect(arrivals(slow, 4, 0, 5_000).probes).toEqual([]);
  });

  it("the peer's ack of the probe gives a sample even when its largest is an ack-only datagram sent after it; then thinning, and the next probe 8 RTTs later", () => {
    const a = make();
    const b = make();
    let { next } = arrivals(b, 10, 0, 26);
    expect(b.takeRttProbe()).toBe(false); // taken at t = 25 already
    // b's probe (a keepalive with its ack: ack-eliciting) at t = 26, then ack-only datagrams at 27 and 28.
    for (let pn = 0; pn < 26; pn++) a.onPacketReceived(pn, false, 26); // a saw b's ack-only datagrams 0…25
    expect(b.onDatagramSent(26, 80, true, ['probe'])).toBe(26);
    expect(b.onDatagramSent(27, 60, false)).toBe(27);
    expect(b.onDatagramSent(28, 60, false)).toBe(28);
    a.onPacketReceived(26, true, 27);
    a.onPacketReceived(27, false, 28);
    a.onPacketReceived(28, false, 29);
    const ack = a.ackToSend(29, true)!;
    expect(decodeAck(ack).ranges).toEqual([{ smallest: 0, largest: 28 }]);
    const res = b.onAckFrame(ack, 32);
    expect([res.rttUpdated, res.acked.map((p) => p.frames[0])]).toEqual([true, ['probe']]);
    expect([b.rtt.hasSample, b.rtt.smoothedMs]).toEqual([true, 4]); // 32 − 28 (the largest's send time), ack delay 0
    // 10 packets/ms, 40 per 4 ms round: every 5th (40 / 8), delay 1 ms; the next probe 8 RTTs (32 ms) after the
    // sample, then one per 32 ms while unanswered (this test's peer never answers).
    const r = arrivals(b, 10, 40, 1_100, next);
    next = r.next;
    expect(b.acks.policy).toEqual({ ackEveryPackets: 5, maxAckDelayMs: 1, ignoreOrder: false });
    expect(r.probes).toEqual(Array.from({ length: 33 }, (_, k) => 64 + 32 * k));
  });

  it('an ack of the probe whose largest was not recorded (> 256 ack-only datagrams later) or that does not cover the probe gives no sample', () => {
    const a = make();
    const b = make();
    arrivals(b, 10, 0, 26);
    b.onDatagramSent(26, 80, true); // the probe, pn 26
    for (let k = 0; k < 300; k++) b.onDatagramSent(27, 60, false); // pn 27…326
    for (let pn = 27; pn <= 326; pn++) a.onPacketReceived(pn, pn === 326, 28); // the last one ack-eliciting: a piggybacked ack is news
    const withoutProbe = a.ackToSend(28, true)!;
    expect(b.onAckFrame(withoutProbe, 30).rttUpdated).toBe(false); // the probe not acknowledged
    a.onPacketReceived(26, true, 29);
    expect(b.onAckFrame(a.ackToSend(29, true)!, 31).rttUpdated).toBe(false); // acknowledged, but the largest (326) is beyond the record
    expect(b.rtt.hasSample).toBe(false);
  });
});

describe('PacketSpace: delayable packets (ack20)', () => {
  /** b has sent 10 datagrams and had them acknowledged by a at `rttMs`: its pacing rate follows. */
  function sampled(rttMs: number): [PacketSpace<string>, PacketSpace<string>] {
    const a = make();
    const b = make();
    for (let k = 0; k < 10; k++) b.onDatagramSent(0, MSS, true, [`d${k}`]);
    for (let k = 0; k < 10; k++) a.onPacketReceived(k, true, rttMs / 2);
    b.onAckFrame(a.ackToSend(rttMs / 2, true)!, rttMs);
    return [a, b];
  }

  it('wait for a datagram that leaves anyway while our own flow is fast (≥ 5 datagrams/ms paced)', () => {
    const [, b] = sampled(1);
    expect(b.cc.pacingRateBytesPerMs()).toBeGreaterThanOrEqual(5 * MSS);
    for (let k = 0; k < 4; k++) b.onPacketReceived(k, true, 2 + k, true);
    expect([b.ackDue(5), b.ackToSend(5), b.deadline()]).toEqual([false, null, 27]);
    expect(decodeAck(b.ackToSend(5, true)!).ranges).toEqual([{ smallest: 0, largest: 3 }]); // rides on the next data datagram
  });

  it('are acknowledged as any ack-eliciting packet (every 2nd) while our flow is slow: a slow path keeps its ack clock', () => {
    const [, b] = sampled(100);
    expect(b.cc.pacingRateBytesPerMs()).toBeLessThan(5 * MSS);
    b.onPacketReceived(0, true, 101, true);
    expect(b.ackDue(101)).toBe(false);
    b.onPacketReceived(1, true, 102, true);
    expect(b.ackDue(102)).toBe(true);
  });
});
