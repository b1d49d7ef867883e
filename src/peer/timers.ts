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
  // Helpers are `static #`, not private instance methods: those give every instance a brand field (8 B per idle peer; mem22, issue 12).
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

/** Slot of each timer in PeerTimers' deadlines. */
const SLOT: Readonly<Record<PeerTimerName, number>> = {
  retransmitHandshake: 0,
  resendCrossingInit: 1,
  newHandshake: 2,
  declareUnreachable: 3,
  sendAnswer: 4,
  sendKeepalive: 5,
};
const NAMES = Object.keys(SLOT) as PeerTimerName[];
/**
 * A disarmed timer's deadline: null, not −∞ — a field that only ever held numbers keeps each as
 * a boxed double of its own, ~16 B per disarmed timer of every peer (issue 12).
 */
const OFF = null;

export class PeerTimers {
  /**
   * Deadlines by slot (OFF: disarmed): plain fields, not a Map per peer (issue 12: a Map and
   * its table cost ~10 times as much for an idle peer's one or two armed timers).
   */
  #t0: number | null = OFF;
  #t1: number | null = OFF;
  #t2: number | null = OFF;
  #t3: number | null = OFF;
  #t4: number | null = OFF;
  #t5: number | null = OFF;
  /** When the oldest packet still expecting an answer was sent (null: none is unanswered). */
  #unansweredSinceMs: number | null = null;
  #version = 0;

  /** Changes with every hook that set or cleared a deadline (the link's quiet tick checks it). */
  get version(): number {
    return this.#version;
  }

  static #get(self: PeerTimers, name: PeerTimerName): number | null {
    switch (SLOT[name]) {
      case 0: return self.#t0;
      case 1: return self.#t1;
      case 2: return self.#t2;
      case 3: return self.#t3;
      case 4: return self.#t4;
      default: return self.#t5;
    }
  }

  /**
   * Deadlines are whole milliseconds, rounded up (never early): a whole number below 2^30 is a
   * small integer in its field, a fractional `performance.now()` sum a boxed double of its own
   * (issue 12: ~16 B per armed timer of every idle peer).
   */
  static #set(self: PeerTimers, name: PeerTimerName, whenMs: number | null): void {
    self.#version++;
    const at = whenMs === null ? null : Math.ceil(whenMs);
    switch (SLOT[name]) {
      case 0: self.#t0 = at; break;
      case 1: self.#t1 = at; break;
      case 2: self.#t2 = at; break;
      case 3: self.#t3 = at; break;
      case 4: self.#t4 = at; break;
      default: self.#t5 = at;
    }
  }

  static #off(self: PeerTimers, name: PeerTimerName): void {
    PeerTimers.#set(self, name, OFF);
  }

  /** We sent an init: retransmit after the (jittered, backed-off) retry delay; a crossing resend is moot. */
  handshakeInitiated(nowMs: number, retryInMs: number): void {
    PeerTimers.#set(this, 'retransmitHandshake', nowMs + retryInMs);
    PeerTimers.#off(this, 'resendCrossingInit');
  }

  /** We ignored the peer's crossing init (ours wins): repeat ours if unanswered after `waitMs`. */
  crossingInitIgnored(nowMs: number, waitMs: number): void {
    PeerTimers.#set(this, 'resendCrossingInit', nowMs + waitMs);
  }

  /**
   * A handshake completed (ours answered, or the peer's won) or the crossing resend ran. The
   * retransmit deadline stays as "no new attempt before" for the no-session case.
   */
  handshakeComplete(): void {
    PeerTimers.#off(this, 'resendCrossingInit');
  }

  /**
   * We sent an authenticated data datagram; `elicits`: it expects an answer (payload or a
   * keepalive probe). Any packet answers the peer (sendAnswer off) and restarts the keepalive
   * interval; an eliciting one starts the liveness clock unless it already runs.
   */
  packetSent(nowMs: number, elicits: boolean, s: LivenessSettings): void {
    PeerTimers.#off(this, 'sendAnswer');
    PeerTimers.#set(this, 'sendKeepalive', nowMs + s.keepaliveMs);
    if (elicits && this.#unansweredSinceMs === null) {
      this.#unansweredSinceMs = nowMs;
      PeerTimers.#set(this, 'newHandshake', nowMs + s.livenessTimeoutMs);
    }
  }

  /**
   * An authenticated packet arrived from the peer (data on any session, a handshake message
   * that verified): it is alive, nothing is unanswered. `elicits`: it expects an answer.
   */
  packetReceived(nowMs: number, elicits: boolean, s: LivenessSettings): void {
    this.#unansweredSinceMs = null;
    PeerTimers.#off(this, 'newHandshake');
    PeerTimers.#off(this, 'declareUnreachable');
    if (elicits && !this.isArmed('sendAnswer')) {
      PeerTimers.#set(this, 'sendAnswer', nowMs + Math.min(ANSWER_DELAY_MS, Math.floor(s.livenessTimeoutMs / 4)));
    }
  }

  /** newHandshake fired and a handshake went out: the peer has unreachableAfterMs to answer. */
  livenessHandshakeStarted(nowMs: number, s: LivenessSettings): void {
    PeerTimers.#off(this, 'newHandshake');
    PeerTimers.#set(this, 'declareUnreachable', nowMs + s.unreachableAfterMs);
  }

  /** The peer was reported unreachable: nothing more to report until it answers again. */
  unreachableDeclared(): void {
    PeerTimers.#off(this, 'declareUnreachable');
  }

  /** The answer went out (or is moot). */
  answerSent(): void {
    PeerTimers.#off(this, 'sendAnswer');
  }

  /** The link closed: nothing fires any more. */
  stopped(): void {
    for (const name of NAMES) PeerTimers.#off(this, name);
    this.#unansweredSinceMs = null;
  }

  /** When the oldest unanswered eliciting packet was sent, or null. */
  get unansweredSinceMs(): number | null {
    return this.#unansweredSinceMs;
  }

  isArmed(name: PeerTimerName): boolean {
    return PeerTimers.#get(this, name) !== OFF;
  }

  /** Armed and due at `nowMs`. */
  isDue(name: PeerTimerName, nowMs: number): boolean {
    const at = PeerTimers.#get(this, name);
    return at !== OFF && nowMs >= at;
  }

  /** The deadline of one timer, or null when disarmed. */
  deadline(name: PeerTimerName): number | null {
    return PeerTimers.#get(this, name);
  }

  /** The earliest armed deadline, or null. */
  nextDeadline(): number | null {
    let min: number | null = null;
    for (const name of NAMES) {
      const at = PeerTimers.#get(this, name);
      if (at !== OFF && (min === null || at < min)) min = at;
    }
    return min;
  }
}
