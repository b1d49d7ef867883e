import { Cubic } from '../../../src/delivery/congestion/cubic';
import { LOSS_RATE_DECAY, LOSS_RATE_FROM, LOSS_RATE_FULL, QUEUE_BETA_MIN, QUEUE_FROM_FRACTION, QUEUE_MAX_DECAY, QUEUE_MIN_DELAY_MS, QueueDelaySignal, queueBackoffBeta } from '../../../src/delivery/congestion/queue-delay';
import { RttStats } from '../../../src/delivery/reliable/rtt';

const MSS = 1000;
const pkt = (pn: number, sentAtMs: number, bytes = MSS) => ({ pn, sentAtMs, bytes });
/** A 40 ms path: min RTT 40. */
function rtt40(): RttStats {
  const r = new RttStats();
  r.update(40, 0);
  return r;
}

describe('queueBackoffBeta: proportional to the queue, gated by the loss rate, floored at the path without a queue', () => {
  it('constants: from a quarter of the largest delay, β 0.6 at most, loss rate 0.3% → 1%, counts decaying 0.97 a round', () => {
    expect([QUEUE_FROM_FRACTION, QUEUE_BETA_MIN, QUEUE_MAX_DECAY, QUEUE_MIN_DELAY_MS, LOSS_RATE_FROM, LOSS_RATE_FULL, LOSS_RATE_DECAY]).toEqual([0.25, 0.6, 0.99, 4, 0.003, 0.01, 0.97]);
  });

  it('a full queue (30 ms on a 40 ms path) with ≥ 1% loss: β 0.6; half-way on both scales: 1 − 0.4 × 0.5 × 0.5 = 0.9', () => {
    expect(queueBackoffBeta(1, 30, 40, 0.01)).toBeCloseTo(0.6, 12);
    expect(queueBackoffBeta(1, 30, 40, 0.2)).toBeCloseTo(0.6, 12);
    expect(queueBackoffBeta(0.625, 15, 40, 0.0065)).toBeCloseTo(0.9, 12);
  });

  it('no backoff at or below a quarter of the largest delay, nor at or below 0.3% loss (a 10 Mbit/s path next to TCP: 0.1–0.3%)', () => {
    expect(queueBackoffBeta(0.25, 7.5, 40, 0.05)).toBe(1);
    expect(queueBackoffBeta(1, 30, 40, 0.003)).toBe(1);
    expect(queueBackoffBeta(1, 30, 40, 0)).toBe(1);
  });

  it('never below min RTT ÷ (min RTT + delay): a flow alone keeps its bandwidth-delay product in flight (5 ms of queue on 40: 0.8889, not 0.6)', () => {
    expect(queueBackoffBeta(1, 5, 40, 0.05)).toBeCloseTo(40 / 45, 12);
  });
});

describe('QueueDelaySignal', () => {
  it("a round's smallest RTT less the path's minimum is its queueing delay; at a round's end, its fraction of the largest (decayed) one", () => {
    const rtt = rtt40();
    const q = new QueueDelaySignal(rtt);
    let sent = 0;
    const send = (n: number): void => { for (let k = 0; k < n; k++) q.onPacketSent(sent++); };
    send(5);
    expect(q.onAck(0)).toBe(0); // the first round ends at once: queue 0
    send(5); // round ends when pn 5 is acked
    const round = (samples: number[], endPn: number): number => {
      const fractions: number[] = [];
      for (const [i, s] of samples.entries()) {
        rtt.update(s, 0);
        fractions.push(q.onAck(endPn - samples.length + i + 1));
      }
      expect(fractions.slice(0, -1).every((f) => f === -1)).toBe(true); // only a round's last ack decides
      return fractions[fractions.length - 1]!;
    };
    expect(round([75, 70, 72, 71], 5)).toBe(1); // queue 30 ms: the largest so far
    expect([q.maxQueueMs, q.lastQueueMs]).toEqual([30, 30]);
    send(5);
    expect(round([60, 54, 56], 10)).toBeCloseTo(14 / 29.7, 12); // 14 ms of 30 × 0.99
    send(5);
    expect(round([150, 41], 15)).toBeCloseTo(1 / (29.7 * 0.99), 12); // one sample at the idle RTT: the queue emptied
  });

  it('no queue worth reading below 4 ms', () => {
    const rtt = rtt40();
    const q = new QueueDelaySignal(rtt);
    for (let pn = 0; pn < 4; pn++) q.onPacketSent(pn);
    q.onAck(0); // the next round ends with pn 4
    q.onPacketSent(4);
    rtt.update(43, 0);
    expect(q.onAck(4)).toBe(0); // queue 3 ms = its own largest, below 4 ms
    expect(q.maxQueueMs).toBe(3);
  });

  it('the loss rate: lost ÷ (lost + acknowledged), both aging by 0.97 at each backoff decision', () => {
    const rtt = rtt40();
    const q = new QueueDelaySignal(rtt);
    q.onPacketsAcked(97);
    q.onPacketsLost(3);
    expect(q.lossRate).toBeCloseTo(0.03, 12);
    expect(q.backoff(0)).toBe(1); // no queue: no backoff; the counts age
    q.onPacketsAcked(100); // 94.09 + 100 acknowledged, 2.91 lost
    expect(q.lossRate).toBeCloseTo(2.91 / (2.91 + 194.09), 12);
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

  it('a lossy flow (1 lost, 8 acknowledged) in congestion avoidance gives way by 0.6 at a full-queue round, as a congestion event: recovery from then, W_max by fast convergence', () => {
    const rtt = rtt40();
    const cc = new Cubic({ rtt, maxDatagramBytes: MSS });
    cc.onPacketsLost([pkt(0, 0)], 1); // 10 → 7 datagrams, W_max 10
    fullQueueRound(cc, rtt, [2, 3, 4, 5, 6, 7]);
    // queue 30 ms = the largest (fill 1), loss rate 0.97 / 8.73 = 11% (strength 1): β 0.6 (floor 40/70)
    expect([cc.windowBytes, cc.ssthreshBytes, cc.lastMaxWindowBytes, cc.inRecovery, cc.queueReductions]).toEqual([4200, 4200, 5600, true, 1]);
    cc.onPacketsLost([pkt(7, 10)], 140); // sent before the reduction: the same event
    expect(cc.windowBytes).toBe(4200);
  });

  it('a flow that lost nothing does not give way to the queue (the loss rate gates it), whatever its window', () => {
    // HyStart's small-pipe exit ends slow start at the 2nd sample at 70 ms (the window 10 < 16);
    // the full-queue round then ends with nothing lost: no backoff.
    const r = rtt40();
    const cc = new Cubic({ rtt: r, maxDatagramBytes: MSS });
    fullQueueRound(cc, r, [2, 3, 4, 5, 6, 7]);
    expect([cc.windowBytes, cc.inSlowStart, cc.hystartExits, cc.queueReductions]).toEqual([10_000, false, 1, 0]);
  });

  it('slow start does not read it: the small-pipe HyStart exit ends slow start first (2nd sample at 70 ms), and the round\'s end then gives way', () => {
    const rtt = rtt40();
    const cc = new Cubic({ rtt, maxDatagramBytes: MSS });
    cc.onPacketsLost([pkt(0, 0)], 1);
    cc.onPersistentCongestion();
    expect([cc.windowBytes, cc.inSlowStart]).toEqual([2000, true]); // 2 datagrams, ssthresh 7
    fullQueueRound(cc, rtt, [2, 3, 4]);
    // +1 datagram per ack in slow start (2 → 4: acks of pn 1 and 2), out at pn 3's sample (ssthresh 4),
    // a little congestion-avoidance growth (4.13), then the full-queue round with 1 of 5 lost: × 0.6
    expect([cc.windowBytes, cc.inSlowStart, cc.hystartExits, cc.queueReductions]).toEqual([2479, false, 1, 1]);
  });
});
