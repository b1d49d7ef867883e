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
import type { CongestionController } from '../congestion/controller';
import { ReceiveCredit, SendCredit, type WindowSource } from '../flow';
import { IDLE_AT, RECORD_SLOTS, RECV_AT, RTT_AT, SEND_AT, SPACE_AT, newRecord, newRecordWithTail, small } from './packet-space-record';
import { decodeAck, encodeAckInto, MAX_ACK_BYTES, type AckFrame } from '../../wire/ack';
import { AckTracker } from './ack-tracker';
import { DEFAULT_MAX_PTO_MS, LossDetector, type AckResult, type TimeoutResult } from './loss';
import { RttStats } from './rtt';
import { RttProbe } from './rtt-probe';
import { IdleSpace, REST_AFTER_MS, restBlocker, restable } from './packet-space-idle';
import { idleAck, idleAckInto } from './packet-space-rest';
import { RTT_PROBE_ROUND_MS, THIN_MIN_PACKETS_PER_MS, fastRound, thinnedPolicy } from './ack-thinning';
import { spaceConfig, type PacketSpaceOptions, type SpaceConfig } from './packet-space-config';
import type { SentPacket } from './sent-history';

/** ackToSend's scratch (copied out at once). */
const ACK_SCRATCH = new Uint8Array(MAX_ACK_BYTES);

export { ACKS_PER_ROUND, THIN_MIN_PACKETS_PER_MS, THIN_MAX_ACK_EVERY, RTT_PROBE_ROUND_MS } from './ack-thinning';
export type { PacketSpaceOptions } from './packet-space-config';

export class PacketSpace<F> {
  readonly rtt: RttStats;
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
  /**
   * The record this space was made from (null: none): the next fold() writes into it again when
   * it has the length needed (what follows the slots unchanged in size: fold21), so a link that
   * rests again after a keepalive exchange makes no new array for it (mem20).
   */
  #record: number[] | null = null;

  /**
   * `record`: a resting space as fold() wrote it (then `opts` must be the options the folded
   * space was made with, at `maxDatagramBytes: PacketSpace.recordDatagramBytes(record)`): the
   * space again, resting, every field as it was.
   */
  constructor(opts: PacketSpaceOptions, record?: number[]) {
    this.#config = spaceConfig(opts);
    if (record !== undefined) {
      this.#record = record;
      this.rtt = RttStats.fromRecord(record, RTT_AT);
      this.sendCredit = SendCredit.fromRecord(record, SEND_AT);
      this.recvCredit = ReceiveCredit.fromRecord(opts.receiveWindow, record, RECV_AT);
      this.#idle = IdleSpace.fromRecord(record, IDLE_AT, this.#config.ackPolicy);
      const at = SPACE_AT;
      this.#lostBefore = small(record[at + 1]!);
      this.#lastSentMs = small(record[at + 2]!);
      this.#lastReceivedMs = small(record[at + 3]!);
      this.#roundStartMs = small(record[at + 4]!);
      this.#roundPackets = small(record[at + 5]!);
      this.#roundSampled = record[at + 6] === 1;
      this.#lastSampleAtMs = small(record[at + 7]!);
      return;
    }
    this.rtt = new RttStats();
    this.sendCredit = new SendCredit(opts.initialSendCredit);
    this.recvCredit = new ReceiveCredit(opts.receiveWindow, opts.initialReceiveCredit);
    this.#build(undefined);
  }

  /** What a folded space's figures are (PacketPath.stats without making it again): window, smoothed RTT (null: no sample), lost packets, credit stalls. */
  static recordFigures(record: readonly number[]): { windowBytes: number; srttMs: number | null; lostPackets: number; flowBlocked: number } {
    return {
      windowBytes: IdleSpace.recordWindowBytes(record, IDLE_AT),
      srttMs: record[RTT_AT]! > 0 ? record[RTT_AT + 2]! : null,
      lostPackets: small(record[SPACE_AT + 1]!),
      flowBlocked: 0, // a folded space's sender never ran out of credit (SendCredit.writeRecord)
    };
  }

  /** @internal Diagnostics (bench): why fold(nowMs, receiveWindow) would give null now (null: it would fold). */
  foldBlocker(nowMs: number, receiveWindow: WindowSource): string | null {
    const idle = this.#idle;
    if (idle === null) return 'awake';
    if (this.#probes !== 0) return 'probes owed';
    if (this.#rttProbe !== null) return 'rtt probe made';
    const r = newRecord();
    if (!idle.writeRecord(r, IDLE_AT, this.#config.ackPolicy)) return idle.flight !== null ? 'light packet out' : idle.firstUnackedElicitingAtMs !== null ? 'ack owed' : 'ack policy of its own';
    if (!this.recvCredit.writeRecord(r, RECV_AT, receiveWindow, nowMs)) return 'receive credit: another window source, a recheck under way or reliable data';
    if (!this.rtt.writeRecord(r, RTT_AT)) return 'RTT settings of its own';
    if (!this.sendCredit.writeRecord(r, SEND_AT)) return 'send credit: reliable data sent';
    return null;
  }

  /** The datagram size of the options the folded space was made with (its record's first slot). */
  static recordDatagramBytes(record: readonly number[]): number {
    return small(record[SPACE_AT]!);
  }

  /**
   * The resting space as one array of numbers (packet-space-record.ts; pack19: ~−330 B per idle
   * peer), or null while it cannot stand for it: not resting, a light packet out, an RTT probe
   * made, an ack owed, an ack policy or RTT settings of its own, reliable data
   * sent or received (credit counts), credit whose window source is not `receiveWindow` (the one
   * `new PacketSpace(opts, record)` will be given) or whose recheck is not over at `nowMs`. The caller drops the space for the record; nothing
   * else may hold its parts (its credits: a reliable sender or receiver).
   */
  fold(nowMs: number, receiveWindow: WindowSource): number[] | null {
    const idle = this.#idle;
    if (idle === null || this.#probes !== 0 || this.#rttProbe !== null) return null;
    // every slot is written below (a failed fold leaves the space awake: the record is only its scratch)
    const tailSlots = idle.recordTailSlots();
    const reuse = this.#record !== null && this.#record.length === RECORD_SLOTS + tailSlots;
    const r = reuse ? this.#record! : tailSlots === 0 ? newRecord() : newRecordWithTail(tailSlots);
    if (!idle.writeRecord(r, IDLE_AT, this.#config.ackPolicy) || !this.recvCredit.writeRecord(r, RECV_AT, receiveWindow, nowMs)) return null;
    if (!this.rtt.writeRecord(r, RTT_AT) || !this.sendCredit.writeRecord(r, SEND_AT)) return null;
    const at = SPACE_AT;
    r[at] = this.#config.maxDatagramBytes;
    r[at + 1] = this.#lostBefore;
    r[at + 2] = this.#lastSentMs;
    r[at + 3] = this.#lastReceivedMs;
    r[at + 4] = this.#roundStartMs;
    r[at + 5] = this.#roundPackets;
    r[at + 6] = this.#roundSampled ? 1 : 0;
    r[at + 7] = this.#lastSampleAtMs;
    this.#record = null;
    // a controller state of its own (fold21) and a gap kept at rest (the ranges below the one
    // range, memheap17) after the slots: in the array it was made from, or one exact new one
    if (tailSlots !== 0) idle.writeRecordTail(r);
    return r;
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

  /**
   * When a resting space may next be folded (fold(); PacketPath.rest at the link's tick): an idle
   * period after the last datagram sent or received, as for rest(); Infinity while awake.
   */
  foldAtMs(): number {
    return this.#idle === null ? Infinity : Math.max(this.#lastSentMs, this.#lastReceivedMs) + REST_AFTER_MS;
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
      const res = idleAck<F>(ack, idle, nowMs, this.rtt, this.sendCredit, this.#rttProbe !== null && !this.#rttProbe.quiet);
      if (res !== null) {
        if (res.rttUpdated) this.#lastSampleAtMs = nowMs;
        return res;
      }
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

  /**
   * An authenticated datagram from the peer; false = a duplicate packet number (drop it).
   * `delayable`: ack-eliciting, but its ack may wait for a datagram that leaves anyway
   * (AckTracker.onPacketReceived) — only while our own flow is fast (paced at ≥
   * THIN_MIN_PACKETS_PER_MS datagrams/ms, as for thinning: a slow path's ack clock stays as it
   * was; in the 10 Mbit/s two-flow sim waiting for our next datagram split the link 1.97 : 1).
   * A resting space acknowledges it as any other.
   */
  onPacketReceived(pn: number, ackEliciting: boolean, nowMs: number, delayable = false): boolean {
    this.#lastReceivedMs = nowMs;
    if (ackEliciting && this.#config.adaptiveAcks) this.#countRound(nowMs);
    // Resting: recorded in the idle record when it can be (an idle peer's keepalive, idle15).
    if (this.#idle !== null && this.#idle.receive(pn, ackEliciting, nowMs)) return true;
    const acks = this.acks;
    return acks.onPacketReceived(pn, ackEliciting, nowMs, delayable && this.#cc!.pacingRateBytesPerMs() >= THIN_MIN_PACKETS_PER_MS * this.#config.maxDatagramBytes);
  }

  /** Ack thinning (ack-thinning.ts): rounds of one smoothed RTT, or RTT_PROBE_ROUND_MS before a sample. */
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
    const fast = fastRound(this.#roundPackets, nowMs - this.#roundStartMs);
    // No sample, or only an old one (this side sends nothing ack-eliciting): ask for one.
    if (fast) (this.#rttProbe ??= new RttProbe()).onFastRound(nowMs, this.#lastSampleAtMs, this.rtt.smoothedMs);
    if (!sampled || !this.#roundSampled) return; // a round measured without an RTT sample says nothing of the window
    const p = this.#idle?.policy ?? this.#acks!.policy; // read without waking a resting space
    const next = thinnedPolicy(fast, this.#roundPackets, this.rtt.smoothedMs, p);
    if (next !== null) this.acks.setPolicy(next);
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
    if (idle !== null) return idleAckInto(out, idle, nowMs, this.recvCredit);
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
