/**
 * CUBIC congestion control (RFC 9438), the default controller (docs/CONGESTION.md §2 says why):
 * slow start as NewReno's (+acked bytes, HyStart++ exit), then the window follows
 *   W_cubic(t) = C·(t − K)³ + W_max   (segments, t in seconds since the congestion epoch began)
 * towards W_cubic(t + RTT), at most +50% per window, and never below the Reno-friendly estimate
 * W_est (which grows by α = 3(1 − β)/(1 + β) segments per window). A congestion event, at most
 * once per recovery period as RFC 9002, multiplies the window by β = 0.7 and remembers the window
 * it happened at (W_max; lower with fast convergence when the window had shrunk since the last
 * event; a loss of a packet sent within one smoothed RTT after a reduction belongs to the same
 * event: RECOVERY_EXTENSION_RTTS). Persistent congestion collapses the window to 2 datagrams.
 * The window grows only while it limited the sender; an application-limited spell restarts the
 * epoch (as quic-go), so an idle sender's window does not jump when it resumes.
 *
 * Window in bytes of whole datagrams, kept fractional inside and reported floored.
 */
import type { RttStats } from '../reliable/rtt';
import type { CongestionController, ControllerResume, PacketInfo } from './controller';
import { HyStart } from './hystart';
import { restartAfterIdle } from './idle-restart';
import { QUEUE_BETA, QUEUE_SIGNAL_MAX_DATAGRAMS, QueueDelaySignal } from './queue-delay';
import { DEFAULT_MAX_DATAGRAM_BYTES, PACING_GAIN, initialWindowBytes } from './newreno';

/** RFC 9438 §4.2 C (segments per second³) and §4.6 β_cubic. */
export const CUBIC_C = 0.4;
export const CUBIC_BETA = 0.7;
/** RFC 9438 §4.3: the Reno-friendly additive increase per window that matches Reno with β = 0.7. */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);
/**
 * Pacing gain in congestion avoidance (1.25, RFC 9002's N, in slow start). Next to a TCP flow on
 * the 10 Mbit/s bed, 1.0 lost 2.7–2.9% of udpvault's datagrams against 3.6–5.2% with 1.25
 * (wire ÷ payload 1.13–1.14× against 1.14–1.16×); docs/CONGESTION.md §9.
 */
export const PACING_GAIN_AVOIDANCE = 1.0;
/**
 * A loss starts a new congestion event only if the lost packet was sent more than this many
 * smoothed RTTs after the last reduction (RFC 9002 B.6 has 0: any packet sent after it). The
 * packets sent in the round trip after a reduction still meet the queue overflow that reduction
 * answers — the smaller window reaches the bottleneck only a round trip later — so their loss
 * is the same episode. With 0, next to a TCP BBR flow at 2 Mbit/s, half of udpvault's losses
 * came as a second reduction within a round trip of the first (75 reductions for 151 losses;
 * TCP's drops come 3.5 to an episode, its GSO pairs dropped whole), and its share was 24–27%
 * against 29–32% with 1 (3 interleaved runs each; loss per datagram unchanged, 11–13% against
 * 10–13%). Next to TCP CUBIC, and at 10 Mbit/s, no change beyond the spread (docs/CONGESTION.md
 * §9.1).
 */
export const RECOVERY_EXTENSION_RTTS = 1;
/** The window may exceed what is in flight by this many datagrams and still count as the limit. */
const MAX_BURST_DATAGRAMS = 3;

export interface CubicOptions {
  rtt: RttStats;
  maxDatagramBytes?: number;
  /** Upper bound for the window, in datagrams (default 10 000, as quic-go). */
  maxWindowDatagrams?: number;
  /** State kept over an idle period (PacketSpace's idle form); its datagram size wins over maxDatagramBytes. */
  resume?: ControllerResume;
}

export class Cubic implements CongestionController {
  readonly #rtt: RttStats;
  readonly #maxWindowDatagrams: number;
  readonly #hystart: HyStart;
  readonly #queue: QueueDelaySignal;
  #queueReductions = 0;
  /** When the last packet counted in flight was sent (restart after idle). */
  #lastSentMs = -Infinity;
  #idleRestarts = 0;
  #mss: number;
  #cwnd: number;
  #ssthresh = Infinity;
  #recoveryStartMs = -Infinity;
  #inRecovery = false;
  /** Window at the last congestion event, in bytes (0: none yet). */
  #wMax = 0;
  /** Start of the current congestion-avoidance epoch (null: starts at the next growing ack). */
  #epochStartMs: number | null = null;
  /** K of the epoch, seconds. */
  #k = 0;
  /** Reno-friendly window estimate, bytes. */
  #wEst = 0;

  constructor(opts: CubicOptions) {
    this.#rtt = opts.rtt;
    this.#mss = opts.resume?.maxDatagramBytes ?? opts.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    this.#maxWindowDatagrams = opts.maxWindowDatagrams ?? 10_000;
    if (!(this.#mss >= 1)) throw new RangeError('maxDatagramBytes must be >= 1');
    this.#cwnd = opts.resume?.windowBytes ?? initialWindowBytes(this.#mss);
    if (opts.resume) {
      this.#ssthresh = opts.resume.ssthreshBytes;
      this.#wMax = opts.resume.lastMaxWindowBytes;
      this.#recoveryStartMs = opts.resume.recoveryStartMs ?? -Infinity;
      this.#inRecovery = opts.resume.inRecovery ?? false;
    }
    this.#hystart = new HyStart(opts.rtt);
    this.#queue = new QueueDelaySignal(opts.rtt);
  }

  get windowBytes(): number { return Math.floor(this.#cwnd); }
  get ssthreshBytes(): number { return this.#ssthresh; }
  get inSlowStart(): boolean { return this.#cwnd < this.#ssthresh; }
  get inRecovery(): boolean { return this.#inRecovery; }
  get recoveryStartMs(): number { return this.#recoveryStartMs; }
  get maxDatagramBytes(): number { return this.#mss; }
  get minWindowBytes(): number { return 2 * this.#mss; }
  /** W_max in bytes (0 before the first congestion event). */
  get lastMaxWindowBytes(): number { return this.#wMax; }
  /** Times slow start ended on rising delay (HyStart++) rather than on a loss. */
  get hystartExits(): number { return this.#hystart.exits; }
  /** Times such an exit proved spurious and slow start resumed. */
  get hystartResumes(): number { return this.#hystart.resumes; }
  /** Times the window restarted after an idle spell (idle-restart.ts). */
  get idleRestarts(): number { return this.#idleRestarts; }
  /** Window reductions on a nearly full queue (queue-delay.ts) rather than a loss. */
  get queueReductions(): number { return this.#queueReductions; }
  /** True while the queue-delay signal is silent next to a competitor that keeps the queue full (queue-delay.ts). */
  get queueCompeting(): boolean { return this.#queue.competing; }

  canSend(bytesInFlight: number): boolean {
    return bytesInFlight < this.windowBytes;
  }
  availableBytes(bytesInFlight: number): number {
    return Math.max(0, this.windowBytes - bytesInFlight);
  }

  onPacketSent(sentAtMs?: number, bytesInFlight?: number, packet?: PacketInfo): void {
    if (!packet || sentAtMs === undefined) return;
    this.#hystart.onPacketSent(packet.pn);
    this.#queue.onPacketSent(packet.pn);
    if (bytesInFlight !== undefined && bytesInFlight <= packet.bytes) {
      const r = restartAfterIdle(this.windowBytes, this.#ssthresh, sentAtMs - this.#lastSentMs, this.#rtt.ptoMs(), initialWindowBytes(this.#mss));
      if (r) {
        this.#cwnd = r.windowBytes;
        this.#ssthresh = r.ssthreshBytes;
        this.#epochStartMs = null;
        this.#hystart.reset();
        this.#idleRestarts++;
      }
    }
    this.#lastSentMs = sentAtMs;
  }

  onPacketsAcked(packets: readonly PacketInfo[], priorInFlight: number, nowMs: number): void {
    const limited = this.#cwndLimited(priorInFlight);
    if (packets.length > 0) {
      const pn = packets[packets.length - 1]!.pn;
      if (this.inSlowStart) {
        if (this.#hystart.onAck(pn, this.#cwnd / this.#mss)) this.#ssthresh = this.windowBytes;
      } else if (this.#hystart.onAckAfterExit(pn)) {
        this.#ssthresh = Infinity; // the delay exit was spurious (hystart.ts HYSTART_CSS_ROUNDS)
        this.#epochStartMs = null;
      }
    }
    if (!limited) this.#epochStartMs = null; // application-limited: the epoch restarts when the window limits again
    const fullQueue = packets.length > 0 && this.#queue.onAck(packets[packets.length - 1]!.pn);
    if (fullQueue && !this.inSlowStart && !this.#inRecovery && this.#cwnd < QUEUE_SIGNAL_MAX_DATAGRAMS * this.#mss) {
      this.#queueReductions++;
      this.#queue.onCut();
      this.#reduce(nowMs, QUEUE_BETA);
    }
    // Per packet, as before (one #avoid per ack for the ack's bytes was tried, ack16: the two-flow sim's share
    // moved from < 1.5 to 1.6; the sum is not the same arithmetic). No closure per call now.
    const recoveryStart = this.#recoveryStartMs;
    for (let k = 0; k < packets.length; k++) {
      const p = packets[k]!;
      if (p.sentAtMs <= recoveryStart) continue; // RFC 9002 B.5: no growth during recovery
      this.#inRecovery = false;
      if (!limited) continue;
      if (this.#cwnd < this.#ssthresh) this.#cwnd += p.bytes;
      else this.#avoid(p.bytes, nowMs);
    }
    this.#cwnd = Math.min(this.#cwnd, this.#maxWindowDatagrams * this.#mss);
  }

  onPacketsLost(packets: readonly PacketInfo[], nowMs: number): void {
    let latest = -Infinity;
    for (const p of packets) if (p.sentAtMs > latest) latest = p.sentAtMs;
    if (latest === -Infinity || latest <= this.#recoveryStartMs + RECOVERY_EXTENSION_RTTS * this.#rtt.smoothedMs) return;
    this.#reduce(nowMs, CUBIC_BETA);
  }

  /** A congestion event: the window × `beta`, a recovery period from `nowMs`. */
  #reduce(nowMs: number, beta: number): void {
    this.#hystart.endWatch();
    this.#recoveryStartMs = nowMs;
    this.#inRecovery = true;
    // Fast convergence (RFC 9438 §4.7): a window below the last maximum gives way further.
    this.#wMax = this.#cwnd < this.#wMax ? (this.#cwnd * (1 + beta)) / 2 : this.#cwnd;
    this.#cwnd = Math.max(this.#cwnd * beta, this.minWindowBytes);
    this.#ssthresh = Math.floor(this.#cwnd);
    this.#epochStartMs = null;
  }

  onPersistentCongestion(): void {
    this.#cwnd = this.minWindowBytes;
    this.#recoveryStartMs = -Infinity;
    this.#inRecovery = false;
    this.#epochStartMs = null;
    this.#hystart.reset();
  }

  pacingRateBytesPerMs(): number {
    return ((this.inSlowStart ? PACING_GAIN : PACING_GAIN_AVOIDANCE) * this.windowBytes) / Math.max(this.#rtt.smoothedMs, 1);
  }

  setMaxDatagramBytes(bytes: number): void {
    if (!(bytes >= 1)) throw new RangeError('maxDatagramBytes must be >= 1');
    const grewFromInitial = this.#cwnd === initialWindowBytes(this.#mss);
    this.#mss = bytes;
    if (grewFromInitial) this.#cwnd = initialWindowBytes(bytes);
    this.#cwnd = Math.max(this.#cwnd, this.minWindowBytes);
    this.#epochStartMs = null;
  }

  reset(): void {
    this.#hystart.reset();
    this.#queue.reset();
    this.#cwnd = initialWindowBytes(this.#mss);
    this.#ssthresh = Infinity;
    this.#recoveryStartMs = -Infinity;
    this.#inRecovery = false;
    this.#wMax = 0;
    this.#epochStartMs = null;
  }

  /** Congestion avoidance for `acked` bytes (RFC 9438 §4.2–4.4). */
  #avoid(acked: number, nowMs: number): void {
    const mss = this.#mss;
    if (this.#epochStartMs === null) {
      this.#epochStartMs = nowMs;
      if (this.#wMax < this.#cwnd) this.#wMax = this.#cwnd; // no event yet, or the window already passed it: K = 0
      this.#k = Math.cbrt((this.#wMax - this.#cwnd) / mss / CUBIC_C);
      this.#wEst = this.#cwnd;
    }
    const rttS = Math.max(this.#rtt.smoothedMs, 1) / 1000;
    const t = (nowMs - this.#epochStartMs) / 1000;
    const k = this.#k;
    const wMax = this.#wMax;
    const alpha = this.#wEst >= wMax ? 1 : CUBIC_ALPHA;
    this.#wEst += (alpha * mss * acked) / this.#cwnd;
    if (CUBIC_C * (t - k) ** 3 * mss + wMax < this.#wEst) {
      this.#cwnd = Math.max(this.#cwnd, this.#wEst); // Reno-friendly region
      return;
    }
    const target = Math.min(Math.max(CUBIC_C * (t + rttS - k) ** 3 * mss + wMax, this.#cwnd), 1.5 * this.#cwnd);
    this.#cwnd += ((target - this.#cwnd) * acked) / this.#cwnd;
  }

  #cwndLimited(bytesInFlight: number): boolean {
    const cwnd = this.windowBytes;
    if (bytesInFlight >= cwnd) return true;
    const available = cwnd - bytesInFlight;
    return (this.inSlowStart && bytesInFlight > cwnd / 2) || available <= MAX_BURST_DATAGRAMS * this.#mss;
  }
}
