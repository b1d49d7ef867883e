/**
 * Scheduling injected wherever logic defers work: timeouts, intervals, immediates (after the
 * current I/O phase) and microtasks (end of the current turn). ManualScheduler runs them on a
 * ManualClock, deterministically, for tests and the simulated network: no sleeps.
 */
import { ManualClock } from './clock';

export interface Timer {
  cancel(): void;
}

/**
 * A one-shot timer armed again and again (issue 12: no timer object per arm while its owner is
 * busy). cancel() drops a pending run and lets go of what the timer holds (an idle owner keeps
 * no Timeout: 180 B per idle peer); the next arm() makes it again.
 */
export interface RearmableTimer extends Timer {
  /** Runs the timer's fn once after ms (unref), replacing a run still pending. */
  arm(ms: number): void;
}

export interface Scheduler {
  /** Runs fn once after ms. A pending timer never keeps the process alive (unref). */
  timeout(fn: () => void, ms: number): Timer;
  /** Runs fn every ms until cancelled (unref). */
  interval(fn: () => void, ms: number): Timer;
  /** Runs fn after the current I/O phase (setImmediate). */
  immediate(fn: () => void): Timer;
  /** Runs fn at the end of the current turn, before any I/O (queueMicrotask). */
  microtask(fn: () => void): void;
  /** A timer for fn, not armed yet: arm(ms) runs fn once after ms, as timeout(fn, ms) would. */
  rearmable(fn: () => void): RearmableTimer;
}

/**
 * A Node timer's handle: one small object, not an object and a closure (issue 12: every
 * peer's armed timer costs one). clearTimeout also clears an interval.
 */
class NodeTimer implements Timer {
  readonly #t: NodeJS.Timeout;
  constructor(t: NodeJS.Timeout) {
    this.#t = t.unref();
  }
  cancel(): void {
    clearTimeout(this.#t);
  }
}

/**
 * A settled promise whose reactions are the system scheduler's microtasks: `then` queues a job
 * on the same V8 microtask queue as queueMicrotask, in the same order, for ~95 bytes instead of
 * ~250 (Node's queueMicrotask makes an AsyncResource and a bound function per call; memrss16:
 * the node's end-of-turn flush queues one per turn with work). A callback that throws surfaces
 * as an unhandled rejection (with Node's default mode, an uncaught error, as before).
 */
const SETTLED: Promise<void> = Promise.resolve();

/** The fields of Node's Timeout that `refresh()` arms from (lib/internal/timers.js, Node 20 to 26). */
interface TimeoutFields {
  _idleTimeout: number;
  _onTimeout: (() => void) | null;
}
/** setTimeout's bounds: a delay outside [1, 2^31 − 1] ms is 1 ms. */
const TIMEOUT_MAX = 2 ** 31 - 1;
const nodeDelay = (ms: number): number => (ms >= 1 && ms <= TIMEOUT_MAX ? ms : 1);

/**
 * Whether this Node's Timeout can be armed again for another delay: `refresh()` inserts it for
 * `_idleTimeout` ms with `_onTimeout` as callback, whether it is pending, ran or was cleared
 * (clearTimeout drops `_onTimeout` and sets `_idleTimeout` to −1). Checked once on a real timer;
 * without those fields each arm makes a new Timeout, as setTimeout.
 */
export const timersRearmInPlace: boolean = (() => {
  const t = setTimeout(() => undefined, TIMEOUT_MAX).unref();
  const f = t as unknown as Partial<TimeoutFields>;
  const ok = typeof t.refresh === 'function' && f._idleTimeout === TIMEOUT_MAX && typeof f._onTimeout === 'function';
  clearTimeout(t);
  return ok && f._onTimeout == null && f._idleTimeout === -1; // cleared: no callback (null on Node 20, undefined on 26), no delay
})();

/**
 * One Node Timeout re-armed until cancelled (issue 12, memalloc17: a link's timer is armed for
 * each delayed ack, probe timeout and pacer wake-up; a Timeout and a handle per arm). arm()
 * re-arms the same Timeout for the new delay, pending or run (refresh() moves it to the list of
 * that duration: the run pending before is replaced); cancel() clears it and lets it go.
 */
class SystemRearmable implements RearmableTimer {
  #t: NodeJS.Timeout | null = null;
  readonly #fn: () => void;
  constructor(fn: () => void) {
    this.#fn = fn;
  }
  arm(ms: number): void {
    const t = this.#t;
    if (t === null || !timersRearmInPlace) {
      if (t !== null) clearTimeout(t);
      this.#t = setTimeout(this.#fn, ms).unref();
      return;
    }
    const f = t as unknown as TimeoutFields;
    f._onTimeout = this.#fn;
    f._idleTimeout = nodeDelay(ms);
    t.refresh();
  }
  cancel(): void {
    if (this.#t === null) return;
    clearTimeout(this.#t);
    this.#t = null;
  }
}

export const systemScheduler: Scheduler = {
  timeout: (fn, ms) => new NodeTimer(setTimeout(fn, Math.max(0, ms))),
  interval: (fn, ms) => new NodeTimer(setInterval(fn, Math.max(1, ms))),
  immediate(fn) {
    const t = setImmediate(fn);
    return { cancel: () => clearImmediate(t) };
  },
  microtask: (fn) => void SETTLED.then(fn),
  rearmable: (fn) => new SystemRearmable(fn),
};

/** ManualScheduler's rearmable timer: a fresh entry per arm (the simulator's own cost, not the node's). */
class ManualRearmable implements RearmableTimer {
  #e: Timer | null = null;
  constructor(
    readonly s: ManualScheduler,
    readonly fn: () => void,
  ) {}
  arm(ms: number): void {
    this.#e?.cancel();
    this.#e = this.s.timeout(this.fn, ms);
  }
  cancel(): void {
    this.#e?.cancel();
    this.#e = null;
  }
}

/** A manual timer or immediate: its own handle (no closure per timer). */
class Entry implements Timer {
  cancelled = false;
  constructor(
    public at: number,
    readonly seq: number,
    readonly fn: () => void,
    readonly every: number, // 0 = once
  ) {}
  cancel(): void {
    this.cancelled = true;
  }
}

/** Lets every pending promise continuation and microtask run (a real macrotask boundary). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Timers ordered by (due time, creation order) on a ManualClock. Microtasks are real
 * microtasks (their order is deterministic); immediates and timers run only inside
 * advance()/runUntil(), after the microtasks queued before them have run.
 */
export class ManualScheduler implements Scheduler {
  readonly clock: ManualClock;
  #timers: Entry[] = [];
  #immediates: Entry[] = [];
  #seq = 0;
  /** Callbacks that threw (a test asserts this stays empty). */
  readonly errors: unknown[] = [];

  constructor(clock: ManualClock = new ManualClock()) {
    this.clock = clock;
  }

  timeout(fn: () => void, ms: number): Timer {
    return this.#add(fn, Math.max(0, ms), 0);
  }
  interval(fn: () => void, ms: number): Timer {
    return this.#add(fn, Math.max(1, ms), Math.max(1, ms));
  }
  immediate(fn: () => void): Timer {
    const e = new Entry(0, this.#seq++, fn, 0);
    this.#immediates.push(e);
    return e;
  }
  microtask(fn: () => void): void {
    queueMicrotask(fn);
  }
  rearmable(fn: () => void): RearmableTimer {
    return new ManualRearmable(this, fn);
  }

  #add(fn: () => void, delay: number, every: number): Timer {
    const e = new Entry(this.clock.monotonic() + delay, this.#seq++, fn, every);
    this.#insert(e);
    return e;
  }

  #insert(e: Entry): void {
    // Sorted insert (binary search): timers are few per node; order is (at, seq).
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#timers[mid]!;
      if (m.at < e.at || (m.at === e.at && m.seq < e.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, e);
  }

  #run(e: Entry): void {
    try {
      e.fn();
    } catch (err) {
      this.errors.push(err);
    }
  }

  /** Runs microtasks and immediates until none is left (bounded: a loop of immediates is an error). */
  async drain(): Promise<void> {
    for (let round = 0; round < 100_000; round++) {
      await settle();
      if (this.#immediates.length === 0) return;
      const batch = this.#immediates;
      this.#immediates = [];
      for (const e of batch) if (!e.cancelled) this.#run(e);
    }
    throw new Error('ManualScheduler: immediates keep scheduling immediates');
  }

  /** Due time of the next live timer, or null. */
  nextDue(): number | null {
    while (this.#timers.length > 0 && this.#timers[0]!.cancelled) this.#timers.shift();
    return this.#timers.length > 0 ? this.#timers[0]!.at : null;
  }

  /** Advances time by ms, running every timer that falls due, in order, with drains between. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(() => false, ms);
  }

  /**
   * Runs timers in order until `done()` is true (checked after every drain) or maxMs of
   * simulated time have passed. Returns whether done() became true.
   */
  async runUntil(done: () => boolean, maxMs: number): Promise<boolean> {
    const end = this.clock.monotonic() + maxMs;
    await this.drain();
    for (;;) {
      if (done()) return true;
      const due = this.nextDue();
      if (due === null || due > end) break;
      const e = this.#timers.shift()!;
      if (due > this.clock.monotonic()) this.clock.advance(due - this.clock.monotonic());
      if (e.every > 0) {
        e.at += e.every;
        this.#insert(e);
      }
      this.#run(e);
      await this.drain();
    }
    if (end > this.clock.monotonic()) this.clock.advance(end - this.clock.monotonic());
    await this.drain();
    return done();
  }

  /** Number of live timers (a closed node must leave none). */
  get pendingTimers(): number {
    return this.#timers.filter((e) => !e.cancelled).length + this.#immediates.filter((e) => !e.cancelled).length;
  }
}
