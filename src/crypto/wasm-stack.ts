/**
 * Where libsodium's WebAssembly stack lives, so that secret-bearing calls can scrub it.
 *
 * Zeroing the arena (wasm-heap.ts) is not enough: C locals live on the wasm *stack*, a region
 * of the same linear memory, and not every libsodium function wipes them — BLAKE2b's final step
 * leaves its whole output block in a stack buffer, so the kx session keys and every keyed-hash
 * output (our session keys) stayed readable after the call. The stack pointer is not exported
 * by libsodium.js, so its idle value (the stack top) is read once from the embedded wasm binary:
 * the first global, a mutable i32 initialised by `i32.const` (emscripten's __stack_pointer).
 *
 * The layout emscripten builds without --stack-first is: static data, bss, then a 64 KiB stack
 * growing down from the top, then the malloc heap. The scrub covers the top SCRUB_BYTES of the
 * stack — far deeper than any call routed here goes (the hygiene test measures it) — and is
 * enabled only when the binary agrees with that layout (top − 64 KiB at or above the end of the
 * static data). Scrubbing is done only between calls, when no wasm frame is live.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';

/** Bytes below the idle stack top zeroed after each secret-bearing call. */
export const SCRUB_BYTES = 16 * 1024;
const EMSCRIPTEN_STACK_BYTES = 64 * 1024;

export interface StackLayout {
  /** The idle stack pointer (the stack grows down from here). */
  top: number;
  /** End of the initialised static data. */
  dataEnd: number;
}

class Reader {
  pos: number;
  constructor(readonly b: Uint8Array, pos: number) {
    this.pos = pos;
  }
  byte(): number {
    const v = this.b[this.pos++];
    if (v === undefined) throw new RangeError('truncated wasm binary');
    return v;
  }
  u32(): number {
    let r = 0;
    let shift = 0;
    for (;;) {
      const x = this.byte();
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
      if ((x & 0x80) === 0) return r;
    }
  }
  i32(): number {
    let r = 0;
    let shift = 0;
    let x: number;
    do {
      x = this.byte();
      r |= (x & 0x7f) << shift;
      shift += 7;
    } while (x & 0x80);
    return shift < 32 && x & 0x40 ? r | (~0 << shift) : r;
  }
  /** A constant expression `i32.const n; end`; null for anything else. */
  constI32(): number | null {
    if (this.byte() !== 0x41) return null;
    const v = this.i32();
    return this.byte() === 0x0b ? v : null;
  }
}

/** Reads the stack top and static-data end from a wasm module binary; null when not found. */
export function stackLayoutOf(wasm: Uint8Array): StackLayout | null {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) return null;
  try {
    return readLayout(new Reader(wasm, 8));
  } catch {
    return null; // truncated or malformed
  }
}

function readLayout(r: Reader): StackLayout | null {
  const wasm = r.b;
  let top: number | null = null;
  let dataEnd = 0;
  while (r.pos < wasm.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 6 && r.u32() > 0) {
      const type = r.byte();
      const mutable = r.byte();
      const init = r.constI32();
      if (type === 0x7f && mutable === 1 && init !== null) top = init;
    } else if (id === 11) {
      for (let n = r.u32(); n > 0; n--) {
        const flags = r.u32();
        if (flags === 2) r.u32();
        const offset = flags === 1 ? null : r.constI32();
        const len = r.u32();
        r.pos += len;
        if (offset !== null) dataEnd = Math.max(dataEnd, offset + len);
      }
    }
    r.pos = end;
  }
  return top === null ? null : { top, dataEnd };
}

/** The layout of the wasm binary libsodium-wrappers runs (embedded in libsodium.js as base64). */
export function libsodiumStackLayout(): StackLayout | null {
  try {
    const req = createRequire(require.resolve('libsodium-wrappers'));
    const src = fs.readFileSync(req.resolve('libsodium'), 'latin1');
    const m = /AGFzbQ[A-Za-z0-9+/]+=*/.exec(src);
    return m ? stackLayoutOf(Buffer.from(m[0], 'base64')) : null;
  } catch {
    return null;
  }
}

/** The region to scrub, or null when the layout is not the expected one (no scrubbing). */
export function scrubRegion(layout: StackLayout | null, heapBase: number): { from: number; to: number } | null {
  if (!layout) return null;
  const stackLow = layout.top - EMSCRIPTEN_STACK_BYTES;
  if (stackLow < layout.dataEnd || layout.top > heapBase || layout.top % 16 !== 0) return null;
  return { from: layout.top - SCRUB_BYTES, to: layout.top };
}
