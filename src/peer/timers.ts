/**
 * One peer's timers, each named for what arms it and what it triggers (as wireguard-go's
 * device/timers.go): armed and disarmed by named hooks, read by the link's tick. Deadlines are
 * monotonic milliseconds.
 */
export type PeerTimerName =
  /** Armed when a handshake init is sent: retry (with backoff) if still unanswered. */
  | 'retransmitHandshake'
  /** Armed when the peer's crossing init was ignored: repeat ours if still unanswered. */
  | 'resendCrossingInit';

export class PeerTimers {
  #at = new Map<PeerTimerName, number>();

  arm(name: PeerTimerName, atMs: number): void {
    this.#at.set(name, atMs);
  }

  /** Arms only when not armed yet (keeps the first deadline). */
  armOnce(name: PeerTimerName, atMs: number): void {
    if (!this.#at.has(name)) this.#at.set(name, atMs);
  }

  disarm(name: PeerTimerName): void {
    this.#at.delete(name);
  }

  isArmed(name: PeerTimerName): boolean {
    return this.#at.has(name);
  }

  /** Armed and due at `nowMs`. */
  isDue(name: PeerTimerName, nowMs: number): boolean {
    const at = this.#at.get(name);
    return at !== undefined && nowMs >= at;
  }

  /** The earliest armed deadline, or null. */
  nextDeadline(): number | null {
    let min: number | null = null;
    for (const at of this.#at.values()) if (min === null || at < min) min = at;
    return min;
  }

  disarmAll(): void {
    this.#at.clear();
  }
}
