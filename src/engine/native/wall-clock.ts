/**
 * The wall clock of a received datagram from its monotonic clock read (issue 12: one clock read
 * per datagram). The receive path reads the monotonic clock once per datagram (rate limits,
 * timers, RTT); the wall clock it also needs — the frame's freshness (judged within seconds) and
 * the message's `receivedAt` (a Date: milliseconds) — is read again only when the monotonic clock
 * moved ≥ 1 ms since the last read (or went back), so at ~100k datagrams/s it is read ~1,000
 * times a second instead of 100,000. Between reads the last reading stands: at most ~1 ms behind
 * a fresh Date.now(), the granularity of Date.now() itself. Only the system clock is cached; any
 * other Clock (ManualClock, whose wall clock can step on its own) is read each time.
 */
import { systemClock, type Clock } from '../../runtime/clock';

/** The wall clock is read again once the monotonic clock moved this far (ms). */
export const WALL_REREAD_MS = 1;

export class WallFromMonotonic {
  readonly #readWall: () => number;
  #monoMs = -Infinity;
  #wallMs = 0;

  constructor(readWall: () => number) {
    this.#readWall = readWall;
  }

  /** The wall clock at monotonic time `monoMs` (the last reading while within WALL_REREAD_MS after it). */
  at(monoMs: number): number {
    const d = monoMs - this.#monoMs;
    if (d >= WALL_REREAD_MS || d < 0) {
      this.#monoMs = monoMs;
      this.#wallMs = this.#readWall();
    }
    return this.#wallMs;
  }
}

const systemWall = new WallFromMonotonic(() => systemClock.now());

/** The wall clock for a datagram whose monotonic read is `monoMs` (cached on the system clock only). */
export function wallAt(clock: Clock, monoMs: number): number {
  return clock === systemClock ? systemWall.at(monoMs) : clock.now();
}
