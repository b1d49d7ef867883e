/**
 * Reliable mode for every peer: a ReliableSender/ReliableReceiver pair per peer (pure state
 * machines in delivery/), the one timer (message deadlines, backstop RTO), and delivery acks
 * batched per I/O phase. The send pump (send.ts) takes items under the congestion window;
 * packet-level loss detection (packet-path.ts) requeues the items of lost packets.
 */
import { DeliveryError, UdpVaultError } from '../../errors';
import { ReliableSender } from '../../delivery/reliable-sender';
import { ReliableReceiver } from '../../delivery/reliable-receiver';
import { fragment, maxFragments } from '../../delivery/fragment';
import { FLAG_RELIABLE, itemOverheadBytes, type ControlItem, type Frame } from '../../wire/frame';
import type { Datagram } from '../../net/transport';
import type { Timer } from '../../runtime/scheduler';
import type { NodeContext } from '../context';
import type { NativeLink } from './link';
import { deliver } from './receive';
import { fragmentChunkBytes, frameBudget, maybeCompress } from './send';
import { formatEndpoint } from '../../peer/endpoint';

interface PeerReliable {
  sender: ReliableSender;
  receiver: ReliableReceiver;
}

export class ReliableDelivery {
  #ctx: NodeContext;
  #state = new Map<NativeLink, PeerReliable>();
  /** This node's stream id: new on every start, so a restarted sender is never taken for a duplicate. */
  #stream: number;
  #timer: Timer | null = null;
  #timerAtMs = Infinity;
  #ackPeers = new Set<NativeLink>();
  #ackScheduled = false;
  /** Immediates not yet run (cancelled on close). */
  #immediates = new Set<Timer>();
  #closed = false;

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#stream = ctx.random.int(1, 0xffffffff);
  }

  #of(link: NativeLink): PeerReliable {
    let s = this.#state.get(link);
    if (!s) {
      const { settings, clock } = this.#ctx;
      const window = Math.max(settings.reliableWindow, maxFragments(settings.maxMessageBytes, fragmentChunkBytes(link)));
      s = {
        sender: new ReliableSender({ clock, stream: this.#stream, window, packetLoss: true }),
        receiver: new ReliableReceiver({ maxBufferedItems: window, maxBufferedBytes: settings.reassemblyPeerBytes, maxMessageBytes: settings.maxMessageBytes }),
      };
      this.#state.set(link, s);
    }
    return s;
  }

  /** This node instance's reliable stream id (random per start; also the frame's instance id `i`). */
  get stream(): number {
    return this.#stream;
  }

  /** Queues one reliable message; resolves when the peer acknowledged delivering it. */
  send(link: NativeLink, data: Uint8Array, timeoutMs: number): Promise<void> {
    const peer = link.peer;
    const { sender } = this.#of(link);
    const [body, flags] = maybeCompress(link, data);
    const single = itemOverheadBytes({ flags, data: body, id: Number.MAX_SAFE_INTEGER }) + body.length <= frameBudget(link);
    const chunks = single ? [body] : fragment(body, fragmentChunkBytes(link));
    const deadline = this.#ctx.clock.monotonic() + timeoutMs;
    const done = sender.push(chunks, flags, deadline);
    peer.counters.messagesOut++;
    this.#ctx.counters.messagesOut++;
    this.#ctx.scheduleFlush(peer);
    this.#armAt(deadline);
    return done.catch((e: unknown) => {
      if (e instanceof UdpVaultError && e.code === 'ERR_NOT_ACKNOWLEDGED') {
        throw new DeliveryError(e.code, `reliable message to peer ${peer.label()}: not acknowledged within ${timeoutMs} ms`);
      }
      if (e instanceof UdpVaultError) throw new DeliveryError(e.code, `reliable message to peer ${peer.label()}: ${e.message}`);
      throw e;
    });
  }

  /** The peer's sender, if reliable messages were ever sent to it. */
  senderOf(link: NativeLink): ReliableSender | null {
    return this.#state.get(link)?.sender ?? null;
  }

  /** Items were just transmitted: the backstop timer must cover them. */
  sent(link: NativeLink): void {
    const s = this.#state.get(link);
    if (s) this.#armAt(this.#ctx.clock.monotonic() + s.sender.rtoMs);
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

  /** The current delivery ack for the peer (the send pump puts it in the next frame), or null. */
  deliveryAck(link: NativeLink): ControlItem | null {
    const ack = this.#state.get(link)?.receiver.ack();
    return ack ? { type: 'ack', stream: ack[0], cum: ack[1], ranges: ack[2] } : null;
  }

  /** Receive hook: acks for our sender, reliable items for our receiver (delivered in order). */
  onFrame(link: NativeLink, frame: Frame, from: Datagram): void {
    const peer = link.peer;
    for (const c of frame.c) {
      if (c.type !== 'ack') continue;
      const s = this.#state.get(link);
      if (!s) continue;
      s.sender.onAck(c.stream, c.cum, c.ranges);
      if (s.sender.hasWork()) this.#ctx.scheduleFlush(peer);
    }
    if (!frame.r) return;
    const { receiver } = this.#of(link);
    const [stream, base] = frame.r;
    const addr = formatEndpoint(from);
    for (const item of frame.p) {
      if ((item.flags & FLAG_RELIABLE) === 0) continue;
      const refusedBefore = receiver.refused + receiver.malformed;
      for (const m of receiver.onItem(stream, base, item.id!, item.flags, item.data, item.index, item.count)) {
        deliver(this.#ctx, peer, addr, m.flags, m.data, true);
      }
      const refused = receiver.refused + receiver.malformed - refusedBefore;
      if (refused > 0) this.#ctx.drop('rateLimited', peer, 'reliable item outside the receive window');
    }
    if (receiver.ackNeeded) this.#scheduleAck(link);
  }

  /** Acks go out once per I/O phase (setImmediate), covering every datagram read in it. */
  #scheduleAck(link: NativeLink): void {
    this.#ackPeers.add(link);
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    this.#later(() => {
      this.#ackScheduled = false;
      const now = this.#ctx.clock.monotonic();
      for (const p of this.#ackPeers) if (this.#state.has(p)) p.path.wantDeliveryAck(now);
      this.#ackPeers.clear();
    });
  }

  /** Runs fn after the current I/O phase, unless closed first. */
  #later(fn: () => void): void {
    if (this.#closed) return;
    const t = this.#ctx.scheduler.immediate(() => {
      this.#immediates.delete(t);
      fn();
    });
    this.#immediates.add(t);
  }

  /**
   * Keeps the one timer at or before `at`. Cheap on the hot path (no scan of in-flight
   * items): an early wake-up just ticks and re-arms from the exact next deadlines.
   */
  #armAt(at: number): void {
    if (this.#closed || at >= this.#timerAtMs) return;
    this.#timer?.cancel();
    this.#timerAtMs = at;
    this.#timer = this.#ctx.scheduler.timeout(() => this.#onTimer(), Math.max(0, at - this.#ctx.clock.monotonic()));
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
    }
  }

  dropPeer(link: NativeLink, err: Error): void {
    this.#state.get(link)?.sender.failAll(err);
    this.#state.delete(link);
    this.#ackPeers.delete(link);
  }

  close(err: Error): void {
    this.#closed = true;
    for (const link of [...this.#state.keys()]) this.dropPeer(link, err);
    for (const t of this.#immediates) t.cancel();
    this.#immediates.clear();
    this.#timer?.cancel();
    this.#timer = null;
  }
}
