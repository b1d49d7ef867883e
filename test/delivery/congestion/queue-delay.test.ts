import { Cubic } from '../../../src/delivery/congestion/cubic';
import { QUEUE_BETA, QUEUE_FULL_FRACTION, QUEUE_MAX_CUTS, QUEUE_MAX_DECAY, QUEUE_MIN_DELAY_MS, QUEUE_SIGNAL_MAX_DATAGRAMS, QueueDelaySignal } from '../../../src/delivery/congestion/queue-delay';
import { RttStats } from '../../../src/delivery/reliable/rtt';

const MSS = 1000;
const pkt = (pn: number, sentAtMs: number, bytes = MSS) => ({ pn, sentAtMs, bytes });
/** A 40 ms path: min RTT 40. */
function rtt40(): RttStats {
  const r = new RttStats();
  r.update(40, 0);
  return r;
}

describe('QueueDelaySignal', () => {
  it('constants: half the largest recent queueing delay, decay 0.99 a round, 4 ms floor, β 0.85, windows below 10 datagrams, 8 cuts in a row', () => {
    expect([QUEUE_FULL_FRACTION, QUEUE_MAX_DECAY, QUEUE_MIN_DELAY_MS, QUEUE_BETA, QUEUE_SIGNAL_MAX_DATAGRAMS, QUEUE_MAX_CUTS]).toEqual([0.5, 0.99, 4, 0.85, 10, 8]);
  });

  it('competing: after 8 cuts with no round below the full mark the signal is silent, until a round reads the queue below it', () => {
    const rtt = rtt40();
    const q = new QueueDelaySignal(rtt);
    let pn = 0;
    /** One round of one packet: sent, then acknowledged at `sample` ms (the round ends at its ack). */
    const round = (sample: number): boolean => {
      q.onPacketSent(pn);
      rtt.update(sample, 0);
      return q.onAck(pn++);
    };
    // Full rounds the controller did not act on (in recovery, above the gate) do not spend the budget.
    expect([70, 70, 70, 70, 70, 70].map(round)).toEqual([true, true, true, true, true, true]);
    const fired: boolean[] = [];
    for (let k = 0; k < 11; k++) {
      const f = round(70); // queue 30 ms: full every round (a competitor's standing queue)
      fired.push(f);
      if (f) q.onCut();
    }
    expect(fired).toEqual([true, true, true, true, true, true, true, true, false, false, false]);
    expect(q.competing).toBe(true);
    expect(round(54)).toBe(false); // 14 ms < half of 30 × 0.99 (14.85): the queue drained
    expect(q.competing).toBe(false);
    expect(round(70)).toBe(true); // yields again
    q.onCut();
    for (let k = 0; k < 7; k++) { expect(round(70)).toBe(true); q.onCut(); }
    expect([q.competing, round(70)]).toEqual([true, false]);
    // Acks within a round (below its end) decide nothing: neither a drained sample nor a full one ends the silence.
    q.onPacketSent(pn++);
    q.onPacketSent(pn++);
    rtt.update(41, 0);
    expect([q.onAck(pn - 3), q.competing]).toEqual([false, true]);
    q.reset();
    expect([q.competing, q.maxQueueMs]).toEqual([false, 0]);
  });

  it("a round's smallest RTT less the path's minimum is its queueing delay; the signal fires at the end of a round that reached half the largest (decayed) one", () => {
    const rtt = rtt40();
    const q = new QueueDelaySignal(rtt);
    let sent = 0;
    const send = (n: number): void => { for (let k = 0; k < n; k++) q.onPacketSent(sent++); };
    send(5);
    expect(q.onAck(0)).toBe(false); // the first round ends at once: queue 0
    send(5); // round ends when pn 5 is acked
    const round = (samples: number[], endPn: number): boolean => {
      const fired: boolean[] = [];
      for (const [i, s] of samples.entries()) {
        rtt.update(s, 0);
        fired.push(q.onAck(endPn - samples.length + i + 1));
      }
      expect(fired.slice(0, -1).every((f) => !f)).toBe(true); // only a round's last ack decides
      return fired[fired.length - 1]!;
    };
    expect(round([75, 70, 72, 71], 5)).toBe(true); // queue 30 ms: the largest so far
    expect(q.maxQueueMs).toBe(30);
    send(5);
    expect(round([60, 54, 56], 10)).toBe(false); // 14 ms < half of 30 × 0.99 (14.85)
    expect(q.maxQueueMs).toBeCloseTo(29.7, 10);
    send(5);
    expect(round([58, 55, 57], 15)).toBe(true); // 15 ms ≥ half of 29.7 × 0.99 (14.70)
    send(5);
    expect(round([150, 41], 20)).toBe(false); // one sample at the idle RTT: the queue emptied
  });

  it('no queue worth reading below 4 ms', () => {
    const rtt = rtt40();
    const q = new QueueDelaySignal(rtt);
    for (let pn = 0; pn < 4; pn++) q.onPacketSent(pn);
    q.onAck(0); // the next round ends with pn 4
    q.onPacketSent(4);
    rtt.update(43, 0);
    expect(q.onAck(4)).toBe(false); // queue 3 ms = its own largest, below 4 ms
    expect(q.maxQueueMs).toBe(3);
  });
});

describe('CUBIC with the queue-delay signal', () => {
  /** Sends pns [from, to) at `atMs` with a full window in flight (no restart after idle). */
  const sendAll = (cc: Cubic, from: number, to: number, atMs: number): void => {
    for (let pn = from; pn < to; pn++) cc.onPacketSent(atMs, 100_000, pkt(pn, atMs));
  };
  /** Round 1 (pn 1, RTT 40) ends at once; round 2 acks `pns` at RTT 70 (queue 30 ms) and ends with pn 8. Not window-limited: no growth. */
  const fullQueueRound = (cc: Cubic, rtt: RttStats, pns: number[]): void => {
    sendAll(cc, 1, 8, 10);
    cc.onPacketsAcked([pkt(1, 10)], 1000, 50);
    sendAll(cc, 8, 15, 60);
    rtt.update(70, 0);
    for (const pn of pns) cc.onPacketsAcked([pkt(pn, 10)], 1000, 80 + pn);
    cc.onPacketsAcked([pkt(8, 60)], 1000, 130);
  };

  /** A controller in congestion avoidance at `window` datagrams, W_max 10 (as after a loss at 10 datagrams). */
  const smallPipe = (rtt: RttStats, window: number, ssthresh = window): Cubic =>
    new Cubic({ rtt, resume: { maxDatagramBytes: MSS, windowBytes: window * MSS, ssthreshBytes: ssthresh * MSS, lastMaxWindowBytes: 10 * MSS, avoidanceAckedBytes: 0 } });

  it('a window of 7 datagrams in congestion avoidance gives way by 0.85 at a full-queue round, as a congestion event: recovery from then, W_max by fast convergence', () => {
    const rtt = rtt40();
    const cc = smallPipe(rtt, 7);
    fullQueueRound(cc, rtt, [2, 3, 4, 5, 6, 7]);
    expect([cc.windowBytes, cc.ssthreshBytes, cc.lastMaxWindowBytes, cc.inRecovery, cc.queueReductions]).toEqual([5950, 5950, 6475, true, 1]);
    cc.onPacketsLost([pkt(7, 10)], 140); // sent before the reduction: the same event
    expect(cc.windowBytes).toBe(5950);
  });

  it('next to a standing queue a window of 9 gives way 8 times (every other round: the round after a cut ends in its recovery), then holds until the queue drains', () => {
    const rtt = rtt40();
    const cc = smallPipe(rtt, 9);
    let pn = 0;
    const windows: number[] = [];
    const competing: boolean[] = [];
    /** Round k: one packet sent at 100k + 10, acknowledged `sample` ms later; nothing else in flight. */
    const round = (sample: number): void => {
      const sentAt = 100 * pn + 10;
      cc.onPacketSent(sentAt, 100_000, pkt(pn, sentAt));
      rtt.update(sample, 0);
      cc.onPacketsAcked([pkt(pn, sentAt)], 0, sentAt + sample);
      pn++;
      windows.push(cc.windowBytes);
      competing.push(cc.queueCompeting);
    };
    for (let k = 0; k < 18; k++) round(70); // queue 30 ms every round
    // cuts at k = 0, 2, …, 14 (× 0.85 each); then silent. Below 3 datagrams the window limits
    // (MAX_BURST_DATAGRAMS) and grows between cuts: 2885 → 3068 → × 0.85 → 2608, then on to 3333.
    expect(windows).toEqual([7650, 7650, 6502, 6502, 5527, 5527, 4698, 4698, 3993, 3993, 3394, 3394, 2885, 3068, 2608, 2811, 2999, 3333]);
    expect(competing.indexOf(true)).toBe(14);
    expect(cc.queueReductions).toBe(8);
    round(54); // queue 14 ms, below half the largest (14.85 after decay): the competitor drained it
    round(70);
    expect([cc.queueCompeting, cc.queueReductions, cc.windowBytes]).toEqual([false, 9, 2833]); // 3333 × 0.85
  });

  it('a window of 10 datagrams or more does not read the queue (the 10 Mbit/s bed: loss alone)', () => {
    const rtt = rtt40();
    const cc = new Cubic({ rtt, maxDatagramBytes: MSS });
    let pn = 100;
    while (cc.windowBytes < 30_000) cc.onPacketsAcked([pkt(pn++, 0)], cc.windowBytes, 5); // slow start to 30
    cc.onPacketsLost([pkt(pn++, 1)], 6); // 30 → 21 datagrams
    expect(cc.windowBytes).toBe(21_000);
    fullQueueRound(cc, rtt, [2, 3, 4, 5, 6, 7]);
    expect([cc.windowBytes, cc.queueReductions]).toEqual([21_000, 0]);
    // Nor does the initial window of 10 once HyStart has ended slow start (the small-pipe exit at the 2nd sample at 70 ms).
    const r = rtt40();
    const cc2 = new Cubic({ rtt: r, maxDatagramBytes: MSS });
    fullQueueRound(cc2, r, [2, 3, 4, 5, 6, 7]);
    expect([cc2.windowBytes, cc2.inSlowStart, cc2.hystartExits, cc2.queueReductions]).toEqual([10_000, false, 1, 0]);
  });

  it('slow start does not read it: the small-pipe HyStart exit ends slow start first (2nd sample at 70 ms), and the round\'s end then gives way by 0.85', () => {
    const rtt = rtt40();
    const cc = smallPipe(rtt, 2, 7); // as after persistent congestion: 2 datagrams, ssthresh 7
    expect([cc.windowBytes, cc.inSlowStart]).toEqual([2000, true]); // 2 datagrams, ssthresh 7
    fullQueueRound(cc, rtt, [2, 3, 4]);
    // +1 datagram per ack in slow start (2 → 4: acks of pn 1 and 2), out at pn 3's sample (ssthresh 4),
    // a little congestion-avoidance growth (4.13 datagrams), then the full-queue round: × 0.85
    expect([cc.windowBytes, cc.inSlowStart, cc.hystartExits, cc.queueReductions]).toEqual([3512, false, 1, 1]);
  });
});
