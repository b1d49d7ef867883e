/** Time source injected wherever logic depends on time (tests use ManualClock). */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (signed timestamps, freshness, display). */
  now(): number;
  /** Monotonic milliseconds (timers, rate limits, RTT); never steps. */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A clock advanced by hand (or by ManualScheduler). Wall time can be stepped on its own. */
export class ManualClock implements Clock {
  #wall: number;
  #mono: number;
  constructor(wallMs = 1_800_000_000_000, monoMs = 0) {
    this.#wall = wallMs;
    this.#mono = monoMs;
  }
  now(): number {
    return this.#wall;
  }
  monotonic(): number {
    return this.#mono;
  }
  /** Moves both clocks forward. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.#wall += ms;
    this.#mono += ms;
  }
  /** Steps the wall clock only (an NTP step, a skewed host); monotonic time is unaffected. */
  setWall(ms: number): void {
    this.#wall = ms;
  }
}
