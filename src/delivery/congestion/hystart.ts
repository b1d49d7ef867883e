/**
 * HyStart++ delay-increase check (RFC 9406 §4.2), shared by the controllers: slow start ends
 * when a round's minimum RTT (after HYSTART_MIN_SAMPLES samples; RFC 9406 has 8) exceeds the
 * previous round's by max(4, min(16, last/8)) ms — a queue is building, so slow start stops
 * before it overflows. On a small pipe, also within a round against the smallest sample since slow
 * start began, as Linux's HyStart does against the path's minimum (HYSTART_ABOVE_MIN_SAMPLES).
 * No conservative slow-start phase: congestion avoidance follows at once, but for
 * HYSTART_CSS_ROUNDS rounds after a round-to-round exit the rounds are still watched, and one
 * whose minimum RTT falls back below the exit round's says the exit was spurious (RFC 9406 §4.3:
 * a delay spike that was not a queue — on a loaded host, a receiver descheduled for a few ms), so
 * slow start resumes. A round ends when a packet numbered at or above the largest sent at the
 * round's start is acknowledged.
 */
import type { RttStats } from '../reliable/rtt';

/**
 * RTT samples per round before the delay check, and the threshold clamp (ms). RFC 9406 says 8;
 * with acks every 2nd datagram a 2 Mbit/s, 40 ms path (a window of 10–20 datagrams) gives 5–10
 * samples a round, so with 8 slow start ended on a loss there (bench:path, 2 Mbit/s bulk alone:
 * 38–39 of ~830 datagrams dropped, 1.16× the payload on the wire); with 4 or 5 it ends on delay
 * (17–20 dropped, 1.13×). 5 rather than 4: the simulator's two-flow share (test/sim/
 * congestion.test.ts, pacing gain 1.25 throughout) was 54:50 with 5, 41:63 with 4.
 * docs/CONGESTION.md §9.
 */
export const HYSTART_MIN_SAMPLES = 5;
export const HYSTART_MIN_RTT_THRESH_MS = 4;
export const HYSTART_MAX_RTT_THRESH_MS = 16;
/**
 * The small-pipe exit within a round: this many RTT samples in a row, each at or above the one
 * before, at or above the smallest sample since slow start (re)started + the threshold, end slow
 * start — only while the window is below HYSTART_SMALL_WINDOW_DATAGRAMS. Not the path's minimum:
 * a flow restarting into a queue another flow keeps full (TCP at 10 Mbit/s) then left slow start
 * at its first two samples, at 10–12 datagrams, and a loss took it below the queue-delay signal's
 * gate (queue-delay.ts), which held it at 7–8% of the link. The round-to-round check cannot end the first
 * round, and on the 2 Mbit/s bed (a 7-datagram pipe, an 8-datagram queue) the initial window's
 * own queue builds within it: the delay rose 40 → 47 → 59 → 73 ms over its first acks while slow
 * start went on to 20 datagrams and overflowed the queue (bench:path bulk alone: 19–42 datagrams
 * lost, 1.13–1.17× the payload on the wire; with this exit 2–26, 1.11–1.14×). Rising, and two in
 * a row, so a stalled event loop's backlog (falling samples) is not taken for a queue; not on
 * larger windows, whose pipes the initial window does not fill, so a 10 Mbit/s path is left to the
 * round-to-round check (goodput alone 83–87% either way, 4 interleaved runs each).
 */
export const HYSTART_ABOVE_MIN_SAMPLES = 2;
/**
 * RFC 9406's CSS_ROUNDS: the rounds after a round-to-round delay exit in which a round's minimum
 * RTT (over HYSTART_MIN_SAMPLES samples) below the exit round's resumes slow start. RFC 9406 grows
 * the window by a quarter of slow start's rate in those rounds; here it grows as congestion
 * avoidance (more conservative), and only the resume rule is taken. A real queue keeps the RTT up
 * (the window at the exit stays in flight), so the exit holds; a descheduled receiver's spike
 * (5–14 ms over a 0.3 ms loopback path, journal flow18/dg19) does not, and the window, which
 * otherwise stays at ~3 ms of sending there, grows on. Not after the small-pipe exit.
 */
export const HYSTART_CSS_ROUNDS = 5;
export const HYSTART_SMALL_WINDOW_DATAGRAMS = 16;

export class HyStart {
  readonly #rtt: RttStats;
  #roundEndPn = 0;
  #largestSentPn = -1;
  #lastRoundMinRtt = Infinity;
  #roundMinRtt = Infinity;
  #roundSamples = 0;
  #aboveMin = 0;
  #lastSampleMs = 0;
  /** The smallest RTT sample since slow start (re)started: a queue that was there before it is not this flow's. */
  #baseRtt = Infinity;
  #exits = 0;
  /** While > 0: rounds left in which a delay exit may prove spurious; the exit round's minimum RTT is #cssBaseline. */
  #cssRoundsLeft = 0;
  #cssBaseline = Infinity;
  #resumes = 0;

  constructor(rtt: RttStats) {
    this.#rtt = rtt;
  }

  /** Times slow start ended on rising delay rather than on a loss. */
  get exits(): number { return this.#exits; }
  /** Times a delay exit proved spurious and slow start resumed. */
  get resumes(): number { return this.#resumes; }

  onPacketSent(pn: number): void {
    if (pn > this.#largestSentPn) this.#largestSentPn = pn;
  }

  /** One ack in slow start (its largest newly acknowledged packet; the window in datagrams); true: leave slow start now. */
  onAck(largestAckedPn: number, windowDatagrams: number): boolean {
    const rtt = this.#rtt.latestMs;
    if (rtt > 0) {
      this.#roundSamples++;
      if (rtt < this.#roundMinRtt) this.#roundMinRtt = rtt;
      if (rtt < this.#baseRtt) this.#baseRtt = rtt;
      const above = rtt >= this.#baseRtt + delayThresholdMs(this.#baseRtt);
      this.#aboveMin = !above ? 0 : rtt >= this.#lastSampleMs ? this.#aboveMin + 1 : 1;
      this.#lastSampleMs = rtt;
      if (windowDatagrams < HYSTART_SMALL_WINDOW_DATAGRAMS && this.#aboveMin >= HYSTART_ABOVE_MIN_SAMPLES) {
        this.#exits++;
        this.#aboveMin = 0;
        return true;
      }
    }
    if (this.#roundSamples >= HYSTART_MIN_SAMPLES && this.#lastRoundMinRtt !== Infinity) {
      const thresh = delayThresholdMs(this.#lastRoundMinRtt);
      if (this.#roundMinRtt >= this.#lastRoundMinRtt + thresh) {
        this.#exits++;
        this.#cssBaseline = this.#roundMinRtt;
        this.#cssRoundsLeft = HYSTART_CSS_ROUNDS;
        this.#nextRound();
        return true;
      }
    }
    if (largestAckedPn >= this.#roundEndPn) this.#nextRound();
    return false;
  }

  /**
   * One ack in congestion avoidance (its largest newly acknowledged packet); true: the last delay
   * exit was spurious, resume slow start. False at once unless a delay exit is being watched.
   */
  onAckAfterExit(largestAckedPn: number): boolean {
    if (this.#cssRoundsLeft === 0) return false;
    const rtt = this.#rtt.latestMs;
    if (rtt > 0) {
      this.#roundSamples++;
      if (rtt < this.#roundMinRtt) this.#roundMinRtt = rtt;
    }
    if (this.#roundSamples >= HYSTART_MIN_SAMPLES && this.#roundMinRtt < this.#cssBaseline) {
      this.endWatch();
      this.#resumes++;
      return true;
    }
    if (largestAckedPn >= this.#roundEndPn) {
      this.#nextRound();
      this.#cssRoundsLeft--;
    }
    return false;
  }

  /** A congestion event (or a reset): a delay exit is no longer watched. */
  endWatch(): void {
    this.#cssRoundsLeft = 0;
    this.#cssBaseline = Infinity;
  }

  #nextRound(): void {
    this.#lastRoundMinRtt = this.#roundMinRtt;
    this.#roundMinRtt = Infinity;
    this.#roundSamples = 0;
    this.#roundEndPn = this.#largestSentPn + 1;
  }

  /** A new path or a collapsed window: rounds start again from the next packet sent. */
  reset(): void {
    this.#lastRoundMinRtt = this.#roundMinRtt = Infinity;
    this.#roundSamples = 0;
    this.#aboveMin = 0;
    this.#baseRtt = Infinity;
    this.#roundEndPn = this.#largestSentPn + 1;
    this.endWatch();
  }
}

/** RFC 9406's threshold: an eighth of the base RTT, clamped to 4…16 ms. */
function delayThresholdMs(baseMs: number): number {
  return Math.max(HYSTART_MIN_RTT_THRESH_MS, Math.min(HYSTART_MAX_RTT_THRESH_MS, baseMs / 8));
}
