/**
 * The frame encoder (hot path): writes the msgpack bytes of a frame directly, sized exactly,
 * in one allocation — the fixarray [v, t, n, i, p, c, r, g] (frame version 5), `r` nil when
 * absent, padding `g` last. decodeFrame (msgpackr + validation) reads it like any msgpack.
 */
import { FRAME_VERSION } from '../constants';
import type { ControlItem, Frame, PayloadItem } from './frame';

const uintBytes = (n: number): number => (n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1_0000_0000 ? 5 : 9);
const arrayHeaderBytes = (n: number): number => (n < 16 ? 1 : n < 0x10000 ? 3 : 5);
export const binHeaderBytes = (len: number): number => (len < 0x100 ? 2 : len < 0x10000 ? 3 : 5);

/** Exact encoded bytes of a payload item (the send path packs frames with it). */
export function itemBytes(i: PayloadItem): number {
  let n = 1 + 1 + binHeaderBytes(i.data.length) + i.data.length;
  if (i.id !== undefined) n += uintBytes(i.id);
  if (i.index !== undefined) n += uintBytes(i.index) + uintBytes(i.count!);
  return n;
}

function controlBytesExact(c: ControlItem): number {
  if (c.type === 'keepalive') return 2;
  if (c.type === 'packetAck') return 1 + 1 + binHeaderBytes(c.ack.length) + c.ack.length;
  if (c.type === 'limits') return 1 + 1 + uintBytes(c.maxMessageBytes);
  let n = 1 + 1 + uintBytes(c.stream) + uintBytes(c.cum) + arrayHeaderBytes(c.ranges.length);
  for (const r of c.ranges) n += uintBytes(r);
  return n;
}

/** Length of the `g` bin so that base + bin header + length is the target (or up to two bytes short), never above it. */
export function paddingLength(base: number, targetBytes: number): number {
  const room = targetBytes - base;
  if (room < 2) return 0;
  if (room - 2 < 0x100) return room - 2;
  if (room - 3 < 0x100) return 0xff; // one byte short: a bin16 header would overshoot
  if (room - 3 < 0x10000) return room - 3;
  return room - 5 < 0x10000 ? 0xffff : room - 5;
}

class Writer {
  o = 0;
  constructor(readonly b: Uint8Array) {}
  byte(x: number): void {
    this.b[this.o++] = x;
  }
  u32(x: number): void {
    this.b[this.o++] = x >>> 24;
    this.b[this.o++] = x >>> 16;
    this.b[this.o++] = x >>> 8;
    this.b[this.o++] = x;
  }
  uint(n: number): void {
    if (n < 0x80) this.byte(n);
    else if (n < 0x100) {
      this.byte(0xcc);
      this.byte(n);
    } else if (n < 0x10000) {
      this.byte(0xcd);
      this.byte(n >>> 8);
      this.byte(n);
    } else if (n < 0x1_0000_0000) {
      this.byte(0xce);
      this.u32(n);
    } else {
      this.byte(0xcf);
      this.u32(Math.floor(n / 0x1_0000_0000));
      this.u32(n >>> 0);
    }
  }
  array(n: number): void {
    if (n < 16) this.byte(0x90 | n);
    else if (n < 0x10000) {
      this.byte(0xdc);
      this.byte(n >>> 8);
      this.byte(n);
    } else {
      this.byte(0xdd);
      this.u32(n);
    }
  }
  binHeader(len: number): void {
    if (len < 0x100) {
      this.byte(0xc4);
      this.byte(len);
    } else if (len < 0x10000) {
      this.byte(0xc5);
      this.byte(len >>> 8);
      this.byte(len);
    } else {
      this.byte(0xc6);
      this.u32(len);
    }
  }
}

/** fixarray of 8: [v, t, n, i, p, c, r, g]. */
const FRAME_ARRAY = 0x98;
const NIL = 0xc0;

/** Encoded bytes of `f` without its padding (the send path computes it once per datagram). */
export function unpaddedFrameBytes(f: Frame): number {
  // array header, v (a fixint), t, n, i, p and c headers; r (nil, or [stream, base]); g's header is not counted
  let base = 1 + 1 + uintBytes(f.t) + uintBytes(f.n) + uintBytes(f.i) + arrayHeaderBytes(f.p.length) + arrayHeaderBytes(f.c.length);
  // Indexed (memalloc17): for…of over a frozen shared list (a lone ack's, a probe's) makes an iterator even in optimized code.
  const p = f.p;
  const c = f.c;
  for (let k = 0; k < p.length; k++) base += itemBytes(p[k]!);
  for (let k = 0; k < c.length; k++) base += controlBytesExact(c[k]!);
  base += f.r ? 1 + uintBytes(f.r[0]) + uintBytes(f.r[1]) : 1;
  return base;
}

/** Encoded bytes of `f` padded towards `targetBytes` (what encodeFrame returns, what encodeFrameInto writes). */
export function encodedFrameBytes(f: Frame, targetBytes = 0, base = unpaddedFrameBytes(f)): number {
  const pad = paddingLength(base, targetBytes);
  return base + binHeaderBytes(pad) + pad;
}

/**
 * Encodes a frame padded (`g`) to exactly `targetBytes` when reachable, else one byte short
 * of it (never longer, unless the unpadded frame already is).
 */
export function encodeFrame(f: Frame, targetBytes = 0, scratch?: Uint8Array): Uint8Array {
  const total = encodedFrameBytes(f, targetBytes);
  // With a scratch buffer (the bytes are copied out at once) no allocation.
  const out = scratch && scratch.length >= total ? scratch.subarray(0, total) : new Uint8Array(total);
  encodeFrameInto(f, targetBytes, out, 0);
  return out;
}

/**
 * The send path's form: writes the frame at `out[offset…]` (the datagram buffer, after the data
 * header; the cipher then seals it in place) and returns its length. The padding bytes are
 * written as zeros. `out` needs encodedFrameBytes(f, targetBytes) bytes from `offset`. `base`:
 * unpaddedFrameBytes(f), when the caller has it already.
 */
export function encodeFrameInto(f: Frame, targetBytes: number, out: Uint8Array, offset: number, base = unpaddedFrameBytes(f)): number {
  const pad = paddingLength(base, targetBytes);
  const w = new Writer(out);
  w.o = offset;
  w.byte(FRAME_ARRAY);
  w.byte(FRAME_VERSION);
  w.uint(f.t);
  w.uint(f.n);
  w.uint(f.i);
  const p = f.p;
  w.array(p.length);
  for (let k = 0; k < p.length; k++) {
    const i = p[k]!;
    w.array(i.index !== undefined ? 5 : i.id !== undefined ? 3 : 2);
    w.byte(i.flags);
    w.binHeader(i.data.length);
    w.b.set(i.data, w.o);
    w.o += i.data.length;
    if (i.id !== undefined) w.uint(i.id);
    if (i.index !== undefined) {
      w.uint(i.index);
      w.uint(i.count!);
    }
  }
  const cs = f.c;
  w.array(cs.length);
  for (let k = 0; k < cs.length; k++) {
    const c = cs[k]!;
    if (c.type === 'keepalive') {
      w.byte(0x91);
      w.byte(0);
    } else if (c.type === 'packetAck') {
      w.byte(0x92);
      w.byte(2);
      w.binHeader(c.ack.length);
      w.b.set(c.ack, w.o);
      w.o += c.ack.length;
    } else if (c.type === 'limits') {
      w.byte(0x92);
      w.byte(3);
      w.uint(c.maxMessageBytes);
    } else {
      w.byte(0x94);
      w.byte(1);
      w.uint(c.stream);
      w.uint(c.cum);
      w.array(c.ranges.length);
      for (const r of c.ranges) w.uint(r);
    }
  }
  if (f.r) {
    w.byte(0x92);
    w.uint(f.r[0]);
    w.uint(f.r[1]);
  } else w.byte(NIL);
  w.binHeader(pad);
  out.fill(0, w.o, w.o + pad);
  return w.o + pad - offset;
}
