/**
 * The packet acknowledgement: a compact binary frame (QUIC's ACK frame, RFC 9000 §19.3, plus
 * the receiver's flow-control credit, QUIC's MAX_DATA). Every field is a QUIC varint
 * (RFC 9000 §16: the top two bits of the first byte give the length, 1/2/4/8 bytes, values
 * < 2^62). In order:
 *
 *   largest       largest packet number acknowledged
 *   ackDelay      time between receiving `largest` and sending this ack, in units of 8 µs
 *   rangeCount    number of (gap, length) pairs that follow (0…31: at most 32 ranges)
 *   firstRange    largest − smallest of the first range
 *   (gap, length) × rangeCount: gap = previous smallest − this largest − 2 (packets missing − 1),
 *                 length = this largest − this smallest
 *   maxBytes      credit: total reliable bytes the sender may have sent (absolute, only grows)
 *   maxMessages   credit: total reliable messages the sender may have started (absolute)
 *
 * Decoding refuses, with a DropError('malformed') naming the field, and in bounded time (the
 * range count is checked before any loop): truncation, trailing bytes, more than 32 ranges,
 * ranges reaching below packet number 0 (a range "beyond largest"), values above 2^53 − 1.
 * Overlapping or adjacent ranges cannot be expressed (gaps are unsigned, offset by 2).
 */
import { DropError } from '../errors';

export const MAX_ACK_RANGES = 32;
/** Ack delay unit on the wire: 8 µs (QUIC's default ack_delay_exponent 3). */
export const ACK_DELAY_UNIT_US = 8;
export const VARINT_MAX = 2 ** 62 - 1;
/** The longest encoded ack: largest, delay, range count, first range, 31 gaps and lengths, the two limits. */
export const MAX_ACK_BYTES = 8 + 8 + 1 + 8 + (MAX_ACK_RANGES - 1) * 16 + 8 + 8;
/** The encoders' scratch: an ack is written here, then copied out (or, by a caller of an `…Into` form, used at once). */
const SCRATCH = new Uint8Array(MAX_ACK_BYTES);

/** An inclusive run of acknowledged packet numbers. */
export interface AckRange {
  readonly smallest: number;
  readonly largest: number;
}

export interface AckFrame {
  /** Largest first; disjoint, each separated from the next by at least one missing number. */
  readonly ranges: readonly AckRange[];
  /** Delay between receiving the largest packet and sending the ack (rounded to 8 µs). */
  readonly ackDelayMs: number;
  readonly maxBytes: number;
  readonly maxMessages: number;
}

const bad = (what: string): never => {
  throw new DropError('malformed', `invalid ack: ${what}`);
};

export function varintLength(v: number): number {
  return v < 0x40 ? 1 : v < 0x4000 ? 2 : v < 0x4000_0000 ? 4 : 8;
}

function writeVarint(out: Uint8Array, at: number, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
  const n = varintLength(v);
  if (n === 1) {
    out[at] = v;
  } else if (n === 2) {
    out[at] = 0x40 | (v >>> 8);
    out[at + 1] = v & 0xff;
  } else if (n === 4) {
    out[at] = 0x80 | (v >>> 24);
    out[at + 1] = (v >>> 16) & 0xff;
    out[at + 2] = (v >>> 8) & 0xff;
    out[at + 3] = v & 0xff;
  } else {
    const hi = Math.floor(v / 2 ** 32);
    const lo = v >>> 0;
    out[at] = 0xc0 | (hi >>> 24);
    out[at + 1] = (hi >>> 16) & 0xff;
    out[at + 2] = (hi >>> 8) & 0xff;
    out[at + 3] = hi & 0xff;
    out[at + 4] = lo >>> 24;
    out[at + 5] = (lo >>> 16) & 0xff;
    out[at + 6] = (lo >>> 8) & 0xff;
    out[at + 7] = lo & 0xff;
  }
  return at + n;
}

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}
  varint(field: string): number {
    const b = this.bytes;
    if (this.at >= b.length) return bad(`truncated at ${field}`);
    const first = b[this.at]!;
    const n = 1 << (first >>> 6);
    if (this.at + n > b.length) return bad(`truncated at ${field}`);
    let v = first & 0x3f;
    for (let k = 1; k < n; k++) v = v * 256 + b[this.at + k]!;
    if (v > Number.MAX_SAFE_INTEGER) return bad(`${field} above 2^53 - 1`);
    this.at += n;
    return v;
  }
}

function delayUnits(ms: number): number {
  if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`ackDelayMs must be a finite number >= 0, got ${ms}`);
  return Math.round((ms * 1000) / ACK_DELAY_UNIT_US);
}

/** Checks an ack's ranges (encoder side: a bug in the caller, so RangeError). */
function checkRanges(ranges: readonly AckRange[]): void {
  if (ranges.length === 0) throw new RangeError('an ack needs at least one range');
  if (ranges.length > MAX_ACK_RANGES) throw new RangeError(`an ack carries at most ${MAX_ACK_RANGES} ranges, got ${ranges.length}`);
  let floor = Infinity;
  for (const r of ranges) {
    if (!Number.isSafeInteger(r.smallest) || r.smallest < 0 || !Number.isSafeInteger(r.largest) || r.largest < r.smallest) {
      throw new RangeError(`bad ack range [${r.smallest}, ${r.largest}]`);
    }
    if (r.largest >= floor - 1) throw new RangeError('ack ranges must be descending, disjoint and not adjacent');
    floor = r.smallest;
  }
}

/** Exact encoded size. */
export function ackFrameBytes(f: AckFrame): number {
  checkRanges(f.ranges);
  const r = f.ranges;
  let n = varintLength(r[0]!.largest) + varintLength(delayUnits(f.ackDelayMs)) + varintLength(r.length - 1) + varintLength(r[0]!.largest - r[0]!.smallest);
  for (let k = 1; k < r.length; k++) n += varintLength(r[k - 1]!.smallest - r[k]!.largest - 2) + varintLength(r[k]!.largest - r[k]!.smallest);
  return n + varintLength(f.maxBytes) + varintLength(f.maxMessages);
}

export function encodeAck(f: AckFrame): Uint8Array {
  return SCRATCH.slice(0, encodeAckInto(SCRATCH, f));
}

/** encodeAck's bytes written at out[0…] (out has room: MAX_ACK_BYTES always is); returns their length. */
export function encodeAckInto(out: Uint8Array, f: AckFrame): number {
  checkRanges(f.ranges);
  const r = f.ranges;
  let at = writeVarint(out, 0, r[0]!.largest);
  at = writeVarint(out, at, delayUnits(f.ackDelayMs));
  at = writeVarint(out, at, r.length - 1);
  at = writeVarint(out, at, r[0]!.largest - r[0]!.smallest);
  for (let k = 1; k < r.length; k++) {
    at = writeVarint(out, at, r[k - 1]!.smallest - r[k]!.largest - 2);
    at = writeVarint(out, at, r[k]!.largest - r[k]!.smallest);
  }
  at = writeVarint(out, at, f.maxBytes);
  return writeVarint(out, at, f.maxMessages);
}

/**
 * encodeAck of an ack with one range [smallest, largest], the same bytes, without the frame,
 * ranges array and range object (issue 12, memalloc17: a resting space's ack of a keepalive).
 */
export function encodeOneRangeAck(smallest: number, largest: number, ackDelayMs: number, maxBytes: number, maxMessages: number): Uint8Array {
  return SCRATCH.slice(0, encodeOneRangeAckInto(SCRATCH, smallest, largest, ackDelayMs, maxBytes, maxMessages));
}

/** encodeOneRangeAck's bytes written at out[0…] (out has room: MAX_ACK_BYTES always is); returns their length. */
export function encodeOneRangeAckInto(out: Uint8Array, smallest: number, largest: number, ackDelayMs: number, maxBytes: number, maxMessages: number): number {
  if (!Number.isSafeInteger(smallest) || smallest < 0 || !Number.isSafeInteger(largest) || largest < smallest) throw new RangeError(`bad ack range [${smallest}, ${largest}]`);
  let at = writeVarint(out, 0, largest);
  at = writeVarint(out, at, delayUnits(ackDelayMs));
  at = writeVarint(out, at, 0);
  at = writeVarint(out, at, largest - smallest);
  at = writeVarint(out, at, maxBytes);
  return writeVarint(out, at, maxMessages);
}

export function decodeAck(bytes: Uint8Array): AckFrame {
  const rd = new Reader(bytes);
  const largest = rd.varint('largest');
  const units = rd.varint('ack delay');
  const extra = rd.varint('range count');
  if (extra > MAX_ACK_RANGES - 1) return bad(`${extra + 1} ranges (at most ${MAX_ACK_RANGES})`);
  const first = rd.varint('first range');
  if (first > largest) return bad('first range reaches below packet number 0');
  const ranges: AckRange[] = [{ smallest: largest - first, largest }];
  let smallest = largest - first;
  for (let k = 0; k < extra; k++) {
    const gap = rd.varint('gap');
    const len = rd.varint('range length');
    const hi = smallest - gap - 2;
    if (hi < 0 || len > hi) return bad(`range ${k + 2} reaches below packet number 0`);
    smallest = hi - len;
    ranges.push({ smallest, largest: hi });
  }
  const maxBytes = rd.varint('max bytes');
  const maxMessages = rd.varint('max messages');
  if (rd.at !== bytes.length) return bad(`${bytes.length - rd.at} trailing bytes`);
  return { ranges, ackDelayMs: (units * ACK_DELAY_UNIT_US) / 1000, maxBytes, maxMessages };
}
