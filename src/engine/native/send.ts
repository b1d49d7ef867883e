/**
 * The send path, in the order a message flows:
 * message → compress (when it helps) → items (whole or fragments: this file) → outbox of this
 * turn → flush at the end of the turn: pack items of one peer into as few frames as fit the MTU
 * (pump.ts) → pad → encrypt with the peer's current session → socket (frame-send.ts).
 * Messages issued in one event-loop turn share datagrams (a microtask flush: no timer, no delay).
 * A message that fills its own datagram skips the outbox and the flush when nothing waits before
 * it and the window and the pacer have room (express.ts); one sent while the window-wait queue is
 * full is refused by the flush without a queue entry (link.ts, admit.ts).
 */
import { COMPRESSION_MIN_BYTES } from '../../constants';
import { BadInputError } from '../../errors';
import { compress } from '../../wire/compress';
import { FLAG_COMPRESSED, FLAG_FRAGMENT, binHeaderBytes, type PayloadItem } from '../../wire/frame';
import type { OutMessage } from '../../peer/outbox';
import { fragment } from '../../delivery/fragment';
import { PMTU_BASE_IPV4 } from '../../delivery/pmtu';
import type { NativeLink } from './link';
import { FRAME_HEADER_BYTES, PACKET_ACK_RESERVE_BYTES, SEAL_OVERHEAD_BYTES, frameBudget } from './frame-send';

export { frameBudget, PACKET_ACK_RESERVE_BYTES, sendEmptyFrame } from './frame-send';
/**
 * Fragment item overhead while ids are below 2^32 and index/count below 2^16 (array, flags, bin16
 * header, id, index, count). Larger ones (years away, or messages of > 65535 fragments) overrun
 * by at most 8 bytes, taken from the packet-ack reserve.
 */
const FRAGMENT_ITEM_OVERHEAD_BYTES = 1 + 1 + 3 + 5 + 3 + 3;

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

/** The item flags of compressIfSmaller's last answer (FLAG_COMPRESSED or 0): read at once, no tuple per message. */
let compressFlags = 0;

/**
 * Compresses when it makes the payload smaller; backs off on incompressible traffic
 * (src/wire/compress-backoff.ts). Returns the body; its item flags in `bodyFlags()`, read at once
 * (a reliable send takes both without a [body, flags] tuple per message, issue 12).
 */
export function compressIfSmaller(link: NativeLink, data: Uint8Array): Uint8Array {
  compressFlags = 0;
  if (data.length < COMPRESSION_MIN_BYTES) return data; // before the backoff is read (made): a link of small messages never makes one
  const { ctx, compression } = link;
  if (ctx.settings.compressionLevel <= 0 || !compression.shouldTry()) return data;
  const z = compress(data, ctx.settings.compressionLevel);
  const smaller = z.length < data.length;
  compression.record(smaller);
  if (!smaller) return data;
  compressFlags = FLAG_COMPRESSED;
  return z;
}

/**
 * A datagram-mode message's body: refused when larger than maxMessageBytes, compressed when
 * that helps; its item flags in `bodyFlags()` (read at once).
 */
export function datagramBody(link: NativeLink, data: Uint8Array): Uint8Array {
  const { ctx } = link;
  if (data.length > ctx.settings.maxMessageBytes) {
    throw new BadInputError('ERR_TOO_LARGE', `message of ${data.length} bytes exceeds maxMessageBytes (${ctx.settings.maxMessageBytes})`);
  }
  return compressIfSmaller(link, data);
}

/** The item flags of datagramBody's last answer (FLAG_COMPRESSED or 0). */
export function bodyFlags(): number {
  return compressFlags;
}

/**
 * A datagram-mode message waiting to be sent (outbox, window-wait queue, the pump). A message
 * that goes whole — nearly every one, all below EXPRESS_MIN_DATA_BYTES — is its own payload
 * item (`flags`, `data`: its body; `fragments` null): the pump puts the entry itself in the
 * frame, so send() makes one object per message, not an entry, an item and an array (s64).
 * Otherwise `fragments` are its items (`flags`, `data`: the whole body, never sent as such).
 * `deadlineMs` is set when the flush puts it in the pre-session queue (Outbox.batchToQueue):
 * the flush's time + `timeoutMs`, so send() reads no clock for it.
 */
export interface DatagramMessage extends OutMessage, PayloadItem {
  fragments: PayloadItem[] | null;
  timeoutMs: number;
}

/**
 * The outbox entry of a datagram-mode body (whole, or with its fragments); `bytes` is the
 * message's size before compression, `timeoutMs` how long it may wait for a session.
 * Every entry has the same fields in the same order (one object shape for the pump and the encoder).
 */
export function datagramMessage(link: NativeLink, body: Uint8Array, flags: number, bytes: number, timeoutMs: number, resolve: () => void, reject: (e: Error) => void): DatagramMessage {
  return { flags, data: body, fragments: fragmentsOf(link, body, flags), bytes, deadlineMs: 0, timeoutMs, resolve, reject };
}

/** Null when the body fits one frame whole (the item is the message itself); else its fragment items. */
function fragmentsOf(link: NativeLink, body: Uint8Array, flags: number): PayloadItem[] | null {
  if (1 + 1 + binHeaderBytes(body.length) + body.length <= frameBudget(link)) return null; // itemOverheadBytes of a whole item
  const id = link.nextMsgId();
  const chunks = fragment(body, fragmentChunkBytes(link));
  return chunks.map((c, index) => ({ flags: flags | FLAG_FRAGMENT, data: c, id, index, count: chunks.length }));
}
