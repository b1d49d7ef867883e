/**
 * Byte layouts of the protocol v4 handshake (docs/PROTOCOL.md §4 has the tables). Parsing here
 * is length and type checks only — no cryptography, no lookup — so junk is refused cheaply.
 *
 * Every handshake message is  header ‖ noise ‖ mac1 (16) ‖ mac2 (16):
 *   header = type (1)                       IK init, XX msg1
 *          = type (1) ‖ receiver sid (4)    IK response, XX msg2, XX msg3
 * The cookie reply is  type (1) ‖ ref (4) ‖ nonce (24) ‖ XChaCha20-Poly1305(cookie) (32).
 */
import { DropError } from '../errors';

export const PROTOCOL_VERSION_V4 = 4;
export const V4 = {
  ikInit: 0x41,
  ikResponse: 0x42,
  /** Reserved for the v4 data datagram (defined by the transport layer, not here). */
  data: 0x43,
  xx1: 0x44,
  xx2: 0x45,
  xx3: 0x46,
  cookieReply: 0x47,
} as const;
export type V4HandshakeType = typeof V4.ikInit | typeof V4.ikResponse | typeof V4.xx1 | typeof V4.xx2 | typeof V4.xx3;

export const KEY_BYTES = 32;
export const TAG_BYTES = 16;
export const SID_BYTES = 4;
export const MAC_BYTES = 16;
export const MACS_BYTES = 2 * MAC_BYTES;
/** Handshake payload without extensions and without the identity key (crypto/noise/payload.ts). */
export const PAYLOAD_BASE_BYTES = 38;
export const PAYLOAD_IDENTITY_BYTES = 32;
export const MAX_EXTENSION_BYTES = 64;

const ENC_STATIC = KEY_BYTES + TAG_BYTES; // 48
const P_ID_MIN = PAYLOAD_BASE_BYTES + PAYLOAD_IDENTITY_BYTES; // 70
const P_MIN = PAYLOAD_BASE_BYTES; // 38

interface Layout {
  header: number;
  noiseMin: number;
  noiseMax: number;
}
/** XX msg2 at its largest: the size XX msg1 is padded to (anti-amplification). */
export const XX2_MAX_BYTES = 1 + SID_BYTES + KEY_BYTES + ENC_STATIC + P_ID_MIN + MAX_EXTENSION_BYTES + TAG_BYTES + MACS_BYTES; // 267
export const XX1_BYTES = XX2_MAX_BYTES;
/** XX msg1's plaintext payload: sender sid (4) ‖ zero padding. */
export const XX1_PAYLOAD_BYTES = XX1_BYTES - 1 - KEY_BYTES - MACS_BYTES; // 202

export const LAYOUTS: Record<V4HandshakeType, Layout> = {
  // e ‖ enc(s) ‖ enc(payload with identity)
  [V4.ikInit]: { header: 1, noiseMin: KEY_BYTES + ENC_STATIC + P_ID_MIN + TAG_BYTES, noiseMax: KEY_BYTES + ENC_STATIC + P_ID_MIN + MAX_EXTENSION_BYTES + TAG_BYTES },
  // e ‖ enc(payload)
  [V4.ikResponse]: { header: 1 + SID_BYTES, noiseMin: KEY_BYTES + P_MIN + TAG_BYTES, noiseMax: KEY_BYTES + P_MIN + MAX_EXTENSION_BYTES + TAG_BYTES },
  // e ‖ payload (plaintext: sid ‖ zeros)
  [V4.xx1]: { header: 1, noiseMin: KEY_BYTES + XX1_PAYLOAD_BYTES, noiseMax: KEY_BYTES + XX1_PAYLOAD_BYTES },
  // e ‖ enc(s) ‖ enc(payload with identity)
  [V4.xx2]: { header: 1 + SID_BYTES, noiseMin: KEY_BYTES + ENC_STATIC + P_ID_MIN + TAG_BYTES, noiseMax: KEY_BYTES + ENC_STATIC + P_ID_MIN + MAX_EXTENSION_BYTES + TAG_BYTES },
  // enc(s) ‖ enc(payload with identity)
  [V4.xx3]: { header: 1 + SID_BYTES, noiseMin: ENC_STATIC + P_ID_MIN + TAG_BYTES, noiseMax: ENC_STATIC + P_ID_MIN + MAX_EXTENSION_BYTES + TAG_BYTES },
};

export const messageSizeRange = (type: V4HandshakeType): [number, number] => {
  const l = LAYOUTS[type];
  return [l.header + l.noiseMin + MACS_BYTES, l.header + l.noiseMax + MACS_BYTES];
};

export const COOKIE_BYTES = 16;
export const COOKIE_NONCE_BYTES = 24;
export const COOKIE_REPLY_BYTES = 1 + SID_BYTES + COOKIE_NONCE_BYTES + COOKIE_BYTES + TAG_BYTES; // 61

export interface HandshakeMessage {
  type: V4HandshakeType;
  /** The receiver's session id from the clear header, or null (IK init, XX msg1). */
  receiverSid: number | null;
  /** The Noise message (views into `bytes`). */
  noise: Uint8Array;
  mac1: Uint8Array;
  mac2: Uint8Array;
  bytes: Uint8Array;
}

const readU32 = (b: Uint8Array, off: number): number => ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
function writeU32(b: Uint8Array, off: number, n: number): void {
  b[off] = n >>> 24;
  b[off + 1] = n >>> 16;
  b[off + 2] = n >>> 8;
  b[off + 3] = n;
}

export const isHandshakeType = (t: number): t is V4HandshakeType => t === V4.ikInit || t === V4.ikResponse || t === V4.xx1 || t === V4.xx2 || t === V4.xx3;

/** A v4 handshake message or cookie reply (0x41, 0x42, 0x44–0x47). */
export const isHandshakeOrCookieType = (t: number | undefined): boolean => t !== undefined && (isHandshakeType(t) || t === V4.cookieReply);

/** Assembles header ‖ noise ‖ 0^32; the macs are filled in by CookieGenerator.addMacs. */
export function encodeHandshake(type: V4HandshakeType, receiverSid: number | null, noise: Uint8Array): Uint8Array {
  const l = LAYOUTS[type];
  if (noise.length < l.noiseMin || noise.length > l.noiseMax) throw new RangeError(`handshake 0x${type.toString(16)}: noise message of ${noise.length} bytes outside [${l.noiseMin}, ${l.noiseMax}]`);
  if ((l.header > 1) !== (receiverSid !== null)) throw new RangeError('receiver sid present exactly when the layout has one');
  const b = new Uint8Array(l.header + noise.length + MACS_BYTES);
  b[0] = type;
  if (receiverSid !== null) writeU32(b, 1, receiverSid);
  b.set(noise, l.header);
  return b;
}

/** Length and type checks only. */
export function parseHandshake(b: Uint8Array): HandshakeMessage {
  const type = b[0];
  if (type === undefined || !isHandshakeType(type)) throw new DropError('malformed', 'not a v4 handshake type');
  const l = LAYOUTS[type];
  const [min, max] = messageSizeRange(type);
  if (b.length < min || b.length > max) throw new DropError('malformed', 'bad v4 handshake length');
  const end = b.length - MACS_BYTES;
  return {
    type,
    receiverSid: l.header > 1 ? readU32(b, 1) : null,
    noise: b.subarray(l.header, end),
    mac1: b.subarray(end, end + MAC_BYTES),
    mac2: b.subarray(end + MAC_BYTES),
    bytes: b,
  };
}

export interface CookieReplyMessage {
  /** First 4 bytes of the mac1 of the message this answers (the initiator's lookup key). */
  ref: Uint8Array;
  nonce: Uint8Array;
  sealedCookie: Uint8Array;
  bytes: Uint8Array;
}

export function encodeCookieReply(ref: Uint8Array, nonce: Uint8Array, sealedCookie: Uint8Array): Uint8Array {
  if (ref.length !== SID_BYTES || nonce.length !== COOKIE_NONCE_BYTES || sealedCookie.length !== COOKIE_BYTES + TAG_BYTES) throw new RangeError('cookie reply field sizes');
  const b = new Uint8Array(COOKIE_REPLY_BYTES);
  b[0] = V4.cookieReply;
  b.set(ref, 1);
  b.set(nonce, 1 + SID_BYTES);
  b.set(sealedCookie, 1 + SID_BYTES + COOKIE_NONCE_BYTES);
  return b;
}

export function parseCookieReply(b: Uint8Array): CookieReplyMessage {
  if (b.length !== COOKIE_REPLY_BYTES || b[0] !== V4.cookieReply) throw new DropError('malformed', 'bad cookie reply length or type');
  return {
    ref: b.subarray(1, 5),
    nonce: b.subarray(5, 5 + COOKIE_NONCE_BYTES),
    sealedCookie: b.subarray(5 + COOKIE_NONCE_BYTES),
    bytes: b,
  };
}

/** The prologue of every v4 handshake: label ‖ version ‖ first message's type (no downgrade). */
export function v4Prologue(firstType: typeof V4.ikInit | typeof V4.xx1): Uint8Array {
  const label = new TextEncoder().encode('udpvault handshake');
  const p = new Uint8Array(label.length + 2);
  p.set(label);
  p[label.length] = PROTOCOL_VERSION_V4;
  p[label.length + 1] = firstType;
  return p;
}
