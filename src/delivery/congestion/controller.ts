/**
 * The congestion controller seam (quic-go internal/congestion SendAlgorithm is the model). One
 * instance per peer path; driven by the LossDetector (acks, losses, persistent congestion) and
 * by the sender (packets sent). Times are monotonic milliseconds; bytes are whole datagrams.
 */

/** What a controller needs to know about a packet (SentPacket satisfies it). */
export interface PacketInfo {
  readonly pn: number;
  readonly sentAtMs: number;
  readonly bytes: number;
}

/**
 * What a controller carries over an idle period when PacketSpace drops it (its idle form, issue
 * 12) and makes it again at the next send: the datagram size, the window (at most the initial
 * window: a larger one would have restarted after the idle period, idle-restart.ts), the
 * slow-start threshold and CUBIC's W_max. Rounds (HyStart++, the queue signal) start afresh, as
 * after a restart.
 */
export interface ControllerResume {
  readonly maxDatagramBytes: number;
  readonly windowBytes: number;
  readonly ssthreshBytes: number;
  /** CUBIC's W_max in bytes (0: none; NewReno ignores it). */
  readonly lastMaxWindowBytes: number;
  /** NewReno's bytes acknowledged towards the next congestion-avoidance increase (CUBIC ignores it). */
  readonly avoidanceAckedBytes: number;
  /**
   * The recovery period's start (−Infinity: none) and whether it is still on (memheap17: a space
   * rests in recovery once nothing is in flight, with both kept; absent: none).
   */
  readonly recoveryStartMs?: number;
  readonly inRecovery?: boolean;
}

export interface CongestionController {
  /** Congestion window in bytes. */
  readonly windowBytes: number;
  /** Slow-start threshold in bytes (Infinity before the first congestion event). */
  readonly ssthreshBytes: number;
  readonly inSlowStart: boolean;
  /** Inside a recovery period (a loss happened; acks of older packets do not grow the window). */
  readonly inRecovery: boolean;
  /** When the last recovery period started (−Infinity: none); a controller without it does not rest in recovery. */
  readonly recoveryStartMs?: number;
  /** The datagram size the window is counted in (minimum window = 2 of these). */
  readonly maxDatagramBytes: number;

  /** Whether a new ack-eliciting packet may be sent now with `bytesInFlight` outstanding. */
  canSend(bytesInFlight: number): boolean;
  /** Window room left, in bytes (0 when full). */
  availableBytes(bytesInFlight: number): number;
  /** A packet that counts toward bytes in flight was sent. `bytesInFlight` includes it. */
  onPacketSent(sentAtMs: number, bytesInFlight: number, packet: PacketInfo): void;
  /**
   * Packets newly acknowledged by one ack (in number order). `priorInFlight` is bytes in flight
   * before the ack removed them (growth only when the window was the limit, RFC 9002 §7.8).
   */
  onPacketsAcked(packets: readonly PacketInfo[], priorInFlight: number, nowMs: number): void;
  /** Packets declared lost by one detection pass: at most one congestion event per recovery period. */
  onPacketsLost(packets: readonly PacketInfo[], nowMs: number): void;
  /** RFC 9002 §7.6: the window collapses to the minimum. Called after onPacketsLost. */
  onPersistentCongestion(nowMs: number): void;
  /**
   * Pacing rate in bytes per millisecond (RFC 9002 §7.7: 1.25 × window / smoothed RTT; CUBIC
   * uses 1.0 × in congestion avoidance).
   */
  pacingRateBytesPerMs(): number;
  /** The path MTU changed (DPLPMTUD): window limits are counted in the new size. */
  setMaxDatagramBytes(bytes: number): void;
  /** Back to the initial state (a new path). */
  reset(): void;
}
