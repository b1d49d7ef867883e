/** A delivery ack's SACK ranges as the reliable sender reads them (reliable-sender.ts). */
import { MAX_ACK_RANGES } from '../../wire/frame';

/** Valid ranges clamped to [lo, hi], sorted by start (at most MAX_ACK_RANGES are read). */
export function sanitizeRanges(flat: readonly number[], lo: number, hi: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  const n = Math.min(flat.length >> 1, MAX_ACK_RANGES);
  for (let k = 0; k < n; k++) {
    const [s, e] = [flat[2 * k]!, flat[2 * k + 1]!];
    const [a, b] = [Math.max(s, lo), Math.min(e, hi)];
    if (Number.isSafeInteger(s) && Number.isSafeInteger(e) && a <= b) pairs.push([a, b]);
  }
  return pairs.sort((x, y) => x[0] - y[0]);
}
