/**
 * Reliable mode for every peer: a ReliableSender/ReliableReceiver pair per peer (pure state
 * machines in delivery/), the one timer (message deadlines, backstop RTO), and delivery acks
 * batched per I/O phase. The send pump (pump.ts) takes items under the congestion window;
 * packet-level loss detection (packet-path.ts) requeues the items of lost packets.
 *
 * Exactly once across restarts and re-adds (PROTOCOL.md §14):
 * - Every sender (a link's ReliableSender) gets a new stream epoch, higher than any this node
 *   used toward the peer before: max(node counter, journal epoch + 1), where the node counter
 *   starts at wall-clock ms × 1024 + random(0..1023), so it increases across restarts even
 *   without a home or when the last journal record was lost in a crash; the journal (grouped
 *   fsync, not waited for) keeps it increasing when the wall clock steps back.
 * - The receiver records, per sender, the epoch and the cumulative delivered seq (journal
 *   `deliveredThrough`, one record per ack round; in memory without a home) and a new receiver
 *   (restart, re-add) resumes from it: a retransmission whose ack was lost is acknowledged
 *   again, never delivered twice. With inboxFsync the ack waits for that record's fsync.
 *
 * Flow control (flow-control.ts; docs/DESIGN.md "Flow control"): the peer's sender and our
 * receiver count credit in the link's PacketSpace; our window is read whenever an ack is built
 * (receiveWindow); a blocked sender probes every BLOCKED_PROBE_MS; a reader making room sends a
 * window update at once (resume).
 */
import type { ReliableSender } from '../../delivery/reliable-sender';
import { fragment } from '../../delivery/fragment';
import { FLAG_RELIABLE, binHeaderBytes, itemOverheadBytes, type ControlItem, type Frame } from '../../wire/frame';
import type { Timer } from '../../runtime/scheduler';
import { PeerStates, openPeerReliable, type PeerReliable } from './reliable-peer';
import { UnsettledSends } from './unsettled-sends';
import { PhaseAcks } from './phase-acks';
import type { NodeContext } from '../context';
import type { NativeLink } from './link';
import { bodyFlags, compressIfSmaller, fragmentChunkBytes, frameBudget } from './send';
import { formatEndpoint } from '../../peer/endpoint';
import { StreamRecords } from './stream-records';
import type { CreditWindow } from '../../delivery/flow';
import { BLOCKED_PROBE_MS, NativeFlowControl } from './flow-control';
import { LimitsExchange, type AnnouncedOn } from './limits';

/** itemOverheadBytes() of a whole reliable item without its data's bin header: array + flags + a 9-byte id. */
export const RELIABLE_WHOLE_ITEM_OVERHEAD = itemOverheadBytes({ flags: 0, data: new Uint8Array(0), id: Number.MAX_SAFE_INTEGER }) - binHeaderBytes(0);

export class ReliableDelivery {
  #ctx: NodeContext;
  readonly #state = new PeerStates();
  /** This node instance's random id (new on every start; the low bits of its first epoch). */
  #stream: number;
  /** Stream epochs and delivered floors (journal or memory). */
  readonly #records: StreamRecords;
  #timer: Timer | null = null;
  #timerAtMs = Infinity;
  /** Delivery acks, once per I/O phase. */
  readonly #acks: PhaseAcks<NativeLink>;
  #closed = false;
  /** Reliable messages whose send() has not settled, and who waits for them (close grace). */
  readonly #unsettled: UnsettledSends;
  /** The message-size limits exchanged with each peer (control item `limits`). */
  readonly #limits: LimitsExchange;
  readonly #flow: NativeFlowControl;

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#flow = new NativeFlowControl(ctx);
    this.#limits = new LimitsExchange(() => ctx.settings.maxMessageBytes);
    this.#stream = ctx.random.int(1, 0xffffffff);
    this.#records = new StreamRecords(ctx, this.#stream);
    this.#unsettled = new UnsettledSends(ctx.scheduler);
    this.#acks = new PhaseAcks<NativeLink>(ctx.scheduler, (links) => {
      const now = ctx.clock.monotonic();
      for (const p of links) if (this.#state.has(p)) p.path.wantDeliveryAck(now);
    });
  }

  #of(link: NativeLink): PeerReliable {
    let s = this.#state.get(link);
    if (!s) {
      s = openPeerReliable(this.#ctx, link, this.#records, this.#unsettled.settledOne);
      this.#state.set(link, s);
    }
    return s;
  }

  /** This node instance's reliable stream id (random per start; also the frame's instance id `i`). */
  get stream(): number {
    return this.#stream;
  }

  /** Queues one reliable message; resolves when the peer acknowledged delivering it. `now`: the caller's clock read, if it made one. */
  send(link: NativeLink, data: Uint8Array, timeoutMs: number, now = this.#ctx.clock.monotonic()): Promise<void> {
    const peer = link.peer;
    const { sender } = this.#of(link);
    const body = compressIfSmaller(link, data); // no [body, flags] tuple per message
    const flags = bodyFlags();
    const single = RELIABLE_WHOLE_ITEM_OVERHEAD + binHeaderBytes(body.length) + body.length <= frameBudget(link); // itemOverheadBytes of a whole item with an id, no object per message
    const chunks = single ? body : fragment(body, fragmentChunkBytes(link)); // one item: no array per message
    const deadline = now + timeoutMs;
    this.#unsettled.add(); // the sender's onSettled counts it down (no promise chained per message)
    const done = sender.push(chunks, flags, deadline, timeoutMs);
    peer.counters.messagesOut++;
    this.#ctx.counters.messagesOut++;
    this.#ctx.scheduleFlush(peer);
    this.#armAt(deadline, now);
    this.#armAt(now + BLOCKED_PROBE_MS, now); // checks for a credit stall
    return done;
  }

  /** Our receive window for the peer (flow control; NativeFlowControl.receiveWindow). */
  receiveWindow(link: NativeLink): CreditWindow {
    return this.#flow.receiveWindow(link, this.#state.get(link)?.receiver ?? null);
  }

  /** The peer restarted (a new instance): our credit toward it starts again. */
  peerRestarted(link: NativeLink): void {
    this.#flow.peerRestarted(link, this.#state.get(link)?.sender ?? null);
  }

  /** The peer's sender, if reliable messages were ever sent to it. */
  senderOf(link: NativeLink): ReliableSender | null {
    return this.#state.get(link)?.sender ?? null;
  }

  /** Items were just transmitted (at `nowMs`, the pump's time): the backstop timer must cover them. */
  sent(link: NativeLink, nowMs = this.#ctx.clock.monotonic()): void {
    const s = this.#state.get(link);
    if (s) this.#armAt(nowMs + s.sender.rtoMs, nowMs);
  }

  /** The packet carrying item `seq` was lost: send it again. */
  requeue(link: NativeLink, seq: number): boolean {
    const s = this.#state.get(link);
    if (!s?.sender.requeue(seq)) return false;
    this.#ctx.scheduleFlush(link.peer);
    return true;
  }

  /** A datagram carrying our delivery ack was lost: send the current one. */
  resendAck(link: NativeLink): void {
    if (this.#state.has(link)) link.path.wantDeliveryAck(this.#ctx.clock.monotonic());
  }

  /**
   * The current delivery ack for the peer (the send pump puts it in the next frame), or null.
   * Records the delivered floor (journal `deliveredThrough`); with inboxFsync and a journal the
   * ack covers only what that record made durable: beyond it, the ack is cut to the durable
   * floor (or withheld) and wanted again once the append resolves.
   */
  deliveryAck(link: NativeLink): ControlItem | null {
    const s = this.#state.get(link);
    const ack = s?.receiver.ack();
    if (!s || !ack) return null;
    const [stream, cum, ranges] = ack;
    const recorded = this.#recordDelivered(link, s, stream, cum);
    const hold = this.#ctx.journal !== null && this.#ctx.settings.inboxFsync && link.peer.keyString !== null;
    if (!hold || cum < 0) return { type: 'ack', stream, cum, ranges };
    recorded?.then(() => {
      if (this.#closed || this.#state.get(link) !== s) return;
      if (!s.durable || s.durable[0] !== stream || s.durable[1] < cum) s.durable = [stream, cum];
      link.path.wantDeliveryAck(this.#ctx.clock.monotonic());
    }, () => undefined);
    const d = s.durable;
    if (d && d[0] === stream && d[1] >= cum) return { type: 'ack', stream, cum, ranges };
    if (d && d[0] === stream) return { type: 'ack', stream, cum: d[1], ranges: [] }; // durable first
    return null;
  }

  /** The largest message the peer accepts, as it announced (null before its announcement). */
  peerMaxMessageBytes(link: NativeLink): number | null {
    return this.#limits.peerMax(link);
  }

  /** Every authenticated frame: the first one on a session makes us announce our maxMessageBytes on it (limits.ts). */
  announce(link: NativeLink, session: AnnouncedOn): void {
    this.#limits.announce(link, session);
  }

  /** The frame that carried our `limits` was lost: it rides on the next frame again. */
  reannounce(link: NativeLink): void {
    this.#limits.reannounce(link);
  }

  /** The `limits` item to add to a frame that goes to the peer anyway, once per announcement. */
  takeAnnouncement(link: NativeLink): readonly ControlItem[] {
    return this.#limits.take(link);
  }

  /**
   * Receive hook: acks for our sender, reliable items for our receiver (delivered in order).
   * `wallMs`: the receive path's wall-clock read for this datagram (the messages' receivedAt).
   */
  onFrame(link: NativeLink, frame: Frame, fromAddress: string, fromPort: number, wallMs = this.#ctx.clock.now()): void {
    const peer = link.peer;
    const controls = frame.c;
    for (let k = 0; k < controls.length; k++) { // indexed: no iterator per frame
      const c = controls[k]!;
      if (c.type === 'limits') {
        this.#limits.heard(link, c.maxMessageBytes);
        continue;
      }
      if (c.type !== 'ack') continue;
      const s = this.#state.get(link);
      if (!s) continue;
      s.sender.onAck(c.stream, c.cum, c.ranges);
      if (s.sender.hasWork()) this.#ctx.scheduleFlush(peer);
    }
    const r = frame.r;
    if (!r) return;
    const state = this.#of(link);
    const receiver = state.receiver;
    const stream = r[0];
    const base = r[1]; // not destructured: no iterator per frame
    if (fromPort !== state.fromPort || fromAddress !== state.fromAddress) {
      state.addr = formatEndpoint({ address: fromAddress, port: fromPort }); // once per source, not per frame
      state.fromAddress = fromAddress;
      state.fromPort = fromPort;
    }
    state.receivedAtMs = wallMs;
    const items = frame.p;
    for (let k = 0; k < items.length; k++) {
      const item = items[k]!;
      if ((item.flags & FLAG_RELIABLE) === 0) continue;
      const refusedBefore = receiver.refused + receiver.malformed;
      const overBefore = receiver.overCredit;
      receiver.onItem(stream, base, item.id!, item.flags, item.data, item.index, item.count); // delivers through `accept`
      const refused = receiver.refused + receiver.malformed - refusedBefore;
      if (refused > 0) this.#ctx.drop('rateLimited', peer, 'reliable item outside the receive window');
      if (receiver.overCredit > overBefore) this.#ctx.drop('flowControl', peer, 'reliable item beyond the flow-control credit granted');
    }
    this.#flow.noteWaiting(link, receiver);
    if (receiver.ackNeeded) this.#acks.schedule(link);
  }

  /**
   * Room was made (a reader attached, the inbox was read): delivers held messages, then acks
   * them; a peer whose credit grew enough gets a window update at once, even if nothing was held.
   */
  resume(): void {
    for (const [link, s] of this.#state) {
      if (s.receiver.held) {
        s.receivedAtMs = this.#ctx.clock.now(); // delivered now, from the buffer
        s.receiver.pump();
        if (s.receiver.ackNeeded) this.#acks.schedule(link);
        this.#flow.noteWaiting(link, s.receiver);
      }
      if (this.#flow.updateDue(link, s.receiver)) this.#ctx.scheduleFlush(link.peer);
    }
  }

  /** Records the peer's delivered floor when it rose (one record per ack round). */
  #recordDelivered(link: NativeLink, s: PeerReliable, epoch: number, cum: number): Promise<void> | null {
    const p = this.#records.recordDelivered(link.peer, s.recorded, epoch, cum);
    if (p) s.recorded = [epoch, cum];
    return p;
  }

  /**
   * Keeps the one timer at or before `at`. Cheap on the hot path (no scan of in-flight
   * items): an early wake-up just ticks and re-arms from the exact next deadlines.
   */
  #armAt(at: number, nowMs?: number): void {
    if (this.#closed || at >= this.#timerAtMs) return;
    this.#timer?.cancel();
    this.#timerAtMs = at;
    this.#timer = this.#ctx.scheduler.timeout(() => this.#onTimer(), Math.max(0, at - (nowMs ?? this.#ctx.clock.monotonic())));
  }

  /** Retransmission timeouts and message deadlines of every peer. */
  #onTimer(): void {
    this.#timer = null;
    this.#timerAtMs = Infinity;
    for (const [link, s] of this.#state) {
      s.sender.tick();
      if (s.sender.hasWork()) this.#ctx.scheduleFlush(link.peer);
      const next = s.sender.nextDeadline();
      if (next !== null) this.#armAt(next);
      const check = this.#flow.probe(link, s.sender);
      if (check !== null) this.#armAt(check);
    }
  }

  /**
   * Resolves once every reliable message settled (acknowledged or failed), or after `graceMs`
   * (close()/SIGTERM: in-flight messages get a bounded grace to be acknowledged).
   */
  settled(graceMs: number): Promise<void> {
    return this.#closed ? Promise.resolve() : this.#unsettled.settled(graceMs);
  }

  dropPeer(link: NativeLink, err: Error, unsentErr?: Error): void {
    this.#state.get(link)?.sender.failAll(err, unsentErr);
    this.#flow.forget(link);
    this.#state.delete(link);
    this.#acks.forget(link);
    this.#limits.forget(link);
  }

  /** `unsentErr`: for messages none of whose items was transmitted (see ReliableSender.failAll). */
  close(err: Error, unsentErr?: Error): void {
    this.#closed = true;
    for (const link of [...this.#state.keys()]) this.dropPeer(link, err, unsentErr);
    this.#acks.close();
    this.#timer?.cancel();
    this.#timer = null;
  }
}
