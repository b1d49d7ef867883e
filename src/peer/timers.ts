/**
 * One peer's timers in the manner of wireguard-go's device/timers.go: each timer is named for
 * what it triggers and armed or disarmed only by hooks named for the event that happened
 * (handshakeInitiated, crossingInitIgnored, handshakeComplete, stopped). The link's tick asks
 * which are due. Deadlines are monotonic milliseconds.
 */
export type PeerTimerName =
  /** Retry our handshake (with backoff) if it is still unanswered. */
  | 'retransmitHandshake'
  /** Repeat our init once if the peer's crossing init was ignored and ours is still unanswered. */
  | 'resendCrossingInit';

export class PeerTimers {
  #at = new Map<PeerTimerName, number>();

  /** We sent an init: retransmit after the (jittered, backed-off) retry delay; a crossing resend is moot. */
  handshakeInitiated(nowMs: number, retryInMs: number): void {
    this.#at.set('retransmitHandshake', nowMs + retryInMs);
    this.#at.delete('resendCrossingInit');
  }

  /** We ignored the peer's crossing init (ours wins): repeat ours if unanswered after `waitMs`. */
  crossingInitIgnored(nowMs: number, waitMs: number): void {
    this.#at.set('resendCrossingInit', nowMs + waitMs);
  }

  /**
   * A handshake completed (ours answered, or the peer's won) or the crossing resend ran. The
   * retransmit deadline stays as "no new attempt before" for the no-session case.
   */
  handshakeComplete(): void {
    this.#at.delete('resendCrossingInit');
  }

  /** The link closed: nothing fires any more. */
  stopped(): void {
    this.#at.clear();
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
}
