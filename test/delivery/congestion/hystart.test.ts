import { HYSTART_ABOVE_MIN_SAMPLES, HYSTART_CSS_ROUNDS, HYSTART_MIN_SAMPLES, HYSTART_SMALL_WINDOW_DATAGRAMS, HyStart } from '../../../src/delivery/congestion/hystart';
import { RttStats } from '../../../src/delivery/reliable/rtt';

/**
 * One slow-start round: `packets` datagrams sent, then acknowledged two at a time (the receiver
 * acks every 2nd), every sample `rttMs`. Returns the ack (1-based, within the round) at which
 * HyStart++ said "leave slow start", or 0. HyStart's own round starts at the first ack of a
 * round (the first packet at or above the largest sent when its last round ended), so a round
 * of n acks gives it n − 1 samples before the next round's first ack. The window (80 datagrams
 * unless said) is above the small-pipe exit's 16, so these rounds test the round-to-round check
 * alone.
 */
function round(h: HyStart, rtt: RttStats, firstPn: number, packets: number, rttMs: number, windowDatagrams = 80): number {
  for (let pn = firstPn; pn < firstPn + packets; pn++) h.onPacketSent(pn);
  let n = 0;
  for (let pn = firstPn + 1; pn < firstPn + packets; pn += 2) {
    n++;
    rtt.update(rttMs, 0);
    if (h.onAck(pn, windowDatagrams)) return n;
  }
  return 0;
}

describe('HyStart++ delay check after 5 samples a round', () => {
  test('a 2 Mbit/s-sized round (12 datagrams, 6 acks) whose RTT rose by the threshold ends slow start at its 6th ack', () => {
    expect(HYSTART_MIN_SAMPLES).toBe(5);
    const rtt = new RttStats();
    const h = new HyStart(rtt);
    expect(round(h, rtt, 0, 12, 40)).toBe(0);
    expect(round(h, rtt, 12, 12, 40)).toBe(0);
    // Every sample 5 ms higher (threshold max(4, min(16, 40/8)) = 5 ms): out after 5 samples
    // (acks 2–6; with RFC 9406's 8 this round would end undecided, as on the real 2 Mbit/s path).
    expect(round(h, rtt, 24, 12, 45)).toBe(6);
    expect(h.exits).toBe(1);
  });

  test('a round with only 4 samples decides nothing; a rise below the threshold never ends slow start', () => {
    const rtt = new RttStats();
    const h = new HyStart(rtt);
    expect(round(h, rtt, 0, 10, 40)).toBe(0);
    expect(round(h, rtt, 10, 10, 40)).toBe(0);
    expect(round(h, rtt, 20, 10, 60)).toBe(0); // 5 acks: 4 samples in HyStart's round
    expect(h.exits).toBe(0);
    const rtt2 = new RttStats();
    const h2 = new HyStart(rtt2);
    expect(round(h2, rtt2, 0, 12, 40)).toBe(0);
    expect(round(h2, rtt2, 12, 12, 40)).toBe(0);
    expect(round(h2, rtt2, 24, 40, 44.9)).toBe(0);
    expect(h2.exits).toBe(0);
  });
});

describe('HyStart delay exit within a round on a small pipe: rising samples above the smallest since slow start began + threshold', () => {
  /** Acks one sample at a time (pns from `firstPn`, all in one long round), window `w` datagrams; the 1-based sample that ended slow start, or 0. */
  function samples(h: HyStart, rtt: RttStats, firstPn: number, rtts: number[], w: number): number {
    for (let pn = firstPn; pn < firstPn + 2 * rtts.length + 2; pn++) h.onPacketSent(pn);
    for (const [i, ms] of rtts.entries()) {
      rtt.update(ms, 0);
      if (h.onAck(firstPn + i, w)) return i + 1;
    }
    return 0;
  }

  test('constants: 2 rising samples in a row, windows below 16 datagrams', () => {
    expect([HYSTART_ABOVE_MIN_SAMPLES, HYSTART_SMALL_WINDOW_DATAGRAMS]).toEqual([2, 16]);
  });

  test('the initial window on a 2 Mbit/s path: RTT 40 → 47.3 → 58.9 within the first round ends slow start at the 3rd sample (threshold 5 ms over the path minimum 40)', () => {
    const rtt = new RttStats();
    const h = new HyStart(rtt);
    // The round-to-round check cannot decide in the first round; the path minimum can.
    expect(samples(h, rtt, 0, [40, 47.3, 58.9, 72.8, 77.6], 12)).toBe(3);
    expect(h.exits).toBe(1);
  });

  test('jitter is not a queue: one high sample between low ones, a stall whose backlog drains (falling samples), 44.9 ms (below 45)', () => {
    const rtt = new RttStats();
    const h = new HyStart(rtt);
    expect(samples(h, rtt, 0, [40, 60, 41, 60, 41, 44.9, 44.9, 44.9], 12)).toBe(0);
    expect(samples(h, rtt, 20, [60, 55, 50, 46, 41], 12)).toBe(0);
    expect(h.exits).toBe(0);
    // 46 then 46 again is rising enough (not below the previous): out at the second.
    expect(samples(h, rtt, 40, [46, 46], 12)).toBe(2);
  });

  test('a queue that was there before slow start began is not this flow\'s: from 80 ms (threshold 10), 81…89 rising never ends it, 90 twice does', () => {
    const rtt = new RttStats();
    rtt.update(40, 0); // the path's minimum, learned earlier
    const h = new HyStart(rtt);
    h.reset(); // restart after idle, into a queue another flow keeps full
    expect(samples(h, rtt, 0, [80, 81, 83, 85, 87, 89], 12)).toBe(0);
    expect(samples(h, rtt, 20, [90, 90], 12)).toBe(2);
  });

  test('a window of 16 datagrams or more is left to the round-to-round check (a 10 Mbit/s path: no early exit on a loaded machine\'s jitter)', () => {
    const rtt = new RttStats();
    const h = new HyStart(rtt);
    expect(samples(h, rtt, 0, [40, 46, 47, 48, 49], 16)).toBe(0);
    const rtt2 = new RttStats();
    const h2 = new HyStart(rtt2);
    expect(samples(h2, rtt2, 0, [40, 46, 47], 15)).toBe(3);
  });
});

describe('a delay exit that proves spurious (RFC 9406 §4.3 resume rule, HYSTART_CSS_ROUNDS rounds)', () => {
  /** Acks of one round after the exit (through onAckAfterExit), every sample `rttMs`; the 1-based ack that resumed slow start, or 0. */
  function watched(h: HyStart, rtt: RttStats, firstPn: number, packets: number, rttMs: number): number {
    for (let pn = firstPn; pn < firstPn + packets; pn++) h.onPacketSent(pn);
    let n = 0;
    for (let pn = firstPn + 1; pn < firstPn + packets; pn += 2) {
      n++;
      rtt.update(rttMs, 0);
      if (h.onAckAfterExit(pn)) return n;
    }
    return 0;
  }
  /** Two rounds at 0.3 ms, then a round at 6 ms (a descheduled receiver over loopback): the exit. */
  function exited(): { h: HyStart; rtt: RttStats } {
    const rtt = new RttStats();
    const h = new HyStart(rtt);
    expect(round(h, rtt, 0, 40, 0.3)).toBe(0);
    expect(round(h, rtt, 40, 40, 0.3)).toBe(0);
    expect(round(h, rtt, 80, 40, 6)).toBe(6); // threshold max(4, 0.3/8) = 4 ms
    expect(h.exits).toBe(1);
    return { h, rtt };
  }

  test('constant: 5 rounds', () => {
    expect(HYSTART_CSS_ROUNDS).toBe(5);
  });

  test('the RTT back at 0.3 ms after the exit: slow start resumes at the first such sample of a round that has 5, once', () => {
    const { h, rtt } = exited();
    // The exit's next round begins at the ack of pn 121 (the first sent after the exit); its 20
    // samples at 6 ms are not below the exit round's 6 ms; the first 0.3 ms sample (pn 161's ack,
    // still that round's) is.
    expect(watched(h, rtt, 120, 40, 6)).toBe(0);
    expect(watched(h, rtt, 160, 40, 0.3)).toBe(1);
    expect(h.resumes).toBe(1);
    expect(watched(h, rtt, 200, 40, 0.3)).toBe(0); // no longer watched
    expect(h.resumes).toBe(1);
  });

  test('a real queue keeps the RTT at or above the exit round\'s minimum for 5 rounds: the exit holds, and a later dip does not resume', () => {
    const { h, rtt } = exited();
    let pn = 120;
    for (const ms of [6, 7, 6.5, 6, 8]) {
      expect(watched(h, rtt, pn, 40, ms)).toBe(0);
      pn += 40;
    }
    expect(watched(h, rtt, pn, 40, 0.3)).toBe(0); // the 6th round after the exit: the watch is over
    expect(h.resumes).toBe(0);
  });

  test('a congestion event ends the watch; a round with fewer than 5 samples decides nothing', () => {
    const a = exited();
    a.h.endWatch();
    expect(watched(a.h, a.rtt, 120, 40, 0.3)).toBe(0);
    expect(a.h.resumes).toBe(0);
    const b = exited();
    expect(watched(b.h, b.rtt, 120, 8, 0.3)).toBe(0); // 4 acks: 4 samples
    expect(b.h.resumes).toBe(0);
  });

  test('the small-pipe exit is not watched', () => {
    const rtt = new RttStats();
    const h = new HyStart(rtt);
    h.onPacketSent(0); h.onPacketSent(1); h.onPacketSent(2);
    for (const [i, ms] of [40, 47.3, 58.9].entries()) {
      rtt.update(ms, 0);
      expect(h.onAck(i, 12)).toBe(i === 2);
    }
    expect(watched(h, rtt, 10, 40, 40)).toBe(0);
    expect(h.resumes).toBe(0);
  });
});
