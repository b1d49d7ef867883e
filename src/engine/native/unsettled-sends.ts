/**
 * The count of reliable sends not yet settled (reliable.ts), and who waits for it to reach
 * zero: close()/SIGTERM give in-flight messages a bounded grace to be acknowledged. The
 * senders count down through `settledOne` (their onSettled): no promise chained per message.
 */
import type { Scheduler } from '../../runtime/scheduler';

export class UnsettledSends {
  readonly #scheduler: Scheduler;
  #count = 0;
  #onIdle: (() => void)[] = [];

  constructor(scheduler: Scheduler) {
    this.#scheduler = scheduler;
  }

  get count(): number {
    return this.#count;
  }

  /** A reliable send was queued. */
  add(): void {
    this.#count++;
  }

  /** A message of any sender settled (acknowledged or failed). */
  readonly settledOne = (): void => {
    if (--this.#count === 0) for (const f of this.#onIdle.splice(0)) f();
  };

  /** Resolves once every send settled, or after `graceMs`; at once when none is pending or graceMs ≤ 0. */
  settled(graceMs: number): Promise<void> {
    if (this.#count === 0 || graceMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        timer.cancel();
        resolve();
      };
      const timer = this.#scheduler.timeout(() => {
        this.#onIdle = this.#onIdle.filter((f) => f !== done);
        resolve();
      }, graceMs);
      this.#onIdle.push(done);
    });
  }
}
