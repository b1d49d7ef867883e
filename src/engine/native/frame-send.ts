/**
 * One frame out to the peer: numbered, padded, encoded straight into a pooled datagram buffer,
 * sealed there in place, handed to the transport and recorded in the packet space. The
 * transport's callback gives the buffer back to the pool and settles the messages whose last
 * item rode in it.
 */
import { DATA_HEADER_BYTES, AEAD_TAG_BYTES } from '../../constants';
import { DeliveryError } from '../../errors';
import { encodeFrameInto, encodedFrameBytes, unpaddedFrameBytes, FRAME_FIXED_OVERHEAD_BYTES, type Frame } from '../../wire/frame';
import { paddedSize } from '../../wire/padding';
import { countSent } from '../context';
import type { Session } from '../../crypto/session';
import type { OutMessage } from '../../peer/outbox';
import { stackless } from './stackless';
import type { NativeLink } from './link';
import type { FrameRef } from './frame-ref';
import { releaseDatagram, takeDatagram } from './datagram-pool';
import { handOverCallback, networkRefused } from './hand-over';
import { wallAt } from './wall-clock';

export const SEAL_OVERHEAD_BYTES = DATA_HEADER_BYTES + AEAD_TAG_BYTES;
/**
 * Frame header bytes while packet numbers and the reliable base are below 2^32 (FRAME_FIXED_OVERHEAD_BYTES
 * less 4 bytes each for `n` and `r`'s base); the pump subtracts the difference beyond that.
 */
export const FRAME_HEADER_BYTES = FRAME_FIXED_OVERHEAD_BYTES - 8;

/**
 * Room kept in every frame for a piggybacked packet ack (a typical one, with credit, is 15–20
 * bytes): without it a full-size item would push every ack into a datagram of its own.
 */
export const PACKET_ACK_RESERVE_BYTES = 24;

/** Frame references of a datagram that carries nothing to settle or requeue (shared, never written). */
export const NO_REFS: FrameRef[] = Object.freeze([]) as unknown as FrameRef[];

/** No messages to settle (shared, never written). */
const NO_SETTLES: readonly OutMessage[] = Object.freeze([]);

/** Bytes of frame content (items + controls) that fit in one datagram to this peer, beside a packet ack. */
export function frameBudget(link: NativeLink): number {
  return link.path.maxDatagram - SEAL_OVERHEAD_BYTES - FRAME_HEADER_BYTES - PACKET_ACK_RESERVE_BYTES;
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
function sealFrame(session: Session, frame: Frame, target: number, now: number, base: number): Uint8Array {
  const frameBytes = encodedFrameBytes(frame, target, base);
  const buf = takeDatagram(SEAL_OVERHEAD_BYTES + frameBytes);
  encodeFrameInto(frame, target, buf, DATA_HEADER_BYTES, base);
  session.sealInto(buf, frameBytes, now);
  return buf;
}

/** Whether a frame keeps the peer's liveness timers going (data or a keepalive). */
function carriesLiveness(frame: Frame): boolean {
  if (frame.p.length > 0) return true;
  for (const c of frame.c) if (c.type === 'keepalive') return true;
  return false;
}

/**
 * Numbers the frame (time, packet number, instance), pads, encodes and seals it into a pooled
 * datagram buffer (sealFrame).
 */
function numberAndSeal(link: NativeLink, session: Session, frame: Frame, now: number, exactBytes: number, oversize: boolean): Uint8Array {
  const ctx = link.ctx;
  // The wall clock from the caller's monotonic read (wall-clock.ts: on the system clock re-read
  // once the monotonic clock moved 1 ms, as the receive path does; the peer judges it within
  // its freshness window, seconds), offset by the bias the peer measured at the handshake.
  frame.t = wallAt(ctx.clock, now) + session.timeBiasMs;
  frame.n = link.path.space.nextPacketNumber; // without waking a resting space (idle15)
  frame.i = link.instance;
  const base = unpaddedFrameBytes(frame); // computed once: padding target and encoder share it
  const target = exactBytes > 0 ? exactBytes - SEAL_OVERHEAD_BYTES : paddingTarget(link, encodedFrameBytes(frame, 0, base), oversize);
  return sealFrame(session, frame, ctx.settings.padding === 'none' && exactBytes === 0 ? 0 : target, now, base);
}

/**
 * Hands a sealed datagram to the transport (`done` runs once it is done with the bytes): null,
 * or the error for the messages it carried when it could not go (the slot is back in the pool).
 */
function handOver(link: NativeLink, datagram: Uint8Array, done: (err: Error | null) => void): DeliveryError | null {
  const { ctx, peer } = link;
  let handed: boolean;
  try {
    handed = ctx.transport.send(datagram, peer.endpoint.port, peer.endpoint.address, peer.endpoint.family, done);
  } catch (e) {
    releaseDatagram(datagram);
    return networkRefused(peer, e instanceof Error ? e : new Error('send failed'));
  }
  if (handed) return null;
  releaseDatagram(datagram);
  return stackless(() => new DeliveryError('ERR_PEER_UNREACHABLE', `peer ${peer.label()}: no IPv${peer.endpoint.family} socket to send from`));
}

/** Records a datagram handed over: packet space (its number), address validation, counters, liveness timers. */
function recordSent(link: NativeLink, frame: Frame, now: number, bytes: number, ackEliciting: boolean, refs: FrameRef[]): number {
  const { ctx, peer } = link;
  const pn = link.path.space.onDatagramSent(now, bytes, ackEliciting, refs);
  link.path.onSent(bytes);
  countSent(ctx, peer, bytes);
  link.timers.packetSent(now, carriesLiveness(frame), ctx.settings);
  return pn;
}

/**
 * Numbers, seals and sends one frame on the peer's session, and records it in the packet
 * space. `settles` are the messages whose last item is in this frame: they resolve when the
 * transport has handed the datagram over (the array is kept until then).
 * `refs` is kept by the packet space (NO_REFS when empty). Returns the packet number, or -1.
 */
export function sendFrame(link: NativeLink, frame: Frame, settles: readonly OutMessage[], refs: FrameRef[], ackEliciting: boolean, exactBytes = 0, oversize = false, onHanded?: (err: Error | null) => void): number {
  const { ctx, peer } = link;
  const now = ctx.clock.monotonic();
  const session = link.current(now);
  if (!session) {
    for (const m of settles) m.reject(stackless(() => new DeliveryError('ERR_PEER_UNREACHABLE', `message to peer ${peer.label()} not sent: its session ended`)));
    return -1;
  }
  const datagram = numberAndSeal(link, session, frame, now, exactBytes, oversize);
  // The slot goes back to the pool once the transport is done with the bytes (hand-over.ts).
  const refused = handOver(link, datagram, handOverCallback(link, datagram, settles, onHanded ?? null));
  if (refused !== null) {
    for (const m of settles) m.reject(refused);
    return -1;
  }
  return recordSent(link, frame, now, datagram.length, ackEliciting, refs);
}

/**
 * sendFrame for a frame that carries one whole message (the express path, express.ts): on the
 * session and at the time the caller checked, settling that one message by its resolving
 * functions (no queue entry, no settles array). Returns the packet number, or -1 (rejected).
 */
export function sendMessageFrame(link: NativeLink, session: Session, now: number, frame: Frame, refs: FrameRef[], resolve: () => void, reject: (e: Error) => void): number {
  const datagram = numberAndSeal(link, session, frame, now, 0, false);
  const refused = handOver(link, datagram, handOverCallback(link, datagram, NO_SETTLES, null, resolve, reject));
  if (refused !== null) {
    reject(refused);
    return -1;
  }
  return recordSent(link, frame, now, datagram.length, true, refs);
}

/** An empty frame: answers a peer that expects one (liveness) without asking for an answer itself. */
export function sendEmptyFrame(link: NativeLink): void {
  const c = link.engine.reliable.takeAnnouncement(link); // our maxMessageBytes rides along (PROTOCOL §7.3)
  const refs: FrameRef[] = c.length > 0 ? [{ kind: 'limits' }] : NO_REFS;
  sendFrame(link, { t: 0, n: 0, i: 0, p: [], c: [...c] }, [], refs, refs.length > 0);
}
