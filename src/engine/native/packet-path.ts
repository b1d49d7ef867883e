/**
 * The packet layer of one native link (docs/CONGESTION.md §6): the peer's PacketSpace (packet
 * numbers, loss detection, NewReno, pacing, packet acks), the datagram-mode messages waiting for
 * room in the window (≤ datagramWindowWaitMs, then dropped as `congestion` with ERR_CONGESTION),
 * the datagram-mode message being sent, and the link's one transport timer (loss/PTO, delayed
 * ack, pacer wake-up, window-wait expiry). The send pump (pump.ts) decides what goes; this
 * module keeps the state and handles what comes back (acks, losses, timeouts).
 */
import { DropError, type DropReason } from '../../errors';
import { PacketSpace } from '../../delivery/reliable/packet-space';
import { WindowWaitQueue } from '../../delivery/congestion/window-wait';
import { controllerFactory } from '../../delivery/congestion/select';
import { MAX_ACK_DELAY_MS } from '../../delivery/reliable/rtt';
import type { PmtuSearch } from '../../delivery/pmtu';
import { INITIAL_CREDIT, type CreditWindow } from '../../delivery/flow';
import { decodeAck } from '../../wire/ack';
import { probeLedger } from './probe-ledger';
import type { Frame } from '../../wire/frame';
import type { RearmableTimer } from '../../runtime/scheduler';
import type { OutMessage } from '../../peer/outbox';
import type { FrameRef } from './frame-ref';
import { pathStats, type PathStats } from './path-stats';
import { expireWaiting, requeueLost, requeueOldest } from './path-losses';
import { amplificationRoomOf, type Unvalidated } from './address-validation';
import { newPmtuSearch, probeRttMs, probeTimeoutMs } from './path-mtu-probe';
import type { NativeLink } from './link';

export { DELIVERY_ACK_REF, LIMITS_REF, type FrameRef } from './frame-ref';
export type { PathStats } from './path-stats';

export { AMPLIFICATION_FACTOR } from './address-validation';

/** Whether rest() folds a resting space (tests: the simulator's twin runs compare both; setFoldResting). */
let foldResting = true;
/** @internal Tests: folding switched off (false) or on again. */
export function setFoldResting(on: boolean): void {
  foldResting = on;
}

export class PacketPath {
  readonly #link: NativeLink;
  #space: PacketSpace<FrameRef> | null = null;
  /** The resting space folded into one array of numbers (rest(); `space` makes it again), or null. */
  #folded: number[] | null = null;
  #pmtu: PmtuSearch | null = null;
  /**
   * The peer's instance id as last seen, as int32 (`| 0`: a small integer in the field, not a
   * boxed double for the half of the uint32 ids above 2^31 — rest18), null: none yet.
   */
  #peerInstance: number | null = null;
  /** Made on first use, dropped again when the link rests (rest()). */
  #waiting: WindowWaitQueue<OutMessage> | null = null;
  /** The datagram-mode message whose first items went out; its remaining items go first. */
  current: { m: OutMessage; next: number } | null = null;
  /** The link's timer: one for its life, made at its first arm and armed again (memalloc17: no timer object per arm). */
  #timer: RearmableTimer | null = null;
  /** The armed timer is the pacer's wake-up (arm's extraAtMs), not a deadline of the link's. */
  #timerForPacer = false;
  /** When the armed timer fires (null: none armed; null, not Infinity: no boxed double per idle peer). */
  #timerAtMs: number | null = null;
  /** Set while the peer's current address has not answered a packet we sent to it. */
  #unvalidated: Unvalidated | null = null;
  /** Bytes not sent because the address was not validated yet (a stat). */
  amplificationLimitedBytes = 0;
  /** A delivery ack is wanted since this time (Infinity: none); it waits ≤ 25 ms for a packet ack to ride with. */
  #deliveryAckSinceMs: number | null = null;

  constructor(link: NativeLink) {
    this.#link = link;
  }

  /** Our receive window for the peer (flow control: the packet space's WindowProvider, not a closure per peer). */
  creditWindow(): CreditWindow {
    return this.#link.engine.reliable.receiveWindow(this.#link);
  }

  /**
   * When rest() may take the idle form or fold a resting space (Infinity: folded, or no packet
   * space yet). A space that rested again by itself (its light packet acknowledged) is folded at
   * the first tick an idle period after its last datagram.
   */
  restAtMs(): number {
    const s = this.#space;
    return s === null ? Infinity : Math.min(s.restAtMs(), s.foldAtMs());
  }

  /** @internal Whether the link's timer object exists (rest() drops an unarmed one of a resting link; tests). */
  get timerMade(): boolean {
    return this.#timer !== null;
  }

  /** Datagram-mode messages waiting for room in the window (made on first use). */
  get waiting(): WindowWaitQueue<OutMessage> {
    if (this.#waiting === null) {
      const st = this.#link.ctx.settings;
      this.#waiting = new WindowWaitQueue({ maxMessages: st.queueMaxMessages, maxBytes: st.queueMaxBytes });
    }
    return this.#waiting;
  }

  /**
   * The link is quiet (engine/native/timers.ts quietUntil): the packet space takes its idle form
   * when it can (PacketSpace.rest: nothing in flight or owed for an idle period) and an empty
   * window-wait queue goes (issue 12: memory per idle peer). Nothing observable changes.
   */
  rest(nowMs: number): void {
    if (this.hasDatagrams || this.#deliveryAckSinceMs !== null || this.#unvalidated !== null) return;
    this.#waiting = null;
    const space = this.#space;
    const resting = space === null || space.rest(nowMs);
    // A resting space whose parts nobody else holds (its credits: a reliable sender or receiver)
    // is kept as one array of numbers (pack19: PacketSpace.fold, ~330 B less per idle peer).
    if (resting && space !== null && foldResting && this.#link.engine.reliable.senderOf(this.#link) === null) {
      const r = space.fold(nowMs, this);
      if (r !== null) {
        this.#folded = r;
        this.#space = null;
      }
    }
    // A resting link's timer, its closure and the closure's context go while none is armed
    // (rest18: ~140 B per idle peer); the next arm makes them again (arm(): `??=`).
    if (resting && this.#timerAtMs === null && this.#timer !== null) {
      this.#timer.cancel();
      this.#timer = null;
    }
  }

  /** Path MTU search for the peer's current address (RFC 8899). */
  get pmtu(): PmtuSearch {
    if (!this.#pmtu) this.#pmtu = newPmtuSearch(this.#link);
    return this.#pmtu;
  }

  /** How long a probe may go unanswered: the PTO, or from the handshake's RTT before any sample (path-mtu-probe.ts). */
  probeTimeoutMs(): number {
    return probeTimeoutMs(this.space, this.#link.peer.rttMs);
  }

  /**
   * A probe's send callback ran; `created`: the fragments the kernel created across its send
   * (the ledger's bracket). `search` is the search the probe belongs to (a path change since
   * replaced it: then nothing to do).
   */
  probeHanded(search: PmtuSearch, pn: number, created: number | undefined, err: Error | null): void {
    if (search !== this.#pmtu || !this.#link.alive) return;
    const before = search.current;
    const now = this.#link.ctx.clock.monotonic();
    search.onProbeHanded(pn, created, now, (err as NodeJS.ErrnoException | null)?.code === 'EMSGSIZE');
    if (search.current !== before) this.#onMtuChange();
    this.arm(now);
    // The round's next probe on the next turn of the event loop, not in this one (hs19): a round
    // is ~4 probes, each bracketed by two fragment-counter reads (~0.1 ms a probe), and handed
    // over back to back in one turn it held up every datagram the process had to read meanwhile
    // (in one process: the peer's confirmation of the session that started the search).
    const link = this.#link;
    link.ctx.scheduler.immediate(() => {
      if (link.alive) link.ctx.scheduleFlush(link.peer);
    });
  }

  /** Largest datagram to the peer now: the path's confirmed size (frames and padding follow it). */
  get maxDatagram(): number {
    return this.pmtu.current;
  }

  /** The packet space (created on first use, sized for the peer's address family; made again from its folded form). */
  get space(): PacketSpace<FrameRef> {
    return this.#space ?? this.#makeSpace();
  }

  #makeSpace(): PacketSpace<FrameRef> {
    const folded = this.#folded;
    this.#folded = null;
    // A folded space is made with the options it was made with (its datagram size then).
    const mss = folded !== null ? PacketSpace.recordDatagramBytes(folded) : this.maxDatagram;
    const space = new PacketSpace<FrameRef>(
      {
        maxDatagramBytes: mss,
        // Flow control (docs/DESIGN.md §Flow control): our window is read from the inbox and
        // reassembly budget each time an ack is built; both sides start from INITIAL_CREDIT.
        receiveWindow: this,
        initialReceiveCredit: INITIAL_CREDIT,
        initialSendCredit: INITIAL_CREDIT,
        controller: controllerFactory(this.#link.ctx.settings.congestionControl, mss),
      },
      folded ?? undefined,
    );
    this.#space = space;
    return space;
  }

  /** The packet space if one was made (a folded one made again), else null. */
  #spaceIfMade(): PacketSpace<FrameRef> | null {
    return this.#space ?? (this.#folded !== null ? this.#makeSpace() : null);
  }

  /** @internal Diagnostics (bench): why rest(nowMs) would not fold the space now (null: folded, or it would). */
  foldBlocker(nowMs: number): string | null {
    const s = this.#space;
    if (s === null) return this.#folded !== null ? null : 'no packet space';
    if (this.#link.engine.reliable.senderOf(this.#link) !== null) return 'reliable sender or receiver';
    return s.foldBlocker(nowMs, this);
  }

  /** @internal The resting space is held folded (one array of numbers: rest()); tests. */
  get folded(): boolean {
    return this.#folded !== null;
  }

  stats(): PathStats {
    return pathStats(this.#space ?? this.#folded, this.maxDatagram, this.pmtu.searching);
  }

  /** The reliable receiver has news for the peer (reliable.ts): send a delivery ack soon. */
  wantDeliveryAck(nowMs: number): void {
    if (this.#deliveryAckSinceMs === null) this.#deliveryAckSinceMs = nowMs;
    if (this.deliveryAckDue(nowMs)) this.#link.ctx.scheduleFlush(this.#link.peer);
    else this.arm(nowMs);
  }

  get deliveryAckWanted(): boolean {
    return this.#deliveryAckSinceMs !== null;
  }

  /** Wanted, and a packet ack is due or the delivery ack waited its maximum delay. */
  deliveryAckDue(nowMs: number): boolean {
    if (this.#deliveryAckSinceMs === null) return false;
    return nowMs >= this.#deliveryAckSinceMs + MAX_ACK_DELAY_MS || (this.#space?.ackDue(nowMs) ?? false);
  }

  deliveryAckSent(): void {
    this.#deliveryAckSinceMs = null;
  }

  /** Any datagram-mode message waiting or under way. */
  get hasDatagrams(): boolean {
    return this.current !== null || (this.#waiting !== null && this.#waiting.size > 0);
  }

  /**
   * An authenticated frame from the peer: new peer instance → fresh receive state; the packet
   * number recorded for our acks; its packet ack processed. Returns the reason to drop the
   * datagram, or null.
   */
  onFrame(frame: Frame, nowMs: number, bytes: number): DropReason | null {
    const space = this.space;
    if (this.#unvalidated) this.#unvalidated.received += bytes;
    let rearm = false; // whether a deadline other than the delayed ack's may have moved
    const instance = frame.i | 0;
    if (instance !== this.#peerInstance) {
      // The peer restarted (or this is its first frame): its numbers start again at 0.
      if (this.#peerInstance !== null) {
        space.acks.reset();
        this.#link.engine.reliable.peerRestarted(this.#link); // its receiver counts credit from zero
      }
      this.#peerInstance = instance;
      rearm = true;
    }
    const controls = frame.c;
    let eliciting = frame.p.length > 0;
    let urgent = eliciting; // anything ack-eliciting beyond delivery acks (ack20: those wait for a datagram that goes anyway)
    for (let k = 0; k < controls.length; k++) {
      const t = controls[k]!.type;
      if (t === 'packetAck') continue;
      eliciting = true;
      if (t !== 'ack') urgent = true;
    }
    if (!space.onPacketReceived(frame.n, eliciting, nowMs, !urgent)) return 'replay';
    // A fast flow and no fresh RTT sample: a keepalive rides in our next ack frame, so the
    // peer's ack of it gives one and the acks can be thinned (PROTOCOL §7.6).
    // It waits for the next ack that goes anyway (no datagram of its own).
    if (space.takeRttProbe()) this.#link.outbox.pushControl({ type: 'keepalive' });
    for (let k = 0; k < controls.length; k++) {
      const c = controls[k]!;
      if (c.type !== 'packetAck') continue;
      rearm = true;
      try {
        this.#onAck(c.ack, nowMs);
      } catch (e) {
        if (e instanceof DropError) return e.reason;
        throw e;
      }
    }
    if (space.ackDue(nowMs)) this.#link.ctx.scheduleFlush(this.#link.peer);
    else if (rearm) this.arm(nowMs);
    else {
      // Only the delayed ack's deadline can have come nearer (per datagram: no full re-arm while thinned).
      const d = space.ackDeadline();
      if (d !== null && d < (this.#timerAtMs ?? Infinity)) this.arm(nowMs);
    }
    return null;
  }

  #onAck(bytes: Uint8Array, nowMs: number): void {
    const space = this.space;
    const res = space.onAckFrame(bytes, nowMs);
    const pmtu = this.pmtu;
    const before = pmtu.current;
    const probeAnswered = pmtu.hasOutstanding;
    if (probeAnswered) {
      const { ranges } = decodeAck(bytes);
      const largest = ranges.reduce((m, r) => Math.max(m, r.largest), -1);
      const fragments = probeLedger(this.#link.ctx)?.count(this.#link.peer.endpoint.family);
      pmtu.onAck((pn) => ranges.some((r) => r.smallest <= pn && pn <= r.largest), largest, nowMs, probeRttMs(space, this.#link.peer.rttMs), fragments);
    }
    const { acked, lost } = res;
    for (let k = 0; k < acked.length; k++) {
      const p = acked[k]!;
      pmtu.onPacketAcked(p.bytes, p.sentAtMs);
      const frames = p.frames;
      for (let j = 0; j < frames.length; j++) {
        const f = frames[j]!;
        if (typeof f !== 'number' && f.kind === 'packetAck') space.pruneAcksBelow(f.largest);
      }
    }
    for (let k = 0; k < lost.length; k++) pmtu.onPacketLost(lost[k]!.bytes, lost[k]!.sentAtMs, nowMs);
    if (pmtu.current !== before) this.#onMtuChange();
    // The new address answered a packet we sent to it: it is validated.
    const last = res.acked[res.acked.length - 1];
    if (this.#unvalidated && last && last.pn >= this.#unvalidated.firstPn) this.#unvalidated = null;
    requeueLost(this.#link, res.lost);
    if (res.rttUpdated) this.#link.peer.setRtt(Math.round(space.rtt.smoothedMs));
    if (res.acked.length > 0 || res.lost.length > 0 || res.unblocked || probeAnswered) this.#link.ctx.scheduleFlush(this.#link.peer);
  }

  /**
   * Before a probe: put the reliable items of the oldest unacknowledged packet back in the
   * queue (not counted as lost). Returns whether anything was requeued.
   */
  requeueOldest(): boolean {
    return requeueOldest(this.#link, this.space);
  }

  /** The confirmed path MTU changed: the controller and pacer count in the new datagram size. */
  #onMtuChange(): void {
    const s = this.#spaceIfMade();
    if (!s) return;
    s.cc.setMaxDatagramBytes(this.maxDatagram);
    s.pacer.setMaxDatagramBytes(this.maxDatagram);
  }

  /**
   * The peer's address changed (an authenticated datagram of `bytes` came from a new one): fresh
   * RTT, window and pacing, and until the new address acknowledges a packet sent to it, no more
   * than 3 × the bytes received from it are sent there (a spoofed or replayed source cannot
   * turn this node into an amplifier).
   */
  onNewAddress(bytes: number): void {
    this.#spaceIfMade()?.resetForNewPath();
    this.#pmtu = null; // a new path: its MTU is searched again from the base
    this.#onMtuChange();
    this.#unvalidated = { received: bytes, sent: 0, firstPn: this.space.loss.nextPacketNumber, probed: false };
  }

  /** Bytes that may still be sent to the peer's address (Infinity once validated). */
  amplificationRoom(): number {
    const u = this.#unvalidated;
    return u ? amplificationRoomOf(u) : Infinity;
  }

  /** The pump may send a small ack-eliciting probe to have the new address answer: once, and again after a probe timeout (`again`). */
  takeValidationProbe(again: boolean): boolean {
    const u = this.#unvalidated;
    if (!u || (u.probed && !again)) return false;
    u.probed = true;
    return true;
  }

  get validated(): boolean {
    return this.#unvalidated === null;
  }

  /** A datagram of `bytes` went to the peer's address. */
  onSent(bytes: number): void {
    if (this.#unvalidated) this.#unvalidated.sent += bytes;
  }

  /** Arms the link's timer for the earliest of: loss/PTO/delayed ack, window-wait expiry, `extraAtMs` (pacer). */
  arm(nowMs: number, extraAtMs = Infinity): void {
    if (!this.#link.alive) return;
    const d = this.#space?.deadline() ?? null;
    const w = this.#waiting?.nextDeadline() ?? null;
    const due = Math.min(d ?? Infinity, w ?? Infinity, this.#pmtu?.deadline() ?? Infinity, (this.#deliveryAckSinceMs ?? Infinity) + MAX_ACK_DELAY_MS);
    const at = Math.min(due, extraAtMs);
    if (at === Infinity) {
      // Nothing is due any more (an idle peer's keepalive was acknowledged: its probe timeout
      // is moot): a timer armed for a deadline, not for the pacer, would fire for nothing and
      // flush the link (memrss16). A later deadline keeps the armed timer (it fires early and
      // re-arms: no new timer per ack in a bulk flow).
      // Cancelled also once run: an idle link keeps no Timeout (memalloc17: 180 B per idle peer).
      if (this.#timerAtMs === null || !this.#timerForPacer) {
        this.#timer?.cancel();
        this.#timerAtMs = null;
      }
      return;
    }
    if (at >= (this.#timerAtMs ?? Infinity)) return;
    this.#timerAtMs = at;
    this.#timerForPacer = extraAtMs < due;
    (this.#timer ??= this.#link.ctx.scheduler.rearmable(() => this.#onTimer())).arm(Math.max(0, Math.ceil(at - nowMs)));
  }

  #onTimer(): void {
    this.#timerAtMs = null;
    const { ctx, peer } = this.#link;
    if (!this.#link.alive) return;
    const now = ctx.clock.monotonic();
    if (this.#space) {
      const d = this.#space.deadline();
      if (d !== null && d <= now) requeueLost(this.#link, this.#space.onTimeout(now).lost);
    }
    this.#pmtu?.onTimeout(now);
    if (this.#waiting !== null) expireWaiting(this.#link, this.#waiting, now);
    ctx.scheduleFlush(peer); // sends what is due (probes, delayed ack, paced data) and re-arms
  }

  /** Rejects every waiting message and disarms the timer. */
  close(err: Error): void {
    this.#timer?.cancel();
    this.#timerAtMs = null;
    if (this.current) this.current.m.reject(err);
    this.current = null;
    for (const m of this.#waiting?.clear() ?? []) m.reject(err);
  }
}
