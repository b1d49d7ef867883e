/**
 * Constant-bit-rate cross traffic through one link direction: it takes its share of the
 * bottleneck's rate and queue, so a test can show that a flow leaves room for others (the
 * share of cross packets tail-dropped) and measure the queueing delay it causes. Its packets
 * go nowhere and stay out of the trace; its own counters say what became of them.
 */
import type { Scheduler, Timer } from '../../runtime/scheduler';
import type { Clock } from '../../runtime/clock';
import type { LinkDirection } from './link';

export interface CrossTrafficOptions {
  /** Offered rate, bits per second of IP packets. */
  rateBps: number;
  /** IP packet size (headers included); default 1200. */
  packetBytes?: number;
}

export interface CrossTrafficCounts {
  /** Packets offered to the link. */
  offered: number;
  /** Accepted and not lost. */
  carried: number;
  queueFull: number;
  lost: number;
  tooBig: number;
  /** Largest delay from offer to the end of serialisation, ms (the queueing delay it saw). */
  maxQueueDelayMs: number;
}

export class CrossTraffic {
  readonly #timer: Timer;
  readonly #counts: CrossTrafficCounts = { offered: 0, carried: 0, queueFull: 0, lost: 0, tooBig: 0, maxQueueDelayMs: 0 };

  constructor(link: () => LinkDirection, scheduler: Scheduler, clock: Clock, o: CrossTrafficOptions) {
    const size = o.packetBytes ?? 1200;
    if (!(o.rateBps > 0 && Number.isFinite(o.rateBps))) throw new RangeError(`cross traffic rateBps must be > 0 and finite, got ${o.rateBps}`);
    if (!(Number.isInteger(size) && size >= 28)) throw new RangeError(`cross traffic packetBytes must be an integer >= 28, got ${size}`);
    const gapMs = (size * 8 * 1000) / o.rateBps;
    const tickMs = Math.max(1, gapMs);
    let next = clock.monotonic() + gapMs;
    // Each tick offers the packets due since the last one, each at its own due time, so rates
    // above one packet per ms stay smooth.
    this.#timer = scheduler.interval(() => {
      const now = clock.monotonic();
      while (next <= now) {
        this.#offer(link(), size, next);
        next += gapMs;
      }
    }, tickMs);
  }

  get counts(): Readonly<CrossTrafficCounts> {
    return { ...this.#counts };
  }

  stop(): void {
    this.#timer.cancel();
  }

  #offer(link: LinkDirection, size: number, at: number): void {
    const c = this.#counts;
    c.offered++;
    const v = link.offer(size - 28, 28, at);
    if (v.fate === 'sent') {
      c.carried++;
      c.maxQueueDelayMs = Math.max(c.maxQueueDelayMs, v.serialisedAt - at);
    } else c[v.fate]++;
  }
}
