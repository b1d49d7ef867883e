/**
 * The queue-delay signal of a small window (docs/CONGESTION.md §9.2). Per round trip (a round ends
 * when a packet numbered at or above the largest sent at its start is acknowledged), the round's
 * smallest RTT sample less the path's minimum RTT is the queueing delay that round saw; the
 * largest of them is remembered, decaying by QUEUE_MAX_DECAY a round (about 100 rounds: a few
 * seconds). A round whose queueing delay reached QUEUE_FULL_FRACTION of that largest one says the
 * bottleneck's queue is nearly full: CUBIC then gives way by QUEUE_BETA, as to a loss, before the
 * queue overflows — but only with a window below QUEUE_SIGNAL_MAX_DATAGRAMS, or below
 * QUEUE_LOSSY_MAX_DATAGRAMS while the flow's own recent loss rate is at least QUEUE_LOSSY_RATE
 * (cubic.ts; docs/CONGESTION.md §9.3).
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
 * The lossy extension: at 2 Mbit/s a window that had grown to 10–12 datagrams (a 65–80% share of a
 * 15-datagram pipe and queue) escaped the gate of 10, and TCP kept 21% and 28% of the link in 2 of
 * 11 runs. Such a flow still loses ≥ 1% of its packets on the 8-datagram queue, where a flow next
 * to TCP at 10 Mbit/s loses 0.1–0.3%; so up to 13 datagrams the signal acts while the loss rate says
 * the queue is that small. Not 16: on the simulator's 10 Mbit/s bottleneck (its two udpvault flows
 * lose ~2%) a window that fell to 13–16 after a loss was then held there (two flows split 18 : 72
 * instead of 49 : 55). Tried and not kept (docs/CONGESTION.md §9.3): a backoff proportional to the
 * queue's fill (β 0.6…1) gated by the window (fading from 8 to 14 datagrams) or by the loss rate
 * alone — both held a 10 Mbit/s flow at 7–11% of the link in some runs, and the loss-gated one
 * split the simulator's two flows 15 : 74 (the newcomer's minimum RTT includes the incumbent's
 * queue, so it reads less delay and gives way less).
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
/** The signal acts on windows below this many datagrams… */
export const QUEUE_SIGNAL_MAX_DATAGRAMS = 10;
/** …and, while the flow's recent loss rate is at least QUEUE_LOSSY_RATE, below this many. */
export const QUEUE_LOSSY_MAX_DATAGRAMS = 13;
export const QUEUE_LOSSY_RATE = 0.01;
/** The lost and acknowledged packet counts decay by this factor each round (≈ 30 rounds). */
export const LOSS_RATE_DECAY = 0.97;

export class QueueDelaySignal {
  readonly #rtt: RttStats;
  #roundEndPn = 0;
  #largestSentPn = -1;
  #roundMinRtt = Infinity;
  #maxQueueMs = 0;
  #acked = 0;
  #lost = 0;

  constructor(rtt: RttStats) {
    this.#rtt = rtt;
  }

  /** The largest recent queueing delay (ms, decayed). */
  get maxQueueMs(): number { return this.#maxQueueMs; }

  /** Recent share of packets declared lost (counts decaying by LOSS_RATE_DECAY a round). */
  get lossRate(): number { return this.#lost / Math.max(1, this.#lost + this.#acked); }

  onPacketSent(pn: number): void {
    if (pn > this.#largestSentPn) this.#largestSentPn = pn;
  }

  onPacketsAcked(count: number): void { this.#acked += count; }
  onPacketsLost(count: number): void { this.#lost += count; }

  /** Whether the signal acts on a window of `windowDatagrams`: below 10, or below 16 while the flow loses ≥ 1%. */
  appliesTo(windowDatagrams: number): boolean {
    return windowDatagrams < QUEUE_SIGNAL_MAX_DATAGRAMS || (windowDatagrams < QUEUE_LOSSY_MAX_DATAGRAMS && this.lossRate >= QUEUE_LOSSY_RATE);
  }

  /** One ack (its largest newly acknowledged packet); true at the end of a round that found the queue nearly full. */
  onAck(largestAckedPn: number): boolean {
    const rtt = this.#rtt.latestMs;
    if (rtt > 0 && rtt < this.#roundMinRtt) this.#roundMinRtt = rtt;
    if (largestAckedPn < this.#roundEndPn) return false;
    this.#acked *= LOSS_RATE_DECAY;
    this.#lost *= LOSS_RATE_DECAY;
    const queueMs = this.#roundMinRtt - this.#rtt.minMs;
    this.#roundMinRtt = Infinity;
    this.#roundEndPn = this.#largestSentPn + 1;
    if (!Number.isFinite(queueMs)) return false;
    this.#maxQueueMs = Math.max(queueMs, this.#maxQueueMs * QUEUE_MAX_DECAY);
    return this.#maxQueueMs >= QUEUE_MIN_DELAY_MS && queueMs >= QUEUE_FULL_FRACTION * this.#maxQueueMs;
  }

  reset(): void {
    this.#roundMinRtt = Infinity;
    this.#maxQueueMs = 0;
    this.#acked = 0;
    this.#lost = 0;
    this.#roundEndPn = this.#largestSentPn + 1;
  }
}
