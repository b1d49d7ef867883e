/**
 * Gives the V8 heap's committed slack back after a burst (issue 12: RSS per idle peer).
 *
 * After thousands of handshakes a daemon's heap holds tens of MB of committed pages without live
 * objects: old space fragmented by the burst's promoted garbage, new space at its maximum (rss18
 * measured 114 MB committed for 50 MB used at 10,000 idle peers). A full collection does not give
 * them back; V8's memory reducer does (compaction, free pages discarded, new space shrunk), but it
 * starts only when the allocation rate is low — an idle daemon with 10,000 peers allocates above
 * V8's threshold with its keepalives alone — or ~100 s after the last full collection, which
 * every rekey burst postpones. V8 also starts it whenever it optimizes for memory
 * (`--optimize-for-size`), so the settler sets that flag for a short pulse when the heap's slack
 * is large and the event loop mostly idle, then clears it once the slack is gone, after 45 s, or
 * as soon as the loop gets busy (it looks every second during a pulse): the reducer's collections run during the pulse,
 * and a flat-out sender runs with the flag for at most a second (set for good, it costs ~25%
 * CPU per message: mem14b).
 *
 * One per process, shared by every node of the process (acquireHeapSettler); not started when the
 * process already runs with `--optimize-for-size` (V8 then reduces on its own).
 */
import { systemScheduler, type Scheduler, type Timer } from './scheduler';

/** What the settler reads and sets of the JavaScript engine (a fake in tests). */
export interface HeapGauge {
  /** Bytes the heap holds from the system and bytes its objects use. */
  heap(): { committed: number; used: number };
  /** The event loop's busy share (0..1) since the previous call. */
  busy(): number;
  /** Makes the engine optimize for memory (its memory reducer starts) or not. */
  optimizeForMemory(on: boolean): void;
}

export interface HeapSettleOptions {
  /** How often the heap is looked at (ms). */
  checkMs?: number;
  /** How often a pulse looks at the event loop (ms): it ends at once when the loop got busy. */
  watchMs?: number;
  /** How long a pulse lasts at most (ms): long enough for the reducer's first timer and its collections. */
  pulseMs?: number;
  /** No pulse for this long after one ends (ms). */
  cooldownMs?: number;
  /** A pulse needs at least this much slack (committed − used bytes)… */
  minSlackBytes?: number;
  /** …and slack at least this share of the bytes used. */
  minSlackShare?: number;
  /** A pulse needs the event loop busy at most this share of the last window, and ends above it. */
  maxBusy?: number;
}

const DEFAULTS: Required<HeapSettleOptions> = {
  checkMs: 10_000,
  watchMs: 1_000,
  // Node 20's V8 starts its memory reducer ~8 s after the flag, Node 26's ~30 s (measured: a
  // 20 s pulse never reduced on Node 26); a pulse ends early once the slack is gone.
  pulseMs: 45_000,
  cooldownMs: 60_000,
  minSlackBytes: 16 * 1024 * 1024,
  minSlackShare: 0.25,
  maxBusy: 0.5,
};

export class HeapSettler {
  readonly #scheduler: Scheduler;
  readonly #gauge: HeapGauge;
  readonly #o: Required<HeapSettleOptions>;
  #next: Timer | null = null;
  #state: 'stopped' | 'watching' | 'pulsing' | 'cooling' = 'stopped';
  /** ms left of the pulse or of the cooldown. */
  #left = 0;
  #pulses = 0;

  constructor(scheduler: Scheduler, gauge: HeapGauge, opts: HeapSettleOptions = {}) {
    this.#scheduler = scheduler;
    this.#gauge = gauge;
    this.#o = { ...DEFAULTS, ...opts };
  }

  /** Pulses started so far. */
  get pulses(): number {
    return this.#pulses;
  }

  get pulsing(): boolean {
    return this.#state === 'pulsing';
  }

  start(): void {
    if (this.#state !== 'stopped') return;
    this.#state = 'watching';
    this.#gauge.busy(); // the first window starts now
    this.#arm(this.#o.checkMs);
  }

  /** Stops looking; a pulse under way ends at once (the flag is cleared). */
  stop(): void {
    this.#next?.cancel();
    this.#next = null;
    if (this.#state === 'pulsing') this.#gauge.optimizeForMemory(false);
    this.#state = 'stopped';
  }

  #arm(ms: number): void {
    this.#next = this.#scheduler.timeout(() => this.#look(ms), ms);
  }

  /** Runs `ms` after the previous look. */
  #look(ms: number): void {
    if (this.#state === 'stopped') return;
    const busy = this.#gauge.busy();
    if (this.#state === 'pulsing') {
      this.#left -= ms;
      // ends on a busy second, at its length, or once V8 gave the slack back
      if (busy > this.#o.maxBusy || this.#left <= 0 || !this.#slackIsLarge()) {
        this.#gauge.optimizeForMemory(false);
        this.#state = 'cooling';
        this.#left = this.#o.cooldownMs;
      }
    } else {
      if (this.#state === 'cooling') {
        this.#left -= ms;
        if (this.#left <= 0) this.#state = 'watching';
      }
      if (this.#state === 'watching' && busy <= this.#o.maxBusy && this.#slackIsLarge()) {
        this.#state = 'pulsing';
        this.#left = this.#o.pulseMs;
        this.#pulses++;
        this.#gauge.optimizeForMemory(true);
      }
    }
    this.#arm(this.#state === 'pulsing' ? this.#o.watchMs : this.#o.checkMs);
  }

  #slackIsLarge(): boolean {
    const { committed, used } = this.#gauge.heap();
    const slack = committed - used;
    return slack >= this.#o.minSlackBytes && slack >= used * this.#o.minSlackShare;
  }
}

/** Whether this process was started with `--optimize-for-size` (V8 then reduces memory on its own). */
export function optimizesForSize(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--optimize[-_]for[-_]size$/.test(a));
}

/** The running V8: heap statistics, event-loop utilization, and the flag set at run time. */
export function v8Gauge(): HeapGauge {
  const v8 = require('node:v8') as typeof import('node:v8');
  const { performance } = require('node:perf_hooks') as typeof import('node:perf_hooks');
  let last = performance.eventLoopUtilization();
  return {
    heap() {
      const h = v8.getHeapStatistics();
      return { committed: h.total_physical_size, used: h.used_heap_size };
    },
    busy() {
      const now = performance.eventLoopUtilization();
      const d = performance.eventLoopUtilization(now, last);
      last = now;
      return d.utilization;
    },
    optimizeForMemory(on) {
      v8.setFlagsFromString(on ? '--optimize-for-size' : '--no-optimize-for-size');
    },
  };
}

let shared: HeapSettler | null = null;
let holders = 0;

/** How many nodes hold the process's settler (0: none runs). */
export function heapSettlerHolders(): number {
  return holders;
}

/**
 * Starts the process's settler for a node (the first holder starts it); the returned function
 * releases it (the last holder stops it). Null when the process optimizes for size already.
 */
export function acquireHeapSettler(): (() => void) | null {
  if (optimizesForSize()) return null;
  if (!shared) {
    shared = new HeapSettler(systemScheduler, v8Gauge());
    shared.start();
  }
  holders++;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holders === 0) {
      shared?.stop();
      shared = null;
    }
  };
}
