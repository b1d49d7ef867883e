/**
 * The frame decoder's fast path (hot path, issue 12): reads the msgpack of a frame directly —
 * the fixarray [v, t, n, i, p, c, r, g] encodeFrameInto writes, with any integer/bin width —
 * validating every field as decodeFrame does, with no intermediate object tree. It accepts only
 * frames the generic decoder (msgpackr + validation, frame.ts) accepts with the same result;
 * anything else — malformed, of another version, or merely unusual (a float, a signed integer
 * form, an array32 header) — returns null and the generic decoder decides, with its exact
 * error. So this is an optimisation, never a second definition of the format.
 */
import { FRAME_VERSION } from '../constants';
import type { ControlItem, Frame, PayloadItem } from './frame';
import { KEEPALIVE } from './keepalive';

const FLAGS_MASK = 7;
const FLAG_RELIABLE = 2;
const FLAG_FRAGMENT = 4;
const MAX_ITEMS = 4096;
const MAX_CONTROLS = 16;
const MAX_ACK_RANGES = 32;
const MAX_PACKET_ACK_BYTES = 600;

/** Thrown inside, caught in fastDecodeFrame: hand the bytes to the generic decoder. */
const GENERIC = Symbol('generic');

let b: Uint8Array = new Uint8Array(0);
/** b's buffer and offset, read once per frame (the items' views are made from them). */
let bBuffer: ArrayBufferLike = b.buffer;
let bOffset = 0;
let o = 0;

function byte(): number {
  if (o >= b.length) throw GENERIC;
  return b[o++]!;
}

/** A msgpack unsigned integer (positive fixint, uint8…uint64 up to 2^53 − 1). */
function uint(): number {
  const t = byte();
  if (t < 0x80) return t;
  if (t < 0xcc || t > 0xcf) throw GENERIC;
  const w = 1 << (t - 0xcc); // 1, 2, 4, 8 bytes
  if (o + w > b.length) throw GENERIC;
  const at = o;
  o += w;
  if (w === 1) return b[at]!;
  if (w === 2) return (b[at]! << 8) | b[at + 1]!;
  const hi = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  if (w === 4) return hi;
  if (hi > 0x1fffff) throw GENERIC; // above 2^53 − 1
  return hi * 0x1_0000_0000 + (((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0);
}

/** An array header (fixarray, array16): its length. */
function array(): number {
  const t = byte();
  if ((t & 0xf0) === 0x90) return t & 0x0f;
  if (t === 0xdc) return (byte() << 8) | byte();
  throw GENERIC;
}

/** A bin (bin8/16/32): skips it and returns its length (its bytes end at `o`). */
function skipBin(): number {
  const t = byte();
  let n: number;
  if (t === 0xc4) n = byte();
  else if (t === 0xc5) n = (byte() << 8) | byte();
  else if (t === 0xc6) n = ((byte() << 24) | (byte() << 16) | (byte() << 8) | byte()) >>> 0;
  else throw GENERIC;
  if (o + n > b.length) throw GENERIC;
  o += n;
  return n;
}

/** A bin: a view of its bytes (the constructor, not subarray: no species lookup, about half the cost). */
function bin(): Uint8Array {
  const n = skipBin();
  return new Uint8Array(bBuffer, bOffset + o - n, n);
}

function item(): PayloadItem {
  const len = array();
  const flags = uint();
  if (flags > FLAGS_MASK) throw GENERIC;
  const data = bin();
  const frag = (flags & FLAG_FRAGMENT) !== 0;
  const rel = (flags & FLAG_RELIABLE) !== 0;
  const want = frag ? 5 : rel ? 3 : 2;
  if (len !== want) throw GENERIC;
  if (want === 2) return { flags, data };
  const id = uint();
  if (rel && id === 0) throw GENERIC;
  if (want === 3) return { flags, data, id };
  const index = uint();
  const count = uint();
  if (count < 1 || count > 0xffffffff || index > count - 1) throw GENERIC;
  return { flags, data, id, index, count };
}

function control(): ControlItem {
  const len = array();
  const type = uint();
  if (type === 0 && len === 1) return KEEPALIVE;
  if (type === 1 && len === 4) {
    const stream = uint();
    const cum = uint();
    const n = array();
    if (n % 2 !== 0 || n > 2 * MAX_ACK_RANGES) throw GENERIC;
    const ranges: number[] = new Array<number>(n);
    for (let k = 0; k < n; k += 2) {
      const a = uint();
      const z = uint();
      if (z < a) throw GENERIC;
      ranges[k] = a;
      ranges[k + 1] = z;
    }
    return { type: 'ack', stream, cum, ranges };
  }
  if (type === 2 && len === 2) {
    const ack = bin();
    if (ack.length < 1 || ack.length > MAX_PACKET_ACK_BYTES) throw GENERIC;
    return { type: 'packetAck', ack };
  }
  if (type === 3 && len === 2) {
    const max = uint();
    if (max < 1) throw GENERIC;
    return { type: 'limits', maxMessageBytes: max };
  }
  throw GENERIC;
}

/** The controls of a frame without any (frozen: a decoded frame's lists are never added to). */
const NO_CONTROLS = Object.freeze([]) as unknown as ControlItem[];

/** fixarray of 8: [v, t, n, i, p, c, r, g]. */
const FRAME_ARRAY = 0x98;
const NIL = 0xc0;

function frame(): Frame {
  if (byte() !== FRAME_ARRAY || uint() !== FRAME_VERSION) throw GENERIC;
  const t = uint();
  const n = uint();
  const inst = uint();
  if (inst > 0xffffffff) throw GENERIC;
  const plen = array();
  if (plen > MAX_ITEMS) throw GENERIC;
  const p = new Array<PayloadItem>(plen);
  let reliableItems = false;
  for (let x = 0; x < plen; x++) {
    const it = item();
    if ((it.flags & FLAG_RELIABLE) !== 0) reliableItems = true;
    p[x] = it;
  }
  const clen = array();
  if (clen > MAX_CONTROLS) throw GENERIC;
  const c = clen === 0 ? NO_CONTROLS : new Array<ControlItem>(clen); // most data frames carry none: one shared empty list
  let acks = 0;
  for (let x = 0; x < clen; x++) {
    const ci = control();
    if (ci.type === 'packetAck' && ++acks > 1) throw GENERIC;
    c[x] = ci;
  }
  let r: [number, number] | undefined;
  const rt = byte();
  if (rt === 0x92) r = [uint(), uint()];
  else if (rt !== NIL) throw GENERIC;
  skipBin(); // g: the padding, skipped without a view
  if (o !== b.length || (reliableItems && !r)) throw GENERIC;
  const f: Frame = { t, n, i: inst, p, c };
  if (r) f.r = r;
  return f;
}

/** The frame, or null when the generic decoder must decide (malformed or unusual bytes). */
export function fastDecodeFrame(bytes: Uint8Array): Frame | null {
  b = bytes;
  bBuffer = bytes.buffer;
  bOffset = bytes.byteOffset;
  o = 0;
  try {
    return frame();
  } catch (e) {
    if (e === GENERIC) return null;
    throw e;
  } finally {
    b = EMPTY;
    bBuffer = EMPTY.buffer;
  }
}
const EMPTY = new Uint8Array(0);
