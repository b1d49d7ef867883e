/** Time source injected wherever protocol logic depends on time (tests use a fake clock). */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (signed timestamps, freshness). */
  now(): number;
  /** Monotonic milliseconds (timers, rate limits, RTT). */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A manually advanced clock for tests. */
export class FakeClock implements Clock {
  #wall: number;
  #mono = 0;
  constructor(wallMs = 1_800_000_000_000) {
    this.#wall = wallMs;
  }
  now(): number {
    return this.#wall;
  }
  monotonic(): number {
    return this.#mono;
  }
  advance(ms: number): void {
    this.#wall += ms;
    this.#mono += ms;
  }
  setWall(ms: number): void {
    this.#wall = ms;
  }
}
