/** What compress.ts needs from a zstd implementation (node:zlib or WebAssembly libzstd). */

export type ZstdBackendName = 'node:zlib' | 'wasm';

/** The decoded output would exceed the capacity it was given. */
export const OVERFLOW: unique symbol = Symbol('zstd output overflow');

export interface ZstdBackend {
  readonly name: ZstdBackendName;
  /** One standard zstd frame of `data` at `level`, declaring its content size, without checksum. */
  compress(data: Uint8Array, level: number): Uint8Array;
  /**
   * Decodes every frame of `data` (already checked by scanZstdFrames) into at most `capacity`
   * bytes, never holding more output than that; OVERFLOW when the frames produce more.
   * Frames whose window exceeds 2^windowLogMax may be refused. Throws on invalid data.
   */
  decompress(data: Uint8Array, capacity: number, windowLogMax: number): Uint8Array | typeof OVERFLOW;
}
