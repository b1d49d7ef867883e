/**
 * Datagrams in flight, ordered by (arrival time, send order), behind ONE scheduler timer: the
 * scheduler's timer list stays short however many datagrams a flood puts on the links, and
 * each arrival still runs in its own timer callback (a macrotask, as a socket's 'message').
 */
import type { Scheduler, Timer } from '../../runtime/scheduler';
import type { Clock } from '../../runtime/clock';

interface Arrival {
  at: number;
  seq: number;
  run: () => void;
}

const before = (x: Arrival, y: Arrival): boolean => x.at < y.at || (x.at === y.at && x.seq < y.seq);

export class Arrivals {
  readonly #scheduler: Scheduler;
  readonly #clock: Clock;
  /** Binary min-heap. */
  readonly #heap: Arrival[] = [];
  #seq = 0;
  #timer: Timer | null = null;
  #armedFor: Arrival | null = null;
  #firing = false;

  constructor(scheduler: Scheduler, clock: Clock) {
    this.#scheduler = scheduler;
    this.#clock = clock;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Runs `run` at monotonic time `at` (after earlier arrivals, and after those already due at `at`). */
  add(at: number, run: () => void): void {
    const a: Arrival = { at, seq: this.#seq++, run };
    const h = this.#heap;
    let i = h.length;
    h.push(a);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = a;
    if (!this.#firing && (this.#armedFor === null || before(a, this.#armedFor))) this.#arm();
  }

  #arm(): void {
    this.#timer?.cancel();
    const head = this.#heap[0];
    this.#timer = null;
    this.#armedFor = head ?? null;
    if (head) this.#timer = this.#scheduler.timeout(() => this.#fire(), head.at - this.#clock.monotonic());
  }

  #fire(): void {
    this.#timer = null;
    this.#armedFor = null;
    this.#firing = true;
    try {
      this.#pop().run();
    } finally {
      this.#firing = false;
      this.#arm();
    }
  }

  #pop(): Arrival {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && before(h[l + 1]!, h[l]!) ? l + 1 : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
