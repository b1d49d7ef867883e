/** The V8 heap allocated while a function runs, for the allocation tests (idle-alloc, rekey-alloc). */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

interface Stats { usedHeapSize: number }
interface GcEvent { beforeGC: { heapStatistics: Stats }; afterGC: { heapStatistics: Stats } }

/** V8 heap allocated while `run` runs (a full collection first; summed over the collections meanwhile). */
export async function allocatedBy(run: () => Promise<void>): Promise<number> {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  const start = process.memoryUsage().heapUsed;
  const prof = new v8.GCProfiler();
  prof.start();
  await run();
  const end = process.memoryUsage().heapUsed;
  const events = (prof.stop() as unknown as { statistics: GcEvent[] }).statistics;
  let total = 0;
  let prev = start;
  for (const e of events) {
    total += e.beforeGC.heapStatistics.usedHeapSize - prev;
    prev = e.afterGC.heapStatistics.usedHeapSize;
  }
  return total + end - prev;
}

/**
 * Registers beforeAll/afterAll that make the file's figures exact and load-proof: TurboFan off
 * (`--no-opt`, unless `keepTurbofan`) and constant heap-profiler sampling intervals, both restored after.
 */
export function exactAllocationFlags(keepTurbofan = false): void {
  beforeAll(() => {
    if (!keepTurbofan) v8.setFlagsFromString('--no-opt');
    v8.setFlagsFromString('--sampling-heap-profiler-suppress-randomness');
  });
  afterAll(() => {
    v8.setFlagsFromString('--opt');
    v8.setFlagsFromString('--no-sampling-heap-profiler-suppress-randomness');
  });
}
