/**
 * One peer's timers in the manner of wireguard-go's device/timers.go: each timer is named for
 * what it triggers and armed or disarmed only by hooks named for the event that happened
 * (handshakeInitiated, crossingInitIgnored, handshakeComplete, packetSent, packetReceived,
 * livenessHandshakeStarted, stopped). The link's tick asks which are due. Deadlines are
 * monotonic milliseconds.
 *
 * Liveness (what wireguard-go calls timerNewHandshake, timerSendKeepalive and the persistent
 * keepalive, plus the unreachable report it does not have):
 *
 *   we send a packet that expects an answer (data, keepalive probe)  → newHandshake armed
 *                                                                      (if not armed already)
 *   livenessTimeoutMs later, still no authenticated packet from the peer → a new handshake,
 *                                                                      declareUnreachable armed
 *   unreachableAfterMs later, still nothing                          → state 'unreachable'
 *   any authenticated packet from the peer (data, handshake)          → both disarmed
 *
 *   the peer sent us a packet that expects an answer                  → sendAnswer armed
 *   we send any authenticated packet before it is due                 → sendAnswer disarmed
 *   nothing sent to the peer for keepaliveMs                          → sendKeepalive due (a probe)
 *
 * In wireguard-go's terms: newHandshake is timerNewHandshake (KeepaliveTimeout + RekeyTimeout
 * there, livenessTimeoutMs here), sendAnswer is its timerSendKeepalive (the passive keepalive,
 * here an empty frame that asks for nothing), sendKeepalive is its persistent keepalive (here a
 * keepalive control that asks for an answer, so an idle peer is probed), declareUnreachable has
 * no counterpart (wireguard-go stays silent; we report).
 */
export type PeerTimerName =
  /** Retry our handshake (with backoff) if it is still unanswered. */
  | 'retransmitHandshake'
  /** Repeat our init once if the peer's crossing init was ignored and ours is still unanswered. */
  | 'resendCrossingInit'
  /** A packet that expects an answer went unanswered for livenessTimeoutMs: handshake again. */
  | 'newHandshake'
  /** The liveness handshake went unanswered for unreachableAfterMs more: report the peer unreachable. */
  | 'declareUnreachable'
  /** The peer expects an answer and we sent nothing since: send an (empty) answer. */
  | 'sendAnswer'
  /** Nothing sent to the peer for keepaliveMs: probe (NAT keepalive and liveness). */
  | 'sendKeepalive';

/** What the liveness hooks need from the settings (read at each hook: a reload applies live). */
export interface LivenessSettings {
  livenessTimeoutMs: number;
  unreachableAfterMs: number;
  keepaliveMs: number;
}

/** The longest an eliciting packet waits for an answer (bounded by livenessTimeoutMs / 4). */
export const ANSWER_DELAY_MS = 1_000;

export class PeerTimers {
  #at = new Map<PeerTimerName, number>();
  /** When the oldest packet still expecting an answer was sent (null: none is unanswered). */
  #unansweredSinceMs: number | null = null;

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

  /**
   * We sent an authenticated data datagram; `elicits`: it expects an answer (payload or a
   * keepalive probe). Any packet answers the peer (sendAnswer off) and restarts the keepalive
   * interval; an eliciting one starts the liveness clock unless it already runs.
   */
  packetSent(nowMs: number, elicits: boolean, s: LivenessSettings): void {
    this.#at.delete('sendAnswer');
    this.#at.set('sendKeepalive', nowMs + s.keepaliveMs);
    if (elicits && this.#unansweredSinceMs === null) {
      this.#unansweredSinceMs = nowMs;
      this.#at.set('newHandshake', nowMs + s.livenessTimeoutMs);
    }
  }

  /**
   * An authenticated packet arrived from the peer (data on any session, a handshake message
   * that verified): it is alive, nothing is unanswered. `elicits`: it expects an answer.
   */
  packetReceived(nowMs: number, elicits: boolean, s: LivenessSettings): void {
    this.#unansweredSinceMs = null;
    this.#at.delete('newHandshake');
    this.#at.delete('declareUnreachable');
    if (elicits && !this.#at.has('sendAnswer')) {
      this.#at.set('sendAnswer', nowMs + Math.min(ANSWER_DELAY_MS, Math.floor(s.livenessTimeoutMs / 4)));
    }
  }

  /** newHandshake fired and a handshake went out: the peer has unreachableAfterMs to answer. */
  livenessHandshakeStarted(nowMs: number, s: LivenessSettings): void {
    this.#at.delete('newHandshake');
    this.#at.set('declareUnreachable', nowMs + s.unreachableAfterMs);
  }

  /** The peer was reported unreachable: nothing more to report until it answers again. */
  unreachableDeclared(): void {
    this.#at.delete('declareUnreachable');
  }

  /** The answer went out (or is moot). */
  answerSent(): void {
    this.#at.delete('sendAnswer');
  }

  /** The link closed: nothing fires any more. */
  stopped(): void {
    this.#at.clear();
    this.#unansweredSinceMs = null;
  }

  /** When the oldest unanswered eliciting packet was sent, or null. */
  get unansweredSinceMs(): number | null {
    return this.#unansweredSinceMs;
  }

  isArmed(name: PeerTimerName): boolean {
    return this.#at.has(name);
  }

  /** Armed and due at `nowMs`. */
  isDue(name: PeerTimerName, nowMs: number): boolean {
    const at = this.#at.get(name);
    return at !== undefined && nowMs >= at;
  }

  /** The deadline of one timer, or null when disarmed. */
  deadline(name: PeerTimerName): number | null {
    return this.#at.get(name) ?? null;
  }

  /** The earliest armed deadline, or null. */
  nextDeadline(): number | null {
    let min: number | null = null;
    for (const at of this.#at.values()) if (min === null || at < min) min = at;
    return min;
  }
}
