/**
 * Everything one peer's packet-number space needs, composed for the node's send/receive path:
 * RTT, loss detection, the congestion controller, pacing, packet acks and flow credit.
 * Pure and clock-free (every call takes `nowMs`, monotonic); the caller owns one timer, armed
 * at deadline(). docs/CONGESTION.md §Integration shows the call sequence.
 *
 * Send side: sendDelay() says when the next datagram may go (0 now, Infinity until an ack or a
 * timer changes things); onDatagramSent() numbers it. Receive side: onPacketReceived() per
 * authenticated datagram; ackToSend() gives the encoded ack (with credit) when one is due.
 */
import { NewReno } from '../congestion/newreno';
import { Pacer } from '../congestion/pacer';
import type { CongestionController, ControllerResume } from '../congestion/controller';
import { ReceiveCredit, SendCredit, type CreditLimits, type WindowSource } from '../flow';
import { decodeAck, encodeAckInto, encodeOneRangeAckInto, MAX_ACK_BYTES, type AckFrame } from '../../wire/ack';
import { DropError } from '../../errors';
import { AckTracker, DEFAULT_ACK_POLICY, adaptiveAckEvery, type AckPolicy } from './ack-tracker';
import { DEFAULT_MAX_PTO_MS, LossDetector, type AckResult, type TimeoutResult } from './loss';
import { MAX_ACK_DELAY_MS, RttStats } from './rtt';
import { RttProbe } from './rtt-probe';
import { IdleSpace, REST_AFTER_MS, restBlocker, restable, smoothedAfterSample } from './packet-space-idle';
import type { SentPacket } from './sent-history';

const NONE: readonly never[] = Object.freeze([]);


/** ackToSend's scratch (copied out at once). */
const ACK_SCRATCH = new Uint8Array(MAX_ACK_BYTES);
/**
 * Acks per round trip the receiver aims at when it thins acks. Eight, not the draft's four: the
 * estimate lags a round and two flows sharing a bottleneck stayed fair with eight (1.04 in
 * test/sim/congestion.test.ts) but not with four (1.54).
 */
export const ACKS_PER_ROUND = 8;
/**
 * Thinning only from this arrival rate on (5,000 ack-eliciting packets/s, ~56 Mbit/s of full
 * datagrams): acks cost CPU per packet only at such rates, while on slower paths the ack clock
 * of every 2nd packet keeps the queue and the sharing of a bottleneck as RFC 9002 expects (with
 * thinning at 10 Mbit/s the sim's bulk overflowed the queue more, 3.4% against < 3%, and two
 * flows split the link 1.74 : 1).
 */
export const THIN_MIN_PACKETS_PER_MS = 5;
/**
 * The sparsest thinning: every 32nd ack-eliciting packet (ack16; 10 before). On loopback ~150
 * datagrams arrive per smoothed RTT, so eight acks per round are every ~18th; the cap of 10
 * made it 15 per round (0.10–0.11 ack datagrams per data datagram, each a sendmsg on the
 * receiver and a receive on the sender). It bounds the damage of a receiver whose smoothed RTT
 * is too high (its rounds count too many packets): at most 32 packets between acks.
 */
export const THIN_MAX_ACK_EVERY = 32;
/** Before the first RTT sample, the arrival rate is judged over rounds of this length (RTT probes, rtt-probe.ts). */
export const RTT_PROBE_ROUND_MS = MAX_ACK_DELAY_MS;

export interface PacketSpaceOptions {
  maxDatagramBytes: number;
  /** What this node can buffer from the peer (inbox + reassembly budget): fixed, or read when an ack is built. */
  receiveWindow: WindowSource;
  /** What the peer may send before our first ack (INITIAL_CREDIT between nodes); default: the window. */
  initialReceiveCredit?: CreditLimits;
  /** The peer's credit before its first ack (its receive window, from the handshake or a default). */
  initialSendCredit: CreditLimits;
  /**
   * A fixed ack policy. Without it the policy adapts (ack thinning for bulk flows): every 2nd
   * ack-eliciting packet (RFC 9000), up to every 32nd once about 256 arrive per round trip.
   */
  ackPolicy?: AckPolicy;
  maxPtoMs?: number;
  /**
   * A different controller (CUBIC, tests); default NewReno. `resume`: the state an idle period
   * kept (PacketSpace.rest); a factory that ignores it must not be used with rest().
   */
  controller?: (rtt: RttStats, resume?: ControllerResume) => CongestionController;
}

type ControllerFactory = (rtt: RttStats, resume?: ControllerResume) => CongestionController;

/** A space's fixed options; one frozen object per distinct set, shared by the spaces of every peer (issue 12: 5 fields per peer → 1). */
interface SpaceConfig {
  readonly controller: ControllerFactory | undefined;
  readonly maxDatagramBytes: number;
  readonly maxPtoMs: number | undefined;
  readonly ackPolicy: AckPolicy;
  /** No fixed policy given: ack thinning adapts it. */
  readonly adaptiveAcks: boolean;
}
const configs: SpaceConfig[] = [];
/** Distinct configurations kept (a node has one or two: per-link factories are shared, congestion/select.ts). */
const CONFIGS = 32;
function spaceConfig(opts: PacketSpaceOptions): SpaceConfig {
  const ackPolicy = opts.ackPolicy ?? DEFAULT_ACK_POLICY;
  const adaptiveAcks = opts.ackPolicy === undefined;
  for (let k = 0; k < configs.length; k++) {
    const c = configs[k]!;
    if (c.controller === opts.controller && c.maxDatagramBytes === opts.maxDatagramBytes && c.maxPtoMs === opts.maxPtoMs && c.ackPolicy === ackPolicy && c.adaptiveAcks === adaptiveAcks) return c;
  }
  const c: SpaceConfig = Object.freeze({ controller: opts.controller, maxDatagramBytes: opts.maxDatagramBytes, maxPtoMs: opts.maxPtoMs, ackPolicy, adaptiveAcks });
  if (configs.length === CONFIGS) configs.shift(); // the oldest goes (tests make many)
  configs.push(c);
  return c;
}

export class PacketSpace<F> {
  readonly rtt = new RttStats();
  readonly sendCredit: SendCredit;
  readonly recvCredit: ReceiveCredit;
  /** The parts an idle peer does without (null in the idle form: rest(), packet-space-idle.ts). */
  #cc: CongestionController | null = null;
  #loss: LossDetector<F> | null = null;
  #pacer: Pacer | null = null;
  #acks: AckTracker | null = null;
  /** The idle form's record (null while the parts exist). */
  #idle: IdleSpace | null = null;
  /** The options that never change (controller factory, datagram size, PTO cap, ack policy): shared (spaceConfig). */
  readonly #config: SpaceConfig;
  /** Losses counted by loss detectors dropped in idle periods (lostPackets adds the current one's). */
  #lostBefore = 0;
  /** When the last ack-eliciting datagram was sent and the last one arrived (the idle form waits for an idle period after both). */
  #lastSentMs = -Infinity;
  #lastReceivedMs = -Infinity;
  #probes = 0;
  /** Ack thinning: start of the current round (one smoothed RTT) and ack-eliciting packets received in it. */
  #roundStartMs = -Infinity;
  #roundPackets = 0;
  /** Whether the current round started with an RTT sample (a round measured without one sets no policy). */
  #roundSampled = false;
  /** Created at the first fast round (idle peers of a crowd never need one). */
  #rttProbe: RttProbe | null = null;
  #lastSampleAtMs = -Infinity;

  constructor(opts: PacketSpaceOptions) {
    this.#config = spaceConfig(opts);
    this.sendCredit = new SendCredit(opts.initialSendCredit);
    this.recvCredit = new ReceiveCredit(opts.receiveWindow, opts.initialReceiveCredit);
    this.#build(undefined);
  }

  /** The congestion controller (made again if the space is in its idle form). */
  get cc(): CongestionController {
    if (this.#idle !== null) this.#wake();
    return this.#cc!;
  }
  get loss(): LossDetector<F> {
    if (this.#idle !== null) this.#wake();
    return this.#loss!;
  }
  get pacer(): Pacer {
    if (this.#idle !== null) this.#wake();
    return this.#pacer!;
  }
  get acks(): AckTracker {
    if (this.#idle !== null) this.#wake();
    return this.#acks!;
  }

  /** In the idle form (rest()): the controller, loss detector, pacer and ack ranges are dropped. */
  get resting(): boolean { return this.#idle !== null; }
  /** The congestion window (without waking an idle space). */
  get windowBytes(): number { return this.#idle?.windowBytes ?? this.#cc!.windowBytes; }
  /** The slow-start threshold (without waking an idle space). */
  get ssthreshBytes(): number { return this.#idle?.ssthreshBytes ?? this.#cc!.ssthreshBytes; }
  get bytesInFlight(): number { return this.#idle !== null ? (this.#idle.flight?.bytes ?? 0) : this.#loss!.bytesInFlight; }
  /** The largest packet number received (AckTracker.largest), without waking an idle space. */
  get largestReceived(): number { return this.#idle !== null ? this.#idle.largest : this.#acks!.largest; }
  /** The peer has our ack of everything below `pn` (AckTracker.pruneBelow), without waking an idle space. */
  pruneAcksBelow(pn: number): void {
    if (this.#idle !== null) this.#idle.pruneBelow(pn);
    else this.#acks!.pruneBelow(pn);
  }
  /** Packets declared lost on this space so far (idle periods included). */
  get lostPackets(): number { return this.#lostBefore + (this.#loss?.lostPackets ?? 0); }
  /** Whether an ack should go now (without waking an idle space: its delayed ack, if it owes one). */
  ackDue(nowMs: number): boolean {
    if (this.#idle === null) return this.#acks!.ackDue(nowMs);
    const d = this.#idle.ackDeadline();
    return d !== null && nowMs >= d;
  }
  /** When the delayed ack falls due (AckTracker.deadline), without waking an idle space. */
  ackDeadline(): number | null {
    return this.#idle !== null ? this.#idle.ackDeadline() : this.#acks!.deadline();
  }
  /** The next packet number to send (without waking an idle space). */
  get nextPacketNumber(): number {
    return this.#idle !== null ? this.#idle.nextPacketNumber : this.#loss!.nextPacketNumber;
  }

  /**
   * The idle form (issue 12: an idle peer's packet space shrinks to a few numbers): when nothing
   * is in flight or owed (no ack, probe, RTT probe), the last ack-eliciting datagram went at
   * least an idle period ago (1 s; nothing arrived meanwhile either), the pacer's bucket has refilled and the window is not above
   * the initial one (a larger one restarts at the next send anyway, idle-restart.ts: the space
   * rests after that send), the controller, loss detector, pacer and ack ranges are dropped;
   * the next use makes them again from what was kept (window, slow-start threshold, W_max,
   * datagram size, next packet number, the pacer's bucket, the one ack range), so what a
   * caller observes is unchanged (test/delivery/reliable/packet-space-idle.test.ts). RTT
   * estimates, credit and thinning rounds stay. Returns whether the space is resting.
   */
  rest(nowMs: number): boolean {
    if (this.#idle !== null) return true;
    if (this.#probes > 0 || (this.#rttProbe !== null && !this.#rttProbe.quiet) || nowMs < this.restAtMs()) return false;
    const idle = restable(this.#cc!, this.#loss!, this.#pacer!, this.#acks!, this.#lastSentMs, nowMs);
    if (idle === null) return false;
    this.#lostBefore += this.#loss!.lostPackets;
    this.#idle = idle;
    this.#cc = null;
    this.#loss = null;
    this.#pacer = null;
    this.#acks = null;
    this.#rttProbe = null;
    return true;
  }

  /** @internal Diagnostics (bench): why rest(nowMs) would not rest the space now (null: resting, or it would). */
  awakeReason(nowMs: number): string | null {
    if (this.#idle !== null) return null;
    if (this.#probes > 0) return 'probes owed';
    if (this.#rttProbe !== null && !this.#rttProbe.quiet) return 'rtt probe';
    if (nowMs < this.restAtMs()) return 'active in the last idle period';
    const why = restBlocker(this.#cc!, this.#loss!, this.#pacer!, this.#acks!, this.#lastSentMs, nowMs);
    if (why !== null) return why;
    return this.#acks!.rangeCount > 1 ? 'ack ranges' : null;
  }

  /**
   * When rest() may next succeed as far as time goes: an idle period (REST_AFTER_MS) after the
   * last ack-eliciting datagram sent and the last datagram received (a busy receiver does not
   * rest between datagrams); Infinity while resting.
   */
  restAtMs(): number {
    return this.#idle !== null ? Infinity : Math.max(this.#lastSentMs, this.#lastReceivedMs) + REST_AFTER_MS;
  }

  #wake(): void {
    const idle = this.#idle!;
    this.#idle = null;
    const f = idle.flight;
    if (f === null) {
      this.#build(idle);
      return;
    }
    // The light path's packet is out: the parts as they were before it, then its send replayed
    // as onDatagramSent did it (the pacer, the loss detector and controller), and the numbers
    // of the ack-only datagrams sent since (LossDetector: skipped).
    const next = idle.nextPacketNumber;
    idle.nextPacketNumber = f.pn;
    idle.pacerBudgetBytes = f.budgetBeforeBytes;
    this.#build(idle);
    this.#pacer!.onPacketSent(f.sentAtMs, f.bytes);
    const loss = this.#loss!;
    loss.onPacketSent(f.sentAtMs, f.bytes, true, f.frames as readonly F[]);
    while (loss.nextPacketNumber < next) loss.onPacketSent(f.sentAtMs, 0, false);
  }

  /** The loss detector's probe timeout with nothing backed off (LossDetector.ptoPeriodMs at ptoCount 0). */
  #ptoMs(): number {
    return Math.min(this.rtt.ptoMs() * 2 ** 0, this.#config.maxPtoMs ?? DEFAULT_MAX_PTO_MS);
  }

  /**
   * An ack while resting. Without a light packet out, or one it does not cover, it can only name
   * ack-only datagrams, which the loss detector does not track (LossDetector.onAckReceived: its
   * checks, then nothing acknowledged). One that acknowledges the light packet: its RTT sample
   * (when it is the largest acknowledged, as the loss detector samples) and, if the parts would
   * then be restable, nothing else; null when they would not (the caller makes them again).
   */
  #idleAck(ack: AckFrame, idle: IdleSpace, nowMs: number): (AckResult<F> & { unblocked: boolean }) | null {
    const largest = ack.ranges.length > 0 ? ack.ranges[0]!.largest : -1;
    if (largest >= idle.nextPacketNumber) throw new DropError('malformed', 'ack for a packet number not sent yet');
    const f = idle.flight;
    let covered = false;
    if (f !== null) for (let k = 0; k < ack.ranges.length && !covered; k++) covered = ack.ranges[k]!.smallest <= f.pn && f.pn <= ack.ranges[k]!.largest;
    if (f === null || !covered || (this.#rttProbe !== null && !this.#rttProbe.quiet)) {
      if (covered) return null;
      return { acked: NONE, lost: NONE, rttUpdated: false, persistentCongestion: false, unblocked: this.sendCredit.onCredit(ack) };
    }
    const sample = f.pn === largest;
    const before = this.rtt.smoothedMs;
    const after = sample ? smoothedAfterSample(this.rtt, nowMs - f.sentAtMs, ack.ackDelayMs) : before;
    const budget = idle.budgetAfterAck(nowMs, before, after);
    if (budget === null) return null;
    if (sample) {
      this.rtt.update(nowMs - f.sentAtMs, ack.ackDelayMs);
      this.#lastSampleAtMs = nowMs;
    }
    idle.pacerBudgetBytes = budget;
    idle.flight = null;
    return { acked: [f as SentPacket<unknown> as SentPacket<F>], lost: NONE, rttUpdated: sample, persistentCongestion: false, unblocked: this.sendCredit.onCredit(ack) };
  }

  /** Makes the parts: new, or again from an idle period's record. */
  #build(idle: IdleSpace | undefined): void {
    const rtt = this.rtt;
    const config = this.#config;
    const mss = idle?.maxDatagramBytes ?? config.maxDatagramBytes;
    // Option objects without spreads (idle15: each spread made temporaries at every wake); an
    // option left undefined is the default, as when absent.
    const cc = config.controller?.(rtt, idle) ?? new NewReno({ rtt, maxDatagramBytes: mss, resume: idle });
    this.#cc = cc;
    this.#loss = new LossDetector<F>({ rtt, cc, firstPacketNumber: idle?.nextPacketNumber, maxPtoMs: config.maxPtoMs });
    this.#pacer = new Pacer({ rate: () => cc.pacingRateBytesPerMs(), maxDatagramBytes: mss, initialBudgetBytes: idle?.pacerBudgetBytes });
    this.#acks = new AckTracker(config.ackPolicy, idle);
  }

  /** Probe datagrams owed after a PTO (sent regardless of window and pacing). */
  get probesPending(): number { return this.#probes; }

  /**
   * Milliseconds until an ack-eliciting datagram of `bytes` may be sent: 0 = now; Infinity =
   * the window is full (an ack or onTimeout will change that). Ack-only datagrams are never
   * held back by the window or the pacer.
   */
  sendDelay(nowMs: number, bytes: number): number {
    if (this.#probes > 0) return 0;
    if (this.#idle !== null) {
      if (this.#rttProbe === null && this.#idle.canSendLight(bytes, this.rtt.smoothedMs)) return 0; // the light path (packet-space-idle.ts)
      this.#wake();
    }
    if (!this.#cc!.canSend(this.#loss!.bytesInFlight)) return Infinity;
    return this.#pacer!.timeUntilSend(nowMs, bytes);
  }

  /** A datagram was handed to the kernel; returns the packet number it carries. */
  onDatagramSent(nowMs: number, bytes: number, ackEliciting: boolean, frames: readonly F[] = []): number {
    if (this.#idle !== null) {
      // An ack-only datagram takes a number and nothing else (LossDetector: no record, no flight).
      if (!ackEliciting) return this.#idle.nextPacketNumber++;
      // One ack-eliciting packet (an idle peer's keepalive) sent from the record (packet-space-idle.ts).
      if (this.#probes === 0 && this.#rttProbe === null && this.#idle.canSendLight(bytes, this.rtt.smoothedMs)) {
        this.#lastSentMs = nowMs;
        return this.#idle.sendLight(nowMs, bytes, frames);
      }
      this.#wake();
    }
    if (ackEliciting) {
      if (this.#probes > 0) this.#probes--;
      this.#pacer!.onPacketSent(nowMs, bytes);
      this.#lastSentMs = nowMs;
    }
    const pn = this.#loss!.onPacketSent(nowMs, bytes, ackEliciting, frames);
    this.#rttProbe?.onSent(pn, nowMs, ackEliciting);
    return pn;
  }

  /**
   * Peer's ack (decoded here; a malformed one throws DropError 'malformed'). The loss detector
   * samples the RTT when the largest acknowledged is newly acknowledged and ack-eliciting. For
   * our RTT probe (takeRttProbe) RFC 9002 §5.1's wider rule applies: the largest acknowledged
   * may be an ack-only datagram sent after the probe (the loss detector keeps no record of
   * those; RttProbe keeps their send times while the probe is out) — the peer's ack of a probe usually
   * covers them too, and the probe would otherwise rarely give a sample.
   */
  onAckFrame(bytes: Uint8Array, nowMs: number): AckResult<F> & { unblocked: boolean } {
    const ack = decodeAck(bytes);
    const idle = this.#idle;
    if (idle !== null) {
      const res = this.#idleAck(ack, idle, nowMs);
      if (res !== null) return res;
    }
    const loss = this.loss;
    const largestBefore = loss.largestAcked;
    const res = loss.onAckReceived(ack.ranges, ack.ackDelayMs, nowMs);
    const unblocked = this.sendCredit.onCredit(ack);
    let rttUpdated = res.rttUpdated;
    const probe = this.#rttProbe;
    if (!rttUpdated && probe && res.acked.length > 0) rttUpdated = this.#probeSample(probe, ack, largestBefore, res.acked, nowMs);
    if (rttUpdated) {
      this.#lastSampleAtMs = nowMs;
      probe?.onSample();
    }
    return { acked: res.acked, lost: res.lost, rttUpdated, persistentCongestion: res.persistentCongestion, unblocked };
  }

  /**
   * The RTT probe's sample from an ack the loss detector took none from (its own method: the
   * closure's context is made only here, not at every ack; memalloc17).
   */
  #probeSample(probe: RttProbe, ack: AckFrame, largestBefore: number, acked: readonly SentPacket<F>[], nowMs: number): boolean {
    const latest = probe.latestFor(ack.ranges[0]!.largest, largestBefore, (pn) => acked.some((p) => p.pn === pn), nowMs);
    if (latest === null) return false;
    this.rtt.update(latest, ack.ackDelayMs);
    return true;
  }

  /**
   * Whether this side should ask the peer for an RTT sample now (and forget the request): a
   * fast flow arrives and no sample is fresher than 8 srtt (25 ms … 1 s, rtt-probe.ts). The
   * caller sends a keepalive (ack-eliciting, the peer acknowledges it): at most one per interval.
   */
  takeRttProbe(): boolean {
    return this.#rttProbe?.take() ?? false;
  }

  /** An authenticated datagram from the peer; false = a duplicate packet number (drop it). */
  onPacketReceived(pn: number, ackEliciting: boolean, nowMs: number): boolean {
    this.#lastReceivedMs = nowMs;
    if (ackEliciting && this.#config.adaptiveAcks) this.#countRound(nowMs);
    // Resting: recorded in the idle record when it can be (an idle peer's keepalive, idle15).
    if (this.#idle !== null && this.#idle.receive(pn, ackEliciting, nowMs)) return true;
    return this.acks.onPacketReceived(pn, ackEliciting, nowMs);
  }

  /**
   * Ack thinning (the ack-frequency draft's reasoning, decided by the receiver): the ack-eliciting
   * packets that arrive in one smoothed RTT estimate the peer's window in packets; about eight
   * acks per window (ACKS_PER_ROUND) keep its ack clock and packet-threshold loss detection working;
   * while thinned, the ack delay is a quarter of the smoothed RTT (1…25 ms), so the tail of a
   * burst is not held 25 ms. Only once this side has an RTT sample and at ≥
   * THIN_MIN_PACKETS_PER_MS. Gaps and reordering are still acknowledged at once; a window that
   * shrank is seen one round later. Before a sample, rounds of RTT_PROBE_ROUND_MS judge the rate
   * only: a fast flow without a sample fresher than 8 srtt (25 ms … 1 s) asks for one
   * (takeRttProbe; a pure receiver of datagram-mode traffic sends nothing else ack-eliciting).
   */
  #countRound(nowMs: number): void {
    const sampled = this.rtt.hasSample;
    if (nowMs - this.#roundStartMs >= (sampled ? Math.max(this.rtt.smoothedMs, 1) : RTT_PROBE_ROUND_MS)) {
      if (this.#roundStartMs !== -Infinity) this.#endRound(nowMs, sampled);
      this.#roundStartMs = nowMs;
      this.#roundPackets = 0;
      this.#roundSampled = sampled;
    }
    this.#roundPackets++;
  }

  #endRound(nowMs: number, sampled: boolean): void {
    const fast = this.#roundPackets / (nowMs - this.#roundStartMs) >= THIN_MIN_PACKETS_PER_MS;
    // No sample, or only an old one (this side sends nothing ack-eliciting): ask for one.
    if (fast) (this.#rttProbe ??= new RttProbe()).onFastRound(nowMs, this.#lastSampleAtMs, this.rtt.smoothedMs);
    if (!sampled || !this.#roundSampled) return; // a round measured without an RTT sample says nothing of the window
    const every = fast ? adaptiveAckEvery(this.#roundPackets, ACKS_PER_ROUND, THIN_MAX_ACK_EVERY) : DEFAULT_ACK_POLICY.ackEveryPackets;
    // Thinned, the last packets of a burst wait for the delay: a quarter RTT (≥ 1 ms), not 25 ms.
    const delay = every > DEFAULT_ACK_POLICY.ackEveryPackets ? Math.min(MAX_ACK_DELAY_MS, Math.max(1, Math.ceil(this.rtt.smoothedMs / 4))) : DEFAULT_ACK_POLICY.maxAckDelayMs;
    const p = this.#idle?.policy ?? this.#acks!.policy; // read without waking a resting space
    if (every !== p.ackEveryPackets || delay !== p.maxAckDelayMs) this.acks.setPolicy({ ...p, ackEveryPackets: every, maxAckDelayMs: delay });
  }

  /**
   * The encoded ack to put in the next datagram, or null. `piggyback`: a datagram is leaving
   * anyway, so include an ack if it says anything new, even when none is due yet.
   */
  ackToSend(nowMs: number, piggyback = false): Uint8Array | null {
    const n = this.ackToSendInto(ACK_SCRATCH, nowMs, piggyback);
    return n === 0 ? null : ACK_SCRATCH.slice(0, n);
  }

  /**
   * ackToSend written at out[0…] (MAX_ACK_BYTES of room): its length, 0 for none. The lone ack's
   * form (pump.ts, memalloc17): the bytes are encoded into the datagram at once, so no array
   * per ack.
   */
  ackToSendInto(out: Uint8Array, nowMs: number, piggyback = false): number {
    const idle = this.#idle;
    const due = idle !== null ? this.ackDue(nowMs) || this.recvCredit.updateDue(nowMs) || (piggyback && idle.changed) : this.#acks!.ackDue(nowMs) || this.recvCredit.updateDue(nowMs) || (piggyback && this.#acks!.hasNewInfo);
    if (!due) return 0;
    if (idle !== null) {
      // the one range of the idle record, encoded without a frame or ranges (memalloc17)
      const delay = idle.takeAckDelay(nowMs);
      if (delay < 0) return 0;
      const l = this.recvCredit.takeLimits();
      // a gap kept at rest (memheap17: AckResume.lower) needs the ranges; else the one range
      if (idle.lower !== null) return encodeAckInto(out, { ranges: idle.ackRanges(), ackDelayMs: delay, maxBytes: l.maxBytes, maxMessages: l.maxMessages });
      return encodeOneRangeAckInto(out, idle.smallest, idle.largest, delay, l.maxBytes, l.maxMessages);
    }
    const ack = this.#acks!.takeAck(nowMs);
    if (ack === null) return 0;
    const limits = this.recvCredit.takeLimits();
    return encodeAckInto(out, { ranges: ack.ranges, ackDelayMs: ack.ackDelayMs, maxBytes: limits.maxBytes, maxMessages: limits.maxMessages });
  }

  /** When onTimeout must run (loss timer, probe timeout or delayed ack), or null. */
  deadline(): number | null {
    const idle = this.#idle;
    if (idle !== null) {
      // a delayed ack, if owed; the light packet's probe timeout, if one is out
      const a = idle.ackDeadline();
      if (idle.flight === null) return a;
      const p = idle.flight.sentAtMs + this.#ptoMs();
      return a === null ? p : Math.min(p, a);
    }
    const a = this.#loss!.deadline();
    const b = this.#acks!.deadline();
    return a === null ? b : b === null ? a : Math.min(a, b);
  }

  /**
   * Runs the loss/PTO timer if due. Lost packets' frames must be requeued by the caller; after
   * a PTO, `probes` datagrams may go at once. A due delayed ack is then given by ackToSend().
   */
  onTimeout(nowMs: number): TimeoutResult<F> {
    if (this.#idle !== null) {
      const f = this.#idle.flight;
      if (f === null || nowMs < f.sentAtMs + this.#ptoMs()) return { lost: [], probes: 0 }; // nothing due
      this.#wake(); // the light packet's probe timeout: the parts handle it
    }
    const res = this.#loss!.onTimeout(nowMs);
    this.#probes = Math.max(this.#probes, res.probes);
    return res;
  }

  /** The peer's address changed (roaming, NAT rebinding): fresh RTT, window and pacing. */
  resetForNewPath(): void {
    this.loss.resetForNewPath();
    this.#pacer!.reset();
    this.#probes = 0;
    this.#rttProbe?.reset();
    this.#lastSampleAtMs = -Infinity;
  }
}
