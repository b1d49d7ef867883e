/**
 * What every bench process role provides, and the pieces they share: the receive counter and
 * the flat-out send loop (a batch of sends per event-loop turn, the next batch on setImmediate).
 */
import type { Command, Hello, Memory } from '../protocol';

export interface RoleHandler {
  /** Opens the endpoint; the answer to `init`. */
  init(): Promise<Hello>;
  /** Handles one command; the value is the reply (every command gets one). */
  handle(c: Command): Promise<unknown>;
}

/** Counts what arrives between `count` and `report`, and the CPU time the process spent. */
export class Counter {
  #on = false;
  #count = 0;
  #bytes = 0;
  #cpu: NodeJS.CpuUsage = process.cpuUsage();
  #sleeps = 0;
  add(bytes: number): void {
    if (!this.#on) return;
    this.#count++;
    this.#bytes += bytes;
  }
  start(): void {
    this.#count = this.#bytes = 0;
    this.#on = true;
    this.#cpu = process.cpuUsage();
    this.#sleeps = process.resourceUsage().voluntaryContextSwitches;
  }
  stop(): { count: number; bytes: number; cpuUs: number; sleeps: number } {
    this.#on = false;
    const cpu = process.cpuUsage(this.#cpu);
    const sleeps = process.resourceUsage().voluntaryContextSwitches - this.#sleeps;
    return { count: this.#count, bytes: this.#bytes, cpuUs: cpu.user + cpu.system, sleeps };
  }
}

/**
 * Sends flat out: each turn calls `turn()` (which sends up to one batch and says whether it may
 * go on at once) and schedules the next turn with setImmediate, or waits for `resume()` when the
 * sender is back-pressured (a full window or a stream's highWaterMark).
 */
export class Blaster {
  #running = false;
  #parked = false;
  readonly #turn: () => boolean;
  constructor(turn: () => boolean) {
    this.#turn = turn;
  }
  start(): void {
    this.#running = true;
    this.#loop();
  }
  stop(): void {
    this.#running = false;
  }
  /** Wakes a parked loop (called when the window or the stream drains). */
  resume(): void {
    if (!this.#parked || !this.#running) return;
    this.#parked = false;
    setImmediate(this.#loop);
  }
  readonly #loop = (): void => {
    if (!this.#running) return;
    if (this.#turn()) setImmediate(this.#loop);
    else this.#parked = true;
  };
}

/** Writes a V8 heap snapshot (after a GC) to `file` (bench/memory.ts: the biggest items per peer). */
export function heapSnapshot(file: string): { path: string } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  return { path: (require('node:v8') as typeof import('node:v8')).writeHeapSnapshot(file) };
}

interface GcStats { usedHeapSize: number }
let profiler: import('node:v8').GCProfiler | null = null;
/** V8 heap allocated before the last collection counted (summed: heap used before each − after the previous). */
let allocatedBefore = 0;
let lastUsed = 0;

/**
 * V8 heap allocated by this process since the first call (issue 12: an idle crowd's allocation
 * rate decides whether V8 gives its new space back), without a collection of its own: the
 * collections since the last call are read from a v8.GCProfiler, which is restarted.
 */
export function allocated(): { allocated: number; newSpace: number } {
  const v8 = require('node:v8') as typeof import('node:v8');
  const used = v8.getHeapStatistics().used_heap_size;
  if (profiler === null) lastUsed = used;
  else {
    const events = (profiler.stop() as unknown as { statistics: { beforeGC: { heapStatistics: GcStats }; afterGC: { heapStatistics: GcStats } }[] }).statistics;
    for (const e of events) {
      allocatedBefore += e.beforeGC.heapStatistics.usedHeapSize - lastUsed;
      lastUsed = e.afterGC.heapStatistics.usedHeapSize;
    }
  }
  profiler = new v8.GCProfiler();
  profiler.start();
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0;
  return { allocated: allocatedBefore + used - lastUsed, newSpace };
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}
let sampling: import('node:inspector/promises').Session | null = null;

/**
 * BENCH_ALLOC_PROFILE=1: V8's sampling heap profiler, collected objects included, between two
 * calls; the second returns the bytes allocated by function (built-ins charged to their caller),
 * largest first.
 */
export async function allocationProfile(): Promise<string[]> {
  if (sampling === null) {
    const { Session } = require('node:inspector/promises') as typeof import('node:inspector/promises');
    sampling = new Session();
    sampling.connect();
    await sampling.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    return [];
  }
  const { profile } = (await sampling.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  sampling.disconnect();
  sampling = null;
  const by = new Map<string, number>();
  const name = (f: ProfileNode['callFrame']): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
  const walk = (p: ProfileNode, parent: string): void => {
    const builtin = p.callFrame.url === '' || p.callFrame.url.startsWith('node:');
    const key = builtin ? `${name(p.callFrame)} <- ${parent}` : name(p.callFrame);
    by.set(key, (by.get(key) ?? 0) + p.selfSize);
    for (const c of p.children) walk(c, builtin ? parent : name(p.callFrame));
  };
  walk(profile.head, '(root)');
  return [...by].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, b]) => `${String(b).padStart(10)} B  ${k}`);
}

export function memory(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the ArrayBuffers one collection finds dead are freed (and leave `external` and the
  // RSS) only when the next one starts; with the idle links' ticks quiet, nothing else collects.
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  const v8 = require('node:v8') as typeof import('node:v8');
  const all = v8.getHeapSpaceStatistics();
  const newSpace = all.find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0;
  const spaces: Record<string, { used: number; committed: number }> = {};
  for (const s of all) spaces[s.space_name.replace(/_space$/, '')] = { used: s.space_used_size, committed: s.physical_space_size };
  const h = v8.getHeapStatistics();
  return { rss: m.rss, heapUsed: m.heapUsed, heapCommitted: h.total_physical_size, newSpace, external: m.external, spaces, malloced: h.malloced_memory };
}

/** Random payload bytes (incompressible, as an encrypted application's would be). */
export function payload(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) globalThis.crypto.getRandomValues(b.subarray(i, Math.min(size, i + 65536)));
  return b;
}
