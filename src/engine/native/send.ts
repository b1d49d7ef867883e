/**
 * The send path, in the order a message flows:
 * message → compress (when it helps) → items (whole or fragments) → outbox of this turn
 * → flush at the end of the turn: pack items of one peer into as few frames as fit the MTU
 * → pad → encrypt with the peer's current session → socket.
 * Messages issued in one event-loop turn share datagrams (a microtask flush: no timer, no delay).
 */
import { COMPRESSION_MIN_BYTES, DATA_HEADER_BYTES, AEAD_TAG_BYTES } from '../../constants';
import { BadInputError, DeliveryError, UdpVaultError } from '../../errors';
import { compress } from '../../wire/compress';
import {
  encodeFrameInto,
  encodedFrameBytes,
  unpaddedFrameBytes,
  FLAG_COMPRESSED,
  FLAG_FRAGMENT,
  FRAME_FIXED_OVERHEAD_BYTES,
  itemOverheadBytes,
  itemBytes,
  controlBytes,
  MAX_ITEMS_PER_FRAME,
  type Frame,
  type PayloadItem,
} from '../../wire/frame';
import { paddedSize } from '../../wire/padding';
import { fragment } from '../../delivery/fragment';
import { PMTU_BASE_IPV4 } from '../../delivery/pmtu';
import { countSent, type NodeContext } from '../context';
import type { Settings } from '../../config/schema';
import type { Peer } from '../../peer/peer';
import type { OutMessage } from '../../peer/outbox';
import { stackless } from './stackless';
import type { NativeLink } from './link';
import type { FrameRef } from './packet-path';
import { probeLedger } from './probe-ledger';
import { releaseDatagram, takeDatagram } from './datagram-pool';

const SEAL_OVERHEAD_BYTES = DATA_HEADER_BYTES + AEAD_TAG_BYTES;
/** Worst-case item overhead of a fragment (chunks are below 64 KiB: a bin16 header at most). */
/**
 * Frame header bytes while packet numbers and the reliable base are below 2^32 (FRAME_FIXED_OVERHEAD_BYTES
 * less 4 bytes each for `n` and `r`'s base); the pump subtracts the difference beyond that.
 */
const FRAME_HEADER_BYTES = FRAME_FIXED_OVERHEAD_BYTES - 8;
/**
 * Fragment item overhead while ids are below 2^32 and index/count below 2^16 (array, flags, bin16
 * header, id, index, count). Larger ones (years away, or messages of > 65535 fragments) overrun
 * by at most 8 bytes, taken from the packet-ack reserve.
 */
const FRAGMENT_ITEM_OVERHEAD_BYTES = 1 + 1 + 3 + 5 + 3 + 3;

/**
 * Room kept in every frame for a piggybacked packet ack (a typical one, with credit, is 15–20
 * bytes): without it a full-size item would push every ack into a datagram of its own.
 */
export const PACKET_ACK_RESERVE_BYTES = 24;

/** Bytes of frame content (items + controls) that fit in one datagram to this peer, beside a packet ack. */
export function frameBudget(link: NativeLink): number {
  return link.path.maxDatagram - SEAL_OVERHEAD_BYTES - FRAME_HEADER_BYTES - PACKET_ACK_RESERVE_BYTES;
}

/** Largest chunk of message data per fragment item. */
export function fragmentChunkBytes(link: NativeLink): number {
  return frameBudget(link) - FRAGMENT_ITEM_OVERHEAD_BYTES;
}

/**
 * The smallest chunk any peer cuts (fragments cut at the IPv4 path MTU base, before its search
 * raised the size): a receive window counted in items must hold a largest message cut this small.
 */
export function baseFragmentChunkBytes(): number {
  return PMTU_BASE_IPV4 - SEAL_OVERHEAD_BYTES - FRAME_HEADER_BYTES - PACKET_ACK_RESERVE_BYTES - FRAGMENT_ITEM_OVERHEAD_BYTES;
}

/** Compresses when it makes the payload smaller; backs off on incompressible traffic (src/wire/compress-backoff.ts). */
export function maybeCompress(link: NativeLink, data: Uint8Array): [Uint8Array, number] {
  const { ctx, compression } = link;
  if (data.length < COMPRESSION_MIN_BYTES || ctx.settings.compressionLevel <= 0) return [data, 0];
  if (!compression.shouldTry()) return [data, 0];
  const z = compress(data, ctx.settings.compressionLevel);
  const smaller = z.length < data.length;
  compression.record(smaller);
  return smaller ? [z, FLAG_COMPRESSED] : [data, 0];
}

/** Turns one datagram-mode message into payload items (one item, or fragments). */
export function datagramItems(link: NativeLink, data: Uint8Array): PayloadItem[] {
  const { ctx } = link;
  if (data.length > ctx.settings.maxMessageBytes) {
    throw new BadInputError('ERR_TOO_LARGE', `message of ${data.length} bytes exceeds maxMessageBytes (${ctx.settings.maxMessageBytes})`);
  }
  const [body, flags] = maybeCompress(link, data);
  const whole: PayloadItem = { flags, data: body };
  if (itemOverheadBytes(whole) + body.length <= frameBudget(link)) return [whole];
  const id = link.nextMsgId();
  const chunks = fragment(body, fragmentChunkBytes(link));
  return chunks.map((c, index) => ({ flags: flags | FLAG_FRAGMENT, data: c, id, index, count: chunks.length }));
}

/** Settles the messages whose last item rode in one datagram, once the transport took it. */
function settleSent(ctx: NodeContext, peer: Peer, messages: readonly OutMessage[], err: Error | null): void {
  for (const m of messages) {
    if (err) {
      m.reject(stackless(() => new DeliveryError('ERR_PEER_UNREACHABLE', `message to peer ${peer.label()} not sent: the network refused the datagram (${(err as NodeJS.ErrnoException).code ?? 'error'})`)));
      continue;
    }
    peer.counters.messagesOut++;
    ctx.counters.messagesOut++;
    m.resolve();
  }
}

/**
 * Frame bytes to pad to (the datagram less the seal): the padding policy applied to the frame's
 * exact encoded length (`frameBytes`, padding empty), so a full datagram is not padded past what
 * it holds and a 1 KiB message lands in the bucket just above it (1120 bytes). Padding follows
 * the path's confirmed size; an item fragmented before a black-hole fallback may exceed it
 * (`oversize`: up to the interface maximum).
 */
function paddingTarget(link: NativeLink, frameBytes: number, oversize: boolean): number {
  const { ctx, peer, path } = link;
  const raw = SEAL_OVERHEAD_BYTES + frameBytes;
  const max = oversize ? Math.max(path.maxDatagram, Math.min(raw, ctx.maxDatagram[peer.endpoint.family])) : path.maxDatagram;
  const exact = Math.min(max, raw);
  let padded = paddedSize(exact, max, ctx.settings.padding);
  // The path MTU base is a bucket boundary too: a frame cut for the base (before the search
  // raised the size) is padded to the base, not to the larger confirmed size.
  const base = path.pmtu.base;
  if (ctx.settings.padding === 'bucket' && exact <= base && padded > base) padded = base;
  return padded - SEAL_OVERHEAD_BYTES;
}

/**
 * The frame encoded straight into the datagram's buffer after the data header and sealed there
 * in place (a pooled slot, datagram-pool.ts; no frame copy, no scratch area).
 */
function sealFrame(session: NonNullable<ReturnType<NativeLink['current']>>, frame: Frame, target: number, now: number, base: number): Uint8Array {
  const frameBytes = encodedFrameBytes(frame, target, base);
  const buf = takeDatagram(SEAL_OVERHEAD_BYTES + frameBytes);
  encodeFrameInto(frame, target, buf, DATA_HEADER_BYTES, base);
  session.sealInto(buf, frameBytes, now);
  return buf;
}

/**
 * Numbers, seals and sends one frame on the peer's session, and records it in the packet
 * space. `settles` are the messages whose last item is in this frame: they resolve when the
 * transport has handed the datagram over.
 */
function sendFrame(link: NativeLink, frame: Frame, _contentBytes: number, settles: OutMessage[], refs: FrameRef[], ackEliciting: boolean, exactBytes = 0, oversize = false, onHanded?: (err: Error | null) => void): number {
  const { ctx, peer } = link;
  const now = ctx.clock.monotonic();
  const session = link.current(now);
  if (!session) {
    for (const m of settles) m.reject(stackless(() => new DeliveryError('ERR_PEER_UNREACHABLE', `message to peer ${peer.label()} not sent: its session ended`)));
    return -1;
  }
  const space = link.path.space;
  frame.t = ctx.clock.now() + session.timeBiasMs; // the clock the peer measured at the handshake
  frame.n = space.loss.nextPacketNumber;
  frame.i = link.instance;
  const base = unpaddedFrameBytes(frame); // computed once: padding target and encoder share it
  const target = exactBytes > 0 ? exactBytes - SEAL_OVERHEAD_BYTES : paddingTarget(link, encodedFrameBytes(frame, 0, base), oversize);
  const datagram = sealFrame(session, frame, ctx.settings.padding === 'none' && exactBytes === 0 ? 0 : target, now, base);
  const bytes = datagram.length;
  // The slot goes back to the pool once the transport is done with the bytes.
  const done = (err: Error | null): void => {
    releaseDatagram(datagram);
    if (settles.length > 0) settleSent(ctx, peer, settles, err);
    onHanded?.(err);
  };
  let handed: boolean;
  try {
    handed = ctx.transport.send(datagram, peer.endpoint.port, peer.endpoint.address, peer.endpoint.family, done);
  } catch (e) {
    releaseDatagram(datagram);
    settleSent(ctx, peer, settles, e instanceof Error ? e : new Error('send failed'));
    return -1;
  }
  if (!handed) {
    releaseDatagram(datagram);
    for (const m of settles) m.reject(stackless(() => new DeliveryError('ERR_PEER_UNREACHABLE', `peer ${peer.label()}: no IPv${peer.endpoint.family} socket to send from`)));
    return -1;
  }
  const pn = space.onDatagramSent(now, bytes, ackEliciting, refs);
  link.path.onSent(bytes);
  countSent(ctx, peer, bytes);
  link.timers.packetSent(now, frame.p.length > 0 || frame.c.some((c) => c.type === 'keepalive'), ctx.settings);
  return pn;
}

/** An empty frame: answers a peer that expects one (liveness) without asking for an answer itself. */
export function sendEmptyFrame(link: NativeLink): void {
  const c = link.engine.reliable.takeAnnouncement(link); // our maxMessageBytes rides along (PROTOCOL §7.3)
  const refs: FrameRef[] = c.length > 0 ? [{ kind: 'limits' }] : [];
  sendFrame(link, { t: 0, n: 0, i: 0, p: [], c }, c.reduce((n, x) => n + controlBytes(x), 0), [], refs, refs.length > 0);
}

/** Without a session: this turn's messages go to the bounded pre-session queue. */
function queueForSession(link: NativeLink): void {
  const { ctx, peer } = link;
  const limits = { maxMessages: ctx.settings.queueMaxMessages, maxBytes: ctx.settings.queueMaxBytes };
  for (const m of link.outbox.batchToQueue(limits)) {
    m.reject(stackless(() => new UdpVaultError('ERR_QUEUE_FULL', `queue for peer ${peer.label()} is full (no session yet); message not sent`)));
  }
}

/** This turn's (and the pre-session queue's) datagram-mode messages wait for the window, each ≤ datagramWindowWaitMs. */
function admitDatagrams(link: NativeLink, now: number): void {
  const { ctx, peer, path } = link;
  const deadline = now + ctx.settings.datagramWindowWaitMs;
  for (const m of link.outbox.takeAll()) {
    if (!path.waiting.push(m, m.bytes, deadline)) {
      m.reject(stackless(() => new UdpVaultError('ERR_QUEUE_FULL', `queue for peer ${peer.label()} is full (waiting for the congestion window); message not sent`)));
    }
  }
}

/** The current delivery ack, if one is wanted (it is fetched fresh: the latest state, never a stale copy). */
function addDeliveryAck(link: NativeLink, frame: Frame, refs: FrameRef[]): void {
  if (!link.path.deliveryAckWanted) return;
  link.path.deliveryAckSent();
  const c = link.engine.reliable.deliveryAck(link);
  if (!c) return;
  frame.c.push(c);
  refs.push({ kind: 'deliveryAck' });
}

/**
 * DPLPMTUD (RFC 8899): while the search wants probes and the window has room, keepalive frames
 * padded to exactly the probe sizes. The peer acknowledges them like any ack-eliciting packet;
 * here they are not in flight and their loss is no congestion signal (PmtuSearch times them
 * out). With the kernel's fragment counter, each probe's send is bracketed by the node's
 * ProbeLedger (one bracket open at a time, node-wide): the next probe waits for this one's send
 * callback (PacketPath.probeHanded asks for it). Without one, the round goes at once.
 */
function probePathMtu(link: NativeLink, now: number): void {
  const { ctx, peer, path } = link;
  const pmtu = path.pmtu;
  const family = peer.endpoint.family;
  const ledger = probeLedger(ctx);
  for (;;) {
    const size = pmtu.nextProbeSize(now);
    if (size === null || path.amplificationRoom() < size) return;
    const delay = path.space.sendDelay(now, size);
    if (delay !== 0) {
      // Held by the pacer (its quantum is 2 datagrams): come back when it has room, or the search stalls.
      if (delay < Infinity) path.arm(now, now + delay);
      return;
    }
    const before = ledger?.open(family, peer, () => ctx.scheduleFlush(peer));
    if (before === null) return; // another probe of this node is being handed over
    const frame: Frame = { t: 0, n: 0, i: 0, p: [], c: [{ type: 'keepalive' }] };
    let pn = -1;
    const handed = before === undefined ? undefined : (err: Error | null): void => path.probeHanded(pmtu, pn, ledger!.close(family), err);
    pn = sendFrame(link, frame, 2, [], [], false, size, false, handed);
    if (pn < 0) {
      if (handed) ledger!.close(family); // never handed over: the bracket closes now
      return;
    }
    pmtu.onProbeSent(pn, size, now, now + path.probeTimeoutMs(), before);
    if (handed) return;
    pmtu.onProbeHanded(pn, undefined, now); // unmeasured: handed over as far as the search is concerned
  }
}

/** Room needed for an ack-only datagram (with a delivery ack) to an address that has not answered yet. */
const SMALL_ACK_DATAGRAM_BYTES = 128;

/** The largest datagram size n ≤ max whose padded size fits in `room` bytes (0 if none). */
function largestFitting(room: number, max: number, policy: Settings['padding']): number {
  if (room >= max) return max;
  let lo = 0;
  let hi = Math.floor(room);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (paddedSize(mid, max, policy) <= room) lo = mid;
    else hi = mid - 1;
  }
  return paddedSize(lo, max, policy) <= room ? lo : 0;
}

const itemSize = (item: PayloadItem): number => itemBytes(item);

/**
 * Sends what the window, the pacer and the session allow (docs/CONGESTION.md §6.2): controls,
 * the rest of a started datagram-mode message, then datagram-mode and reliable items
 * alternating frame by frame, packed greedily; a packet ack rides along when one is pending,
 * or goes alone when due. Returns false when there is no session (the caller handshakes).
 * `draining` (the node is closing): what was accepted goes now, window and pacer aside — a
 * last burst bounded by the queue limits — since nothing will be sent after it.
 */
export function pumpLink(link: NativeLink, draining = false): boolean {
  const { ctx, peer, path } = link;
  if (!link.current()) {
    queueForSession(link);
    return false;
  }
  const now = ctx.clock.monotonic();
  admitDatagrams(link, now);
  const space = path.space;
  const sender = link.engine.reliable.senderOf(link);
  // Path MTU probes first: the search must not wait for a bulk transfer to leave room.
  if (!draining) probePathMtu(link, now);
  const budget = frameBudget(link) + PACKET_ACK_RESERVE_BYTES;
  const max = path.maxDatagram;
  /** An item fragmented for a larger path size before a fallback still goes, alone in its frame. */
  const interfaceBudget = ctx.maxDatagram[peer.endpoint.family] - SEAL_OVERHEAD_BYTES - FRAME_FIXED_OVERHEAD_BYTES;
  /** Header bytes beyond FRAME_HEADER_BYTES once numbers pass 2^32. */
  const headerExtra = (): number => (space.loss.nextPacketNumber >= 2 ** 32 ? 4 : 0) + ((sender?.base ?? 0) >= 2 ** 32 ? 4 : 0);
  let reliableFirst = false;
  for (;;) {
    let controls = link.outbox.takeControls();
    const data = path.hasDatagrams || (sender?.hasWork() ?? false);
    let work = controls.length > 0 || data || path.deliveryAckDue(now);
    if (!work && space.probesPending > 0) {
      // A PTO asked for probes: the oldest unacknowledged data again, else a keepalive.
      if (!path.requeueOldest()) controls = [{ type: 'keepalive' }];
      work = true;
    }
    if (!work) break;
    // A new address that has not answered yet: only frames whose padded size fits the room.
    const room = path.amplificationRoom();
    const cap = room >= max ? max : largestFitting(room, max, ctx.settings.padding);
    if (cap < SEAL_OVERHEAD_BYTES + FRAME_HEADER_BYTES + 8) {
      for (const c of controls) link.outbox.pushControl(c);
      path.amplificationLimitedBytes += max;
      break;
    }
    if (room < Infinity && path.takeValidationProbe(space.probesPending > 0)) controls.push({ type: 'keepalive' });
    const delay = draining ? 0 : space.sendDelay(now, max);
    if (delay > 0) {
      for (const c of controls) link.outbox.pushControl(c);
      path.arm(now, now + delay);
      break;
    }
    // Our maxMessageBytes rides on a frame that goes anyway (never a datagram of its own).
    const announce = link.engine.reliable.takeAnnouncement(link);
    const frame: Frame = { t: 0, n: 0, i: 0, p: [], c: [...controls, ...announce] };
    const refs: FrameRef[] = announce.length > 0 ? [{ kind: 'limits' }] : [];
    addDeliveryAck(link, frame, refs);
    let used = frame.c.reduce((n, c) => n + controlBytes(c), 0);
    const largest = space.acks.largest;
    const ack = space.ackToSend(now, true);
    if (ack) {
      frame.c.push({ type: 'packetAck', ack });
      used += controlBytes(frame.c[frame.c.length - 1]!);
      refs.push({ kind: 'packetAck', largest });
    }
    const settles: OutMessage[] = [];
    const frameBudgetNow = (cap < max ? cap - SEAL_OVERHEAD_BYTES - FRAME_HEADER_BYTES : budget) - headerExtra();
    let oversize = false;
    const fits = (size: number): boolean => {
      if (used + size <= frameBudgetNow && frame.p.length < MAX_ITEMS_PER_FRAME) return true;
      // An item cut for a larger path size before a black-hole fallback: alone, at its size.
      oversize = frame.p.length === 0 && cap >= max && size > budget && used + size <= interfaceBudget;
      return oversize;
    };
    const addDatagram = (): boolean => {
      let cur = path.current;
      if (!cur) {
        const next = path.waiting.peek();
        if (!next) return false;
        if (!fits(itemSize(next.item.items[0]!))) return false;
        path.waiting.shift();
        cur = path.current = { m: next.item, next: 0 };
      }
      const item = cur.m.items[cur.next]!;
      if (!fits(itemSize(item))) return false;
      frame.p.push(item);
      used += itemSize(item);
      if (++cur.next === cur.m.items.length) {
        settles.push(cur.m);
        path.current = null;
      }
      return true;
    };
    const addReliable = (): boolean => {
      // The sender builds the frame item once (peekItem) and hands out that object (takeItem).
      const item = sender?.peekItem() ?? null;
      if (item === null) return false;
      const size = itemSize(item);
      if (!fits(size)) return false;
      sender!.takeItem();
      frame.p.push(item);
      used += size;
      refs.push({ kind: 'reliable', seq: item.id! });
      return true;
    };
    const [first, second] = reliableFirst ? [addReliable, addDatagram] : [addDatagram, addReliable];
    while (first() || second());
    reliableFirst = !reliableFirst;
    if (sender && refs.some((r) => r.kind === 'reliable')) {
      frame.r = [sender.stream, sender.base];
      link.engine.reliable.sent(link);
    }
    const eliciting = frame.p.length > 0 || frame.c.some((c) => c.type !== 'packetAck');
    if (!eliciting && frame.c.length === 0) break; // nothing fits an empty frame (items are sized below the budget)
    // A full-size item did not fit beside the piggybacked ack: the ack goes alone, the item next.
    sendFrame(link, frame, used, settles, eliciting ? refs : [], eliciting, 0, oversize);
  }
  const ack = largestFitting(path.amplificationRoom(), max, ctx.settings.padding) >= SMALL_ACK_DATAGRAM_BYTES ? space.ackToSend(now) : null;
  if (ack) {
    // A due packet ack goes now; a wanted delivery ack rides with it (then it is ack-eliciting).
    // Our limits rides on it too (then it is ack-eliciting; lost, it rides again).
    const announce = link.engine.reliable.takeAnnouncement(link);
    const frame: Frame = { t: 0, n: 0, i: 0, p: [], c: [...announce] };
    const refs: FrameRef[] = announce.length > 0 ? [{ kind: 'limits' }] : [];
    addDeliveryAck(link, frame, refs);
    frame.c.push({ type: 'packetAck', ack });
    sendFrame(link, frame, frame.c.reduce((n, c) => n + controlBytes(c), 0), [], refs, refs.length > 0);
  }
  path.arm(now);
  return true;
}
