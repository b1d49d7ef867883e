/** The token buckets of handshake admission (admission.ts): the global, newcomer and demand budgets, and whole-ms times. */

export class Bucket {
  credit: number;
  lastMs: number;
  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.credit = burst;
    this.lastMs = now;
  }
  refill(now: number): void {
    const dt = now - this.lastMs;
    if (dt <= 0) return;
    this.lastMs = now;
    this.credit = Math.min(this.burst, this.credit + (dt * this.rate) / 1000);
  }
}

/** `ms` rounded down, as a small integer (`| 0`) when it fits one (stored in place, not boxed). */
export function wholeMs(ms: number): number {
  const f = Math.floor(ms);
  return (f | 0) === f ? f | 0 : f;
}
