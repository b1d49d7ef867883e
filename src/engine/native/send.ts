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
  encodeFrame,
  FLAG_COMPRESSED,
  FLAG_FRAGMENT,
  FRAME_FIXED_OVERHEAD_BYTES,
  itemOverheadBytes,
  controlBytes,
  MAX_ITEMS_PER_FRAME,
  type ControlItem,
  type Frame,
  type PayloadItem,
} from '../../wire/frame';
import { paddedSize } from '../../wire/padding';
import { fragment } from '../../delivery/fragment';
import { countSent, type NodeContext } from '../context';
import type { Peer } from '../../peer/peer';
import type { OutMessage } from '../../peer/outbox';
import type { NativeLink } from './link';

const SEAL_OVERHEAD_BYTES = DATA_HEADER_BYTES + AEAD_TAG_BYTES;
/** Frames are encoded here and copied straight into the cipher (no allocation per datagram). */
const FRAME_SCRATCH = new Uint8Array(65536);
/** Worst-case item overhead of a fragment (chunks are below 64 KiB: a bin16 header at most). */
const FRAGMENT_ITEM_OVERHEAD_BYTES = itemOverheadBytes({ flags: 0, data: new Uint8Array(0x100), id: 0, index: 0, count: 1 });

/** Bytes of frame content (items + controls) that fit in one datagram to this peer. */
export function frameBudget(ctx: NodeContext, peer: Peer): number {
  return ctx.maxDatagram[peer.endpoint.family] - SEAL_OVERHEAD_BYTES - FRAME_FIXED_OVERHEAD_BYTES;
}

/** Largest chunk of message data per fragment item. */
export function fragmentChunkBytes(ctx: NodeContext, peer: Peer): number {
  return frameBudget(ctx, peer) - FRAGMENT_ITEM_OVERHEAD_BYTES;
}

/** Compresses when it makes the payload smaller; backs off on incompressible traffic. */
export function maybeCompress(link: NativeLink, data: Uint8Array): [Uint8Array, number] {
  const { ctx, compression } = link;
  if (data.length < COMPRESSION_MIN_BYTES || ctx.settings.compressionLevel <= 0) return [data, 0];
  if (compression.skip > 0) {
    compression.skip--;
    return [data, 0];
  }
  const z = compress(data, ctx.settings.compressionLevel);
  if (z.length < data.length) return [z, FLAG_COMPRESSED];
  compression.skip = 16;
  return [data, 0];
}

/** Turns one datagram-mode message into payload items (one item, or fragments). */
export function datagramItems(link: NativeLink, data: Uint8Array): PayloadItem[] {
  const { ctx, peer } = link;
  if (data.length > ctx.settings.maxMessageBytes) {
    throw new BadInputError('ERR_TOO_LARGE', `message of ${data.length} bytes exceeds maxMessageBytes (${ctx.settings.maxMessageBytes})`);
  }
  const [body, flags] = maybeCompress(link, data);
  const whole: PayloadItem = { flags, data: body };
  if (itemOverheadBytes(whole) + body.length <= frameBudget(ctx, peer)) return [whole];
  const id = link.nextMsgId();
  const chunks = fragment(body, fragmentChunkBytes(ctx, peer));
  return chunks.map((c, index) => ({ flags: flags | FLAG_FRAGMENT, data: c, id, index, count: chunks.length }));
}

/** Settles the messages whose last item rode in one datagram, once the transport took it. */
function settleSent(ctx: NodeContext, peer: Peer, messages: readonly OutMessage[], err: Error | null): void {
  for (const m of messages) {
    if (err) {
      m.reject(new DeliveryError('ERR_PEER_UNREACHABLE', `message to peer ${peer.label()} not sent: the network refused the datagram (${(err as NodeJS.ErrnoException).code ?? 'error'})`));
      continue;
    }
    peer.counters.messagesOut++;
    ctx.counters.messagesOut++;
    m.resolve();
  }
}

/**
 * Seals and sends one frame on the peer's session. `settles` are the messages whose last item
 * is in this frame: they resolve when the transport has handed the datagram over.
 */
function sendFrame(link: NativeLink, frame: Frame, contentBytes: number, settles: OutMessage[]): void {
  const { ctx, peer } = link;
  const now = ctx.clock.monotonic();
  const session = link.current(now);
  if (!session) {
    for (const m of settles) m.reject(new DeliveryError('ERR_PEER_UNREACHABLE', `message to peer ${peer.label()} not sent: its session ended`));
    return;
  }
  const max = ctx.maxDatagram[peer.endpoint.family];
  const estimate = Math.min(max, SEAL_OVERHEAD_BYTES + FRAME_FIXED_OVERHEAD_BYTES + contentBytes);
  const target = paddedSize(estimate, max, ctx.settings.padding) - SEAL_OVERHEAD_BYTES;
  frame.t = ctx.clock.now() + session.timeBiasMs; // the clock the peer measured at the handshake
  const datagram = session.seal(encodeFrame(frame, ctx.settings.padding === 'none' ? 0 : target, FRAME_SCRATCH), now);
  const bytes = datagram.length;
  const done = settles.length > 0 ? (err: Error | null) => settleSent(ctx, peer, settles, err) : undefined;
  let handed: boolean;
  try {
    handed = ctx.transport.send(datagram, peer.endpoint.port, peer.endpoint.address, peer.endpoint.family, done);
  } catch (e) {
    settleSent(ctx, peer, settles, e instanceof Error ? e : new Error('send failed'));
    return;
  }
  if (!handed) {
    for (const m of settles) m.reject(new DeliveryError('ERR_PEER_UNREACHABLE', `peer ${peer.label()}: no IPv${peer.endpoint.family} socket to send from`));
    return;
  }
  countSent(ctx, peer, bytes);
  link.timers.packetSent(now, frame.p.length > 0 || frame.c.some((c) => c.type === 'keepalive'), ctx.settings);
}

/** An empty frame: answers a peer that expects one (liveness) without asking for an answer itself. */
export function sendEmptyFrame(link: NativeLink): void {
  sendFrame(link, { t: 0, p: [], c: [] }, 0, []);
}

/**
 * Sends everything waiting for this peer: pending controls, then the items of the queued
 * and this turn's messages, packed greedily into frames. Without a usable session the
 * messages go to the bounded queue and the caller starts a handshake. Each message resolves
 * when the datagram carrying its last item was handed over (datagrams go out in order).
 */
export function flushLink(link: NativeLink, controls: ControlItem[], extra: PayloadItem[] = [], r?: [number, number]): boolean {
  const { ctx, peer } = link;
  if (!link.current()) {
    const limits = { maxMessages: ctx.settings.queueMaxMessages, maxBytes: ctx.settings.queueMaxBytes };
    for (const m of link.outbox.batchToQueue(limits)) {
      m.reject(new UdpVaultError('ERR_QUEUE_FULL', `queue for peer ${peer.label()} is full (no session yet); message not sent`));
    }
    return false;
  }
  const messages = link.outbox.takeAll();
  const budget = frameBudget(ctx, peer);
  let frame: Frame = { t: 0, p: [], c: controls };
  let used = controls.reduce((n, c) => n + controlBytes(c), 0);
  let settles: OutMessage[] = [];
  if (r) frame.r = r;
  const send = (): void => {
    const s = settles;
    settles = [];
    sendFrame(link, frame, used, s);
  };
  const push = (item: PayloadItem): void => {
    const size = itemOverheadBytes(item) + item.data.length;
    const full = used + size > budget || frame.p.length >= MAX_ITEMS_PER_FRAME;
    if (full && (frame.p.length > 0 || frame.c.length > 0)) {
      send();
      frame = { t: 0, p: [], c: [] };
      if (r) frame.r = r;
      used = 0;
    }
    frame.p.push(item);
    used += size;
  };
  for (const item of extra) push(item);
  for (const m of messages) {
    for (const item of m.items) push(item);
    settles.push(m);
  }
  if (frame.p.length > 0 || frame.c.length > 0) send();
  else settleSent(ctx, peer, settles, null);
  return true;
}
