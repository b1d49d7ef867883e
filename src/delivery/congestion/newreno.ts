/**
 * NewReno congestion control exactly as RFC 9002 §7 and Appendix B specify it; selectable with
 * `congestionControl: 'newreno'` (CUBIC is the default: docs/CONGESTION.md §2 gives the
 * measurements). Halving on loss (β = 0.5) is the most TCP-friendly window-based choice; on the
 * 2 Mbit/s test bed it puts slightly less on the wire than CUBIC (its halving drains the tbf
 * queue), but next to a Linux CUBIC TCP flow it keeps a little less of the link.
 *
 * Window in bytes of whole datagrams. Initial window min(10 × mss, max(14720, 2 × mss)),
 * minimum 2 × mss, slow start (+acked bytes), congestion avoidance (+1 mss per window acked,
 * counted in bytes), one halving per recovery period (packets sent before it started neither
 * trigger a new reduction nor grow the window), collapse to the minimum on persistent
 * congestion. The window grows only while it limited the sender (quic-go isCwndLimited), so an
 * application-limited or flow-control-paused sender does not inflate it.
 */
import type { RttStats } from '../reliable/rtt';
import type { CongestionController, ControllerResume, PacketInfo } from './controller';
import { HyStart } from './hystart';
import { restartAfterIdle } from './idle-restart';

export const DEFAULT_MAX_DATAGRAM_BYTES = 1200;
/** RFC 9002 kLossReductionFactor. */
export const LOSS_REDUCTION_FACTOR = 0.5;
/** RFC 9002 §7.7 pacing gain N. */
export const PACING_GAIN = 1.25;
/** The window may exceed what is in flight by this many datagrams and still count as the limit. */
const MAX_BURST_DATAGRAMS = 3;

export interface NewRenoOptions {
  rtt: RttStats;
  maxDatagramBytes?: number;
  /** Upper bound for the window, in datagrams (default 10 000, as quic-go). */
  maxWindowDatagrams?: number;
  /** State kept over an idle period (PacketSpace's idle form); its datagram size wins over maxDatagramBytes. */
  resume?: ControllerResume;
}

export { HYSTART_MIN_SAMPLES, HYSTART_MIN_RTT_THRESH_MS, HYSTART_MAX_RTT_THRESH_MS } from './hystart';

export function initialWindowBytes(mss: number): number {
  return Math.min(10 * mss, Math.max(14720, 2 * mss));
}

export class NewReno implements CongestionController {
  readonly #rtt: RttStats;
  readonly #maxWindowDatagrams: number;
  #mss: number;
  #cwnd: number;
  #ssthresh = Infinity;
  /** Packets sent at or before this time belong to the current recovery period. */
  #recoveryStartMs = -Infinity;
  #inRecovery = false;
  #ackedInCa = 0;
  readonly #hystart: HyStart;
  /** When the last packet counted in flight was sent (restart after idle). */
  #lastSentMs = -Infinity;
  #idleRestarts = 0;

  constructor(opts: NewRenoOptions) {
    this.#rtt = opts.rtt;
    this.#mss = opts.resume?.maxDatagramBytes ?? opts.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    this.#maxWindowDatagrams = opts.maxWindowDatagrams ?? 10_000;
    if (!(this.#mss >= 1)) throw new RangeError('maxDatagramBytes must be >= 1');
    this.#cwnd = opts.resume?.windowBytes ?? initialWindowBytes(this.#mss);
    if (opts.resume) {
      this.#ssthresh = opts.resume.ssthreshBytes;
      this.#ackedInCa = opts.resume.avoidanceAckedBytes;
      this.#recoveryStartMs = opts.resume.recoveryStartMs ?? -Infinity;
      this.#inRecovery = opts.resume.inRecovery ?? false;
    }
    this.#hystart = new HyStart(opts.rtt);
  }

  get windowBytes(): number { return this.#cwnd; }
  get ssthreshBytes(): number { return this.#ssthresh; }
  get inSlowStart(): boolean { return this.#cwnd < this.#ssthresh; }
  get inRecovery(): boolean { return this.#inRecovery; }
  get recoveryStartMs(): number { return this.#recoveryStartMs; }
  get maxDatagramBytes(): number { return this.#mss; }
  get minWindowBytes(): number { return 2 * this.#mss; }
  /** Times slow start ended on rising delay (HyStart++) rather than on a loss. */
  get hystartExits(): number { return this.#hystart.exits; }
  /** Times such an exit proved spurious and slow start resumed. */
  get hystartResumes(): number { return this.#hystart.resumes; }
  /** Times the window restarted after an idle spell (idle-restart.ts). */
  get idleRestarts(): number { return this.#idleRestarts; }
  /** Bytes acknowledged towards the next congestion-avoidance increase (kept over an idle form: ControllerResume). */
  get avoidanceAckedBytes(): number { return this.#ackedInCa; }

  canSend(bytesInFlight: number): boolean {
    return bytesInFlight < this.#cwnd;
  }
  availableBytes(bytesInFlight: number): number {
    return Math.max(0, this.#cwnd - bytesInFlight);
  }

  onPacketSent(sentAtMs?: number, bytesInFlight?: number, packet?: PacketInfo): void {
    // NewReno keeps no per-packet state (the LossDetector counts bytes in flight); HyStart++ needs the numbers.
    if (!packet || sentAtMs === undefined) return;
    this.#hystart.onPacketSent(packet.pn);
    if (bytesInFlight !== undefined && bytesInFlight <= packet.bytes) {
      const r = restartAfterIdle(this.#cwnd, this.#ssthresh, sentAtMs - this.#lastSentMs, this.#rtt.ptoMs(), initialWindowBytes(this.#mss));
      if (r) {
        this.#cwnd = r.windowBytes;
        this.#ssthresh = r.ssthreshBytes;
        this.#ackedInCa = 0;
        this.#hystart.reset();
        this.#idleRestarts++;
      }
    }
    this.#lastSentMs = sentAtMs;
  }

  onPacketsAcked(packets: readonly PacketInfo[], priorInFlight: number, _nowMs?: number): void {
    const limited = this.#cwndLimited(priorInFlight);
    if (packets.length > 0) {
      const pn = packets[packets.length - 1]!.pn;
      if (this.inSlowStart) {
        if (this.#hystart.onAck(pn, this.#cwnd / this.#mss)) this.#ssthresh = this.#cwnd;
      } else if (this.#hystart.onAckAfterExit(pn)) {
        this.#ssthresh = Infinity; // the delay exit was spurious (hystart.ts HYSTART_CSS_ROUNDS)
      }
    }
    for (const p of packets) {
      if (p.sentAtMs <= this.#recoveryStartMs) continue; // RFC 9002 B.5: no growth during recovery
      this.#inRecovery = false;
      if (!limited) continue;
      if (this.#cwnd < this.#ssthresh) {
        this.#cwnd += p.bytes;
      } else {
        this.#ackedInCa += p.bytes;
        if (this.#ackedInCa >= this.#cwnd) {
          this.#ackedInCa -= this.#cwnd;
          this.#cwnd += this.#mss;
        }
      }
    }
    this.#cwnd = Math.min(this.#cwnd, this.#maxWindowDatagrams * this.#mss);
  }

  onPacketsLost(packets: readonly PacketInfo[], nowMs: number): void {
    let latest = -Infinity;
    for (const p of packets) if (p.sentAtMs > latest) latest = p.sentAtMs;
    if (latest === -Infinity || latest <= this.#recoveryStartMs) return;
    this.#hystart.endWatch();
    this.#recoveryStartMs = nowMs;
    this.#inRecovery = true;
    this.#ssthresh = Math.max(Math.floor(this.#cwnd * LOSS_REDUCTION_FACTOR), this.minWindowBytes);
    this.#cwnd = this.#ssthresh;
    this.#ackedInCa = 0;
  }

  onPersistentCongestion(): void {
    this.#hystart.endWatch();
    this.#cwnd = this.minWindowBytes;
    this.#recoveryStartMs = -Infinity;
    this.#inRecovery = false;
    this.#ackedInCa = 0;
  }

  pacingRateBytesPerMs(): number {
    return (PACING_GAIN * this.#cwnd) / Math.max(this.#rtt.smoothedMs, 1);
  }

  setMaxDatagramBytes(bytes: number): void {
    if (!(bytes >= 1)) throw new RangeError('maxDatagramBytes must be >= 1');
    const grewFromInitial = this.#cwnd === initialWindowBytes(this.#mss);
    this.#mss = bytes;
    if (grewFromInitial) this.#cwnd = initialWindowBytes(bytes);
    this.#cwnd = Math.max(this.#cwnd, this.minWindowBytes);
  }

  reset(): void {
    this.#hystart.reset();
    this.#cwnd = initialWindowBytes(this.#mss);
    this.#ssthresh = Infinity;
    this.#recoveryStartMs = -Infinity;
    this.#inRecovery = false;
    this.#ackedInCa = 0;
  }

  #cwndLimited(bytesInFlight: number): boolean {
    if (bytesInFlight >= this.#cwnd) return true;
    const available = this.#cwnd - bytesInFlight;
    return (this.inSlowStart && bytesInFlight > this.#cwnd / 2) || available <= MAX_BURST_DATAGRAMS * this.#mss;
  }
}
