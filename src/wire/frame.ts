/**
 * The versioned msgpack frame carried (encrypted) in every data datagram, a fixarray of 8:
 *   [v = 5, t: <sender ms timestamp>, n: <packet number>, i: <sender instance>, p: [payload items],
 *    c: [control items], r: [stream, base] or nil, g: <padding bin>]
 * `n` numbers every datagram to the peer (one space per direction, independent of sessions: it
 * survives rekeys); `i` is the sender's packet-number space id (new per node start and per
 * peer re-add): a new instance starts a new packet-number space.
 * Payload item: [flags, data] | [flags|RELIABLE, data, seq] | [flags|FRAGMENT, chunk, id, index, count]
 *               | [flags|RELIABLE|FRAGMENT, chunk, seq, index, count]
 * Control item: [0] keepalive | [1, stream, cum, [start, end, ...]] delivery ack
 *               | [2, <bin: packet ack, wire/ack.ts>] packet ack (at most one per frame)
 *               | [3, maxMessageBytes] limits.
 * Decoding validates every field; anything else is a 'malformed' drop, except a frame of another
 * version (a v4 fixmap, a future array), which is an `unknownVersion` drop (FrameVersionError).
 */
import { FRAME_VERSION } from '../constants';
import { DropError } from '../errors';
import { unpack } from './msgpack';
import { fastDecodeFrame } from './frame-decode';
import { KEEPALIVE } from './keepalive';

export const FLAG_COMPRESSED = 1;
export const FLAG_RELIABLE = 2;
export const FLAG_FRAGMENT = 4;
const FLAGS_MASK = 7;

export const CONTROL_KEEPALIVE = 0;
export const CONTROL_ACK = 1;
export const CONTROL_PACKET_ACK = 2;
/** Largest encoded packet ack accepted (32 ranges of 8-byte varints + credit: 537 bytes). */
export const MAX_PACKET_ACK_BYTES = 600;
/** [3, maxMessageBytes]: the sender's receive limit, sent once per session (PROTOCOL.md §14). */
export const CONTROL_LIMITS = 3;
export const MAX_ACK_RANGES = 32;
export const MAX_ITEMS_PER_FRAME = 4096;

export interface PayloadItem {
  flags: number;
  data: Uint8Array;
  /** seq (reliable) or message id (datagram fragment). */
  id?: number;
  index?: number;
  count?: number;
}

export type ControlItem =
  | { type: 'keepalive' }
  | { type: 'ack'; stream: number; cum: number; ranges: number[] }
  | { type: 'packetAck'; ack: Uint8Array }
  | { type: 'limits'; maxMessageBytes: number };

export interface Frame {
  t: number;
  /** Packet number (0 … 2^53 − 1). */
  n: number;
  /** Sender instance id (u32, new per node start and per peer re-add). */
  i: number;
  p: PayloadItem[];
  c: ControlItem[];
  /** [reliable stream id, base seq]: present when p has reliable items. */
  r?: [number, number];
}

/** Bytes a payload item adds to the frame, upper bound (array header, flags, bin header, ids). */
export function itemOverheadBytes(item: PayloadItem): number {
  return 1 + 1 + binHeaderBytes(item.data.length) + (item.id === undefined ? 0 : 9) + (item.index === undefined ? 0 : 10);
}
/**
 * Frame bytes besides items and controls, upper bound: array header, v, t, n, i, the p and c
 * array16 headers, r ([u32 stream, uint64 base]) and g's bin16 header (v4's fixmap spent 16
 * more on keys).
 */
export const FRAME_FIXED_OVERHEAD_BYTES = 1 + 1 + 9 + 9 + 5 + 3 + 3 + 15 + 3;
export function controlBytes(c: ControlItem): number {
  if (c.type === 'keepalive') return 2;
  if (c.type === 'packetAck') return 1 + 1 + 3 + c.ack.length;
  if (c.type === 'limits') return 1 + 1 + 9;
  return 1 + 1 + 5 + 9 + 3 + c.ranges.length * 9;
}
export { encodeFrame, encodeFrameInto, encodedFrameBytes, unpaddedFrameBytes, paddingLength, binHeaderBytes, itemBytes } from './frame-encode';
import { binHeaderBytes } from './frame-encode';

const isUint = (x: unknown, max = Number.MAX_SAFE_INTEGER): x is number =>
  typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;
const isBin = (x: unknown): x is Uint8Array => x instanceof Uint8Array;
const bad = (what: string): never => {
  throw new DropError('malformed', `invalid frame: ${what}`);
};

/** An authentic frame of another version (a v4 fixmap from an older node): an `unknownVersion` drop. */
export class FrameVersionError extends DropError {
  readonly version: number;
  constructor(version: number) {
    super('unknownVersion', `frame version ${version}; this node speaks ${FRAME_VERSION}`);
    this.version = version;
    this.name = 'FrameVersionError';
  }
}

function itemFromWire(w: unknown): PayloadItem {
  if (!Array.isArray(w)) return bad('payload item is not an array');
  const [flags, data, id, index, count] = w as unknown[];
  if (!isUint(flags, FLAGS_MASK)) return bad('payload flags');
  if (!isBin(data)) return bad('payload data is not bin');
  const frag = (flags & FLAG_FRAGMENT) !== 0;
  const rel = (flags & FLAG_RELIABLE) !== 0;
  const want = frag ? 5 : rel ? 3 : 2;
  if (w.length !== want) return bad('payload item length');
  if (want === 2) return { flags, data };
  if (!isUint(id) || (rel && id === 0)) return bad('payload id');
  if (want === 3) return { flags, data, id };
  if (!isUint(count, 0xffffffff) || count < 1 || !isUint(index, count - 1)) return bad('fragment index/count');
  return { flags, data, id, index, count };
}

function controlFromWire(w: unknown): ControlItem {
  if (!Array.isArray(w) || w.length < 1) return bad('control item');
  if (w[0] === CONTROL_KEEPALIVE && w.length === 1) return KEEPALIVE;
  if (w[0] === CONTROL_ACK && w.length === 4) {
    const [, stream, cum, ranges] = w as unknown[];
    if (!isUint(stream) || !isUint(cum)) return bad('ack fields');
    if (!Array.isArray(ranges) || ranges.length % 2 !== 0 || ranges.length > 2 * MAX_ACK_RANGES) return bad('ack ranges');
    for (let k = 0; k < ranges.length; k += 2) {
      const a: unknown = ranges[k];
      const b: unknown = ranges[k + 1];
      if (!isUint(a) || !isUint(b) || b < a) return bad('ack range');
    }
    return { type: 'ack', stream, cum, ranges: ranges as number[] };
  }
  if (w[0] === CONTROL_PACKET_ACK && w.length === 2) {
    const ack: unknown = w[1];
    if (!isBin(ack) || ack.length < 1 || ack.length > MAX_PACKET_ACK_BYTES) return bad('packet ack');
    return { type: 'packetAck', ack };
  }
  if (w[0] === CONTROL_LIMITS && w.length === 2) {
    const max: unknown = w[1];
    if (!isUint(max) || max < 1) return bad('limits');
    return { type: 'limits', maxMessageBytes: max };
  }
  return bad('unknown control item');
}

/** Array positions of the frame's fields. */
const V = 0;
const T = 1;
const N = 2;
const I = 3;
const P = 4;
const C = 5;
const R = 6;
const G = 7;
const FIELDS = 8;

/** The version of a frame that is not v5: a v4 (or older) map's `v`, or an array's first element; else undefined. */
function otherVersion(o: unknown): number | undefined {
  const v = Array.isArray(o) ? (o as unknown[])[0] : typeof o === 'object' && o !== null && !isBin(o) ? (o as Record<string, unknown>)['v'] : undefined;
  return isUint(v, 0xffffffff) && v !== FRAME_VERSION ? v : undefined;
}

/** Decodes and validates a frame: the fast path (frame-decode.ts) for the usual bytes, else msgpackr and the checks below. */
export function decodeFrame(bytes: Uint8Array): Frame {
  return fastDecodeFrame(bytes) ?? decodeFrameGeneric(bytes);
}

/** The reference decoder: msgpackr, then every field validated. */
export function decodeFrameGeneric(bytes: Uint8Array): Frame {
  let o: unknown;
  try {
    o = unpack(bytes);
  } catch {
    return bad('not msgpack');
  }
  const version = otherVersion(o);
  if (version !== undefined) throw new FrameVersionError(version);
  if (!Array.isArray(o)) return bad('not an array');
  const m = o as unknown[];
  if (m.length !== FIELDS) return bad('frame length');
  if (m[V] !== FRAME_VERSION) return bad('version');
  const t = m[T];
  const n = m[N];
  const inst = m[I];
  if (!isUint(t)) return bad('timestamp');
  if (!isUint(n)) return bad('packet number');
  if (!isUint(inst, 0xffffffff)) return bad('instance');
  if (!isBin(m[G])) return bad('padding');
  const p = m[P];
  const c = m[C];
  if (!Array.isArray(p) || p.length > MAX_ITEMS_PER_FRAME) return bad('payload channel');
  if (!Array.isArray(c) || c.length > 16) return bad('control channel');
  const items = p.map(itemFromWire);
  const controls = c.map(controlFromWire);
  if (controls.filter((x) => x.type === 'packetAck').length > 1) return bad('more than one packet ack');
  const frame: Frame = { t, n, i: inst, p: items, c: controls };
  const r = m[R];
  if (r !== null) {
    if (!Array.isArray(r) || r.length !== 2 || !isUint(r[0]) || !isUint(r[1])) return bad('reliable stream');
    frame.r = [r[0], r[1]];
  } else if (items.some((i) => (i.flags & FLAG_RELIABLE) !== 0)) {
    return bad('reliable item without stream');
  }
  return frame;
}
