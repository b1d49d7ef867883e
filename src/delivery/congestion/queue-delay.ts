/**
 * The queue-delay signal of a small window (docs/CONGESTION.md §9.2). Per round trip (a round ends
 * when a packet numbered at or above the largest sent at its start is acknowledged), the round's
 * smallest RTT sample less the path's minimum RTT is the queueing delay that round saw; the
 * largest of them is remembered, decaying by QUEUE_MAX_DECAY a round (about 100 rounds: a few
 * seconds). A round whose queueing delay reached QUEUE_FULL_FRACTION of that largest one says the
 * bottleneck's queue is nearly full: CUBIC then gives way by QUEUE_BETA, as to a loss, before the
 * queue overflows — but only with a window below QUEUE_SIGNAL_MAX_DATAGRAMS (cubic.ts).
 *
 * Why: at a small bottleneck queue (2 Mbit/s, 30 ms: 8 datagrams) a paced sender next to an
 * unpaced, ack-clocked TCP CUBIC flow loses 2–4% of its datagrams where TCP, whose 2–3-segment
 * bursts meet the full queue, loses 5–11%; the same response function then gives the paced flow
 * about twice TCP's window (bench:path: udpvault 60–64%, TCP 24–30%). Reading the queue before it
 * overflows hands TCP back some of its share without losing more.
 * The gate: below it the signal yields to a queue-filling competitor for as long as it fills the
 * queue, so the window stays below the gate. At 16 datagrams a 10 Mbit/s bulk next to TCP (a fair
 * window there is 25–30 datagrams) was held at 8% and 27% of the link in 2 of 3 runs; 10 is the
 * initial window, which only a loss takes CUBIC below.
 * The trap, and the way out: a loss can still take a 10 Mbit/s flow below the gate while TCP holds
 * a standing queue (its window stays above the pipe after its own losses); each round then read a
 * full queue and cut again, and the window never climbed back (bench:path: 7–8% of the link in 2
 * of 6 runs). Our cuts do not drain a queue a competitor keeps full, so, as Copa's competitive
 * mode, the signal gives way at most QUEUE_MAX_CUTS times in a row and then stays silent until a
 * round sees the queue below the full mark again (the competitor's own loss drained it). A round
 * that ends in the last cut's recovery does not cut, so the cuts come every other round: 8 span
 * about 16 rounds (a second at 70 ms) and 0.85⁸ ≈ 0.27 of the window. With 4 (0.52) TCP's share
 * at 2 Mbit/s fell to 33–46% in 4 runs (docs/CONGESTION.md §9.4).
 */
import type { RttStats } from '../reliable/rtt';

/** A round whose queueing delay reaches this fraction of the largest recent one signals a full queue. */
export const QUEUE_FULL_FRACTION = 0.5;
/** The remembered largest queueing delay decays by this factor each round. */
export const QUEUE_MAX_DECAY = 0.99;
/** Below this largest queueing delay (ms) there is no queue to read (HyStart's smallest threshold). */
export const QUEUE_MIN_DELAY_MS = 4;
/** Window multiplier on a full-queue round (a loss multiplies by CUBIC_BETA, 0.7). */
export const QUEUE_BETA = 0.85;
/** The signal acts only on windows below this many datagrams. */
export const QUEUE_SIGNAL_MAX_DATAGRAMS = 10;
/** Cuts in a row without a round that saw the queue below the full mark; then the signal is silent until one does. */
export const QUEUE_MAX_CUTS = 8;

export class QueueDelaySignal {
  readonly #rtt: RttStats;
  #roundEndPn = 0;
  #largestSentPn = -1;
  #roundMinRtt = Infinity;
  #maxQueueMs = 0;
  /** Cuts since the last round that read the queue below the full mark. */
  #cuts = 0;

  constructor(rtt: RttStats) {
    this.#rtt = rtt;
  }

  /** The largest recent queueing delay (ms, decayed). */
  get maxQueueMs(): number { return this.#maxQueueMs; }
  /** True while the signal is silent: QUEUE_MAX_CUTS cuts and no round since below the full mark. */
  get competing(): boolean { return this.#cuts >= QUEUE_MAX_CUTS; }

  onPacketSent(pn: number): void {
    if (pn > this.#largestSentPn) this.#largestSentPn = pn;
  }

  /** The controller gave way to this signal's last `true`. */
  onCut(): void { this.#cuts++; }

  /** One ack (its largest newly acknowledged packet); true at the end of a round that found the queue nearly full, unless competing. */
  onAck(largestAckedPn: number): boolean {
    const rtt = this.#rtt.latestMs;
    if (rtt > 0 && rtt < this.#roundMinRtt) this.#roundMinRtt = rtt;
    if (largestAckedPn < this.#roundEndPn) return false;
    const queueMs = this.#roundMinRtt - this.#rtt.minMs;
    this.#roundMinRtt = Infinity;
    this.#roundEndPn = this.#largestSentPn + 1;
    if (!Number.isFinite(queueMs)) return false;
    this.#maxQueueMs = Math.max(queueMs, this.#maxQueueMs * QUEUE_MAX_DECAY);
    const full = this.#maxQueueMs >= QUEUE_MIN_DELAY_MS && queueMs >= QUEUE_FULL_FRACTION * this.#maxQueueMs;
    if (!full) this.#cuts = 0;
    return full && this.#cuts < QUEUE_MAX_CUTS;
  }

  reset(): void {
    this.#roundMinRtt = Infinity;
    this.#maxQueueMs = 0;
    this.#cuts = 0;
    this.#roundEndPn = this.#largestSentPn + 1;
  }
}
