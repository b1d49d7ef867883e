/** The V8 heap an object kind retains, per object, for the object-size tests (idle-objects). */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

/**
 * Bytes of heap retained per object that `make` returns: `n` of them kept in an array made
 * beforehand, two full collections before and after; one warm-up round first (feedback, code and
 * hidden classes are made then, not counted), then the median of three rounds.
 */
export function retainedPer(make: (i: number) => unknown, n = 50_000): number {
  v8.setFlagsFromString('--expose-gc');
  v8.setFlagsFromString('--no-flush-bytecode'); // a collection that drops old bytecode would count as negative bytes
  const gc = vm.runInNewContext('gc') as () => void;
  const round = (): number => {
    const kept = new Array<unknown>(n).fill(null);
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) kept[i] = make(i);
    gc();
    gc();
    const after = process.memoryUsage().heapUsed;
    if (kept.length !== n) throw new Error('unreachable');
    return (after - before) / n;
  };
  round();
  const r = [round(), round(), round()].sort((a, b) => a - b);
  return r[1]!; // the median of three
}
