/**
 * The encrypted handshake payload of protocol v4 (docs/PROTOCOL.md §4.2) and its TAI64N-like
 * replay timestamp. Fixed binary layout, strictly validated:
 *
 *   0   1   payload version (1)
 *   1   12  timestamp: TAI64N-like (u64 BE 2^62 + unix seconds ‖ u32 BE nanoseconds), whitened
 *   13  8   sender's wall clock, ms (u64 BE ≤ 2^53 − 1) — for the clock offset, not for replay
 *   21  4   sender's session id (u32 BE, ≠ 0)
 *   25  4   maxMessageBytes (u32 BE)
 *   29  8   stream epoch (u64 BE ≤ 2^53 − 1)
 *   37  32  sender's Ed25519 identity key — only in messages that carry the static (IK init, XX 2/3)
 *   ..  1   extension bytes L (≤ 64)
 *   ..  L   extensions: (type u8, length u8, value)*, types strictly ascending; a type with the
 *           high bit set is critical (an unknown critical extension refuses the handshake)
 */
import type { Clock } from '../../runtime/clock';
import { MAX_EXTENSION_BYTES, PAYLOAD_BASE_BYTES, PAYLOAD_IDENTITY_BYTES } from '../../wire/handshake-v4';
import { NoiseError } from './handshake-state';

export const PAYLOAD_VERSION = 1;
export const TIMESTAMP_BYTES = 12;
/** Extension types this implementation understands (none yet: the block is room to grow). */
export const KNOWN_EXTENSIONS: ReadonlySet<number> = new Set<number>();

export interface Extension {
  type: number;
  value: Uint8Array;
}

export interface HandshakePayload {
  timestamp: Uint8Array;
  wallClockMs: number;
  sessionId: number;
  maxMessageBytes: number;
  streamEpoch: number;
  /** The sender's Ed25519 public key (present exactly in messages that carry the static). */
  identity?: Uint8Array;
  extensions?: Extension[];
}

function writeU32(b: Uint8Array, off: number, n: number): void {
  b[off] = n >>> 24;
  b[off + 1] = n >>> 16;
  b[off + 2] = n >>> 8;
  b[off + 3] = n;
}
const readU32 = (b: Uint8Array, off: number): number => ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
function writeU64(b: Uint8Array, off: number, n: number): void {
  writeU32(b, off, Math.floor(n / 0x1_0000_0000));
  writeU32(b, off + 4, n >>> 0);
}
function readU64(b: Uint8Array, off: number): number | null {
  const hi = readU32(b, off);
  return hi > 0x1fffff ? null : hi * 0x1_0000_0000 + readU32(b, off + 4);
}
const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const isU53 = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** No extensions (zero bytes: nothing can be written into it). */
const NO_EXTENSION_BYTES = new Uint8Array(0);
const NO_EXTENSIONS: readonly Extension[] = [];

export function encodeExtensions(ext: readonly Extension[]): Uint8Array {
  if (ext.length === 0) return NO_EXTENSION_BYTES; // every handshake today: no list, closure or array made
  const len = ext.reduce((n, e) => n + 2 + e.value.length, 0);
  if (len > MAX_EXTENSION_BYTES) throw new RangeError(`extensions take ${len} bytes, at most ${MAX_EXTENSION_BYTES}`);
  const out = new Uint8Array(len);
  let o = 0;
  let prev = -1;
  for (const e of ext) {
    if (!(Number.isInteger(e.type) && e.type > prev && e.type <= 0xff)) throw new RangeError('extension types must be ascending bytes');
    prev = e.type;
    out[o++] = e.type;
    out[o++] = e.value.length;
    out.set(e.value, o);
    o += e.value.length;
  }
  return out;
}

export function encodePayload(p: HandshakePayload): Uint8Array {
  if (p.timestamp.length !== TIMESTAMP_BYTES) throw new RangeError('timestamp must be 12 bytes');
  if (!isU53(p.wallClockMs) || !isU53(p.streamEpoch)) throw new RangeError('wallClockMs and streamEpoch must be integers in [0, 2^53)');
  if (!isU32(p.sessionId) || p.sessionId === 0 || !isU32(p.maxMessageBytes)) throw new RangeError('sessionId (≠ 0) and maxMessageBytes must be u32');
  if (p.identity && p.identity.length !== PAYLOAD_IDENTITY_BYTES) throw new RangeError('identity must be 32 bytes');
  const ext = encodeExtensions(p.extensions ?? NO_EXTENSIONS);
  const idLen = p.identity ? PAYLOAD_IDENTITY_BYTES : 0;
  const b = new Uint8Array(PAYLOAD_BASE_BYTES + idLen + ext.length);
  b[0] = PAYLOAD_VERSION;
  b.set(p.timestamp, 1);
  writeU64(b, 13, p.wallClockMs);
  writeU32(b, 21, p.sessionId);
  writeU32(b, 25, p.maxMessageBytes);
  writeU64(b, 29, p.streamEpoch);
  if (p.identity) b.set(p.identity, 37);
  b[37 + idLen] = ext.length;
  b.set(ext, 38 + idLen);
  return b;
}

const bad = (why: string): NoiseError => new NoiseError('malformed', `handshake payload: ${why}`);

/** Strict decode; `withIdentity` is fixed by the message kind, never by the payload. */
export function decodePayload(b: Uint8Array, withIdentity: boolean): HandshakePayload {
  const idLen = withIdentity ? PAYLOAD_IDENTITY_BYTES : 0;
  if (b.length < PAYLOAD_BASE_BYTES + idLen) throw bad('too short');
  if (b[0] !== PAYLOAD_VERSION) throw bad(`unknown version ${b[0]}`);
  const wallClockMs = readU64(b, 13);
  const streamEpoch = readU64(b, 29);
  if (wallClockMs === null || streamEpoch === null) throw bad('64-bit field above 2^53');
  const sessionId = readU32(b, 21);
  if (sessionId === 0) throw bad('session id 0');
  const extLen = b[37 + idLen]!;
  const extStart = 38 + idLen;
  if (extLen > MAX_EXTENSION_BYTES || b.length !== extStart + extLen) throw bad('extension length');
  const extensions: Extension[] = [];
  let o = extStart;
  let prev = -1;
  while (o < b.length) {
    if (b.length - o < 2) throw bad('truncated extension');
    const type = b[o]!;
    const len = b[o + 1]!;
    if (type <= prev) throw bad('extension types not ascending');
    if (b.length - o - 2 < len) throw bad('truncated extension');
    if (type & 0x80 && !KNOWN_EXTENSIONS.has(type)) throw new NoiseError('refused', `unknown critical extension 0x${type.toString(16)}`);
    extensions.push({ type, value: b.slice(o + 2, o + 2 + len) });
    prev = type;
    o += 2 + len;
  }
  const out: HandshakePayload = {
    timestamp: b.slice(1, 13),
    wallClockMs,
    sessionId,
    maxMessageBytes: readU32(b, 25),
    streamEpoch,
    extensions,
  };
  if (withIdentity) out.identity = b.slice(37, 69);
  return out;
}

// ---- TAI64N-like replay timestamps ----

const TAI64_BASE_HI = 0x40000000; // 2^62 as the high 32 bits of the seconds field
/** Nanoseconds are rounded down to a multiple of 2^24 ns (≈ 16.8 ms), as WireGuard whitens them. */
const WHITEN_MASK = 0xffffff;

/** Compares two 12-byte timestamps: < 0, 0, > 0. */
export function compareTimestamps(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < TIMESTAMP_BYTES; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

export function tai64nFromMs(ms: number): Uint8Array {
  const b = new Uint8Array(TIMESTAMP_BYTES);
  const secs = Math.floor(ms / 1000);
  const nanos = ((ms - secs * 1000) * 1_000_000) & ~WHITEN_MASK;
  writeU32(b, 0, TAI64_BASE_HI + Math.floor(secs / 0x1_0000_0000));
  writeU32(b, 4, secs >>> 0);
  writeU32(b, 8, nanos >>> 0);
  return b;
}

/**
 * A node's own handshake timestamps: from the wall clock, whitened, and strictly increasing even
 * when the clock stands still or steps back (the previous stamp + 1 ns), so a retry or a rekey is
 * never refused as a replay. Seed it with the last stamp persisted, if any.
 */
export class TimestampSource {
  readonly #clock: Clock;
  #last: Uint8Array | null;
  constructor(clock: Clock, last: Uint8Array | null = null) {
    this.#clock = clock;
    this.#last = last ? last.slice() : null;
  }
  next(): Uint8Array {
    let t = tai64nFromMs(this.#clock.now());
    if (this.#last && compareTimestamps(t, this.#last) <= 0) t = increment(this.#last);
    this.#last = t;
    return t.slice();
  }
}

function increment(ts: Uint8Array): Uint8Array {
  const t = ts.slice();
  for (let i = TIMESTAMP_BYTES - 1; i >= 0; i--) {
    t[i] = (t[i]! + 1) & 0xff;
    if (t[i] !== 0) break;
  }
  return t;
}
