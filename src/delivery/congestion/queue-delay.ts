/**
 * The queue-delay backoff of a lossy shallow queue (docs/CONGESTION.md §9.3). Per round trip (a
 * round ends when a packet numbered at or above the largest sent at its start is acknowledged),
 * the round's smallest RTT sample less the path's minimum RTT is the queueing delay that round
 * saw; the largest of them is remembered, decaying by QUEUE_MAX_DECAY a round (about 100 rounds:
 * a few seconds). At the end of a round in congestion avoidance, CUBIC gives way by a factor that
 * grows with how full the queue was and with the flow's own recent loss rate:
 *
 *   fill     = (round's delay ÷ largest recent delay − QUEUE_FROM_FRACTION) ÷ (1 − QUEUE_FROM_FRACTION), in 0…1
 *   strength = (loss rate − LOSS_RATE_FROM) ÷ (LOSS_RATE_FULL − LOSS_RATE_FROM), in 0…1
 *   β        = max(1 − (1 − QUEUE_BETA_MIN) × fill × strength, min RTT ÷ (min RTT + round's delay))
 *
 * as a congestion event (recovery period, W_max by fast convergence) whenever β < 1. The loss rate
 * is the share of the flow's packets declared lost, both counts decaying by LOSS_RATE_DECAY a round.
 *
 * Why: at a small bottleneck queue (2 Mbit/s, 30 ms: 8 datagrams) a paced sender next to an
 * unpaced, ack-clocked TCP CUBIC flow loses 1–3% of its datagrams where TCP, whose 2–3-segment
 * bursts meet the full queue, loses 2–3 times as many; the same response function then gives the
 * paced flow about twice TCP's window (bench:path: udpvault 53–68%, TCP 23–35%). Reading the queue
 * before it overflows hands TCP back its share.
 * Why gated by the loss rate and not the window: the window-gated signals tried (on/off below 10
 * datagrams; proportional, fading from 8 to 14 datagrams) let a 2 Mbit/s window that had grown
 * past the gate escape it (TCP kept 21–33% in 1 of 3–6 runs each), and any gate high enough to
 * catch it held a 10 Mbit/s flow that had fallen below it (udpvault 8–11% of the link). A flow
 * that gives way loses nothing, so its loss rate falls and the backoff fades: it cannot hold a
 * flow down for good. On a deep queue (10 Mbit/s: 25 datagrams) a paced flow next to TCP loses
 * < 0.3% and the backoff stays off; on the 8-datagram queue it loses ≥ 1% and the backoff is on.
 * The floor keeps a flow alone on the link at or above the bandwidth-delay product
 * (window × min RTT ÷ RTT is what the path holds without a queue), so it costs no goodput alone.
 */
import type { RttStats } from '../reliable/rtt';

/** A round's delay below this fraction of the largest recent one is no backoff at all. */
export const QUEUE_FROM_FRACTION = 0.25;
/** The window multiplier of a round at the largest delay, at full strength. */
export const QUEUE_BETA_MIN = 0.6;
/** The remembered largest queueing delay decays by this factor each round. */
export const QUEUE_MAX_DECAY = 0.99;
/** Below this largest queueing delay (ms) there is no queue to read (HyStart's smallest threshold). */
export const QUEUE_MIN_DELAY_MS = 4;
/** Loss rates up to this give no backoff… */
export const LOSS_RATE_FROM = 0.003;
/** …rising linearly to full strength at this one. */
export const LOSS_RATE_FULL = 0.01;
/** The lost and acknowledged packet counts decay by this factor each round (≈ 30 rounds). */
export const LOSS_RATE_DECAY = 0.97;

/**
 * The window multiplier for a round whose queueing delay was `queueMs`, `fraction` (0…1) of the
 * largest recent one, on a path of `minRttMs`, with a recent loss rate `lossRate` (1: no backoff).
 */
export function queueBackoffBeta(fraction: number, queueMs: number, minRttMs: number, lossRate: number): number {
  const fill = Math.max(0, (fraction - QUEUE_FROM_FRACTION) / (1 - QUEUE_FROM_FRACTION));
  const strength = Math.min(1, Math.max(0, (lossRate - LOSS_RATE_FROM) / (LOSS_RATE_FULL - LOSS_RATE_FROM)));
  const beta = 1 - (1 - QUEUE_BETA_MIN) * fill * strength;
  return beta < 1 ? Math.max(beta, minRttMs / (minRttMs + queueMs)) : 1;
}

export class QueueDelaySignal {
  readonly #rtt: RttStats;
  #roundEndPn = 0;
  #largestSentPn = -1;
  #roundMinRtt = Infinity;
  #maxQueueMs = 0;
  #lastQueueMs = 0;
  #acked = 0;
  #lost = 0;

  constructor(rtt: RttStats) {
    this.#rtt = rtt;
  }

  /** The largest recent queueing delay (ms, decayed). */
  get maxQueueMs(): number { return this.#maxQueueMs; }
  /** The queueing delay of the last round that ended (ms). */
  get lastQueueMs(): number { return this.#lastQueueMs; }
  /** Recent share of packets declared lost (decayed counts). */
  get lossRate(): number { return this.#lost / Math.max(1, this.#lost + this.#acked); }

  onPacketSent(pn: number): void {
    if (pn > this.#largestSentPn) this.#largestSentPn = pn;
  }

  onPacketsAcked(count: number): void { this.#acked += count; }
  onPacketsLost(count: number): void { this.#lost += count; }

  /**
   * One ack (its largest newly acknowledged packet). At the end of a round, the round's queueing
   * delay ÷ the largest recent one (0…1; 0 while that is below QUEUE_MIN_DELAY_MS); else −1.
   */
  onAck(largestAckedPn: number): number {
    const rtt = this.#rtt.latestMs;
    if (rtt > 0 && rtt < this.#roundMinRtt) this.#roundMinRtt = rtt;
    if (largestAckedPn < this.#roundEndPn) return -1;
    const queueMs = this.#roundMinRtt - this.#rtt.minMs;
    this.#roundMinRtt = Infinity;
    this.#roundEndPn = this.#largestSentPn + 1;
    if (!Number.isFinite(queueMs)) return -1;
    this.#lastQueueMs = queueMs;
    this.#maxQueueMs = Math.max(queueMs, this.#maxQueueMs * QUEUE_MAX_DECAY);
    return this.#maxQueueMs >= QUEUE_MIN_DELAY_MS ? Math.max(0, queueMs / this.#maxQueueMs) : 0;
  }

  /** The window multiplier for the round that just ended (queueBackoffBeta); ages the loss counts by a round. */
  backoff(fraction: number): number {
    this.#acked *= LOSS_RATE_DECAY;
    this.#lost *= LOSS_RATE_DECAY;
    return queueBackoffBeta(fraction, this.#lastQueueMs, this.#rtt.minMs, this.lossRate);
  }

  reset(): void {
    this.#roundMinRtt = Infinity;
    this.#maxQueueMs = 0;
    this.#lastQueueMs = 0;
    this.#acked = 0;
    this.#lost = 0;
    this.#roundEndPn = this.#largestSentPn + 1;
  }
}
