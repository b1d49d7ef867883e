/**
 * Outer datagram layouts of protocol v3 (docs/PROTOCOL.md has the tables). Parsing here is
 * length and type checks only — no cryptography — so malformed input is rejected cheaply.
 */
import * as C from '../constants';
import { DropError } from '../errors';

export const INIT_SIGNED_BYTES = 1 + 4 + 8 + 32 + 32 + 32; // 109
export const INIT_BYTES = INIT_SIGNED_BYTES + C.SIGNATURE_BYTES; // 173
export const RESPONSE_SIGNED_BYTES = 1 + 4 + 4 + 8 + 32 + 32; // 81
export const RESPONSE_BYTES = RESPONSE_SIGNED_BYTES + C.SIGNATURE_BYTES; // 145
/** Smallest data datagram: header + tag + a frame of at least one byte. */
export const DATA_MIN_BYTES = C.DATA_HEADER_BYTES + C.AEAD_TAG_BYTES + 1;

export interface InitMessage {
  bytes: Uint8Array;
  senderSid: number;
  timestampMs: number;
  initiatorStatic: Uint8Array;
  /** All zero when the initiator does not know the responder's key yet (TOFU). */
  responderStatic: Uint8Array;
  ephemeral: Uint8Array;
  signature: Uint8Array;
}

export interface ResponseMessage {
  bytes: Uint8Array;
  senderSid: number;
  receiverSid: number;
  timestampMs: number;
  responderStatic: Uint8Array;
  ephemeral: Uint8Array;
  signature: Uint8Array;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

const readU32 = (b: Uint8Array, off: number): number => ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;

function writeU32(b: Uint8Array, off: number, n: number): void {
  b[off] = n >>> 24;
  b[off + 1] = n >>> 16;
  b[off + 2] = n >>> 8;
  b[off + 3] = n;
}

export function readU64(b: Uint8Array, off: number): number {
  const hi = readU32(b, off);
  if (hi > 0x1fffff) throw new DropError('malformed', '64-bit field above 2^53');
  return hi * 0x1_0000_0000 + readU32(b, off + 4);
}

export function writeU64(b: Uint8Array, off: number, n: number): void {
  writeU32(b, off, Math.floor(n / 0x1_0000_0000));
  writeU32(b, off + 4, n >>> 0);
}

export function encodeInitUnsigned(f: Omit<InitMessage, 'bytes' | 'signature'>): Uint8Array {
  const b = new Uint8Array(INIT_BYTES);
  const v = view(b);
  b[0] = C.TYPE_HANDSHAKE_INIT;
  v.setUint32(1, f.senderSid);
  writeU64(b, 5, f.timestampMs);
  b.set(f.initiatorStatic, 13);
  b.set(f.responderStatic, 45);
  b.set(f.ephemeral, 77);
  return b;
}

export function parseInit(b: Uint8Array): InitMessage {
  if (b.length !== INIT_BYTES || b[0] !== C.TYPE_HANDSHAKE_INIT) throw new DropError('malformed', 'bad handshake init length or type');
  return {
    bytes: b,
    senderSid: view(b).getUint32(1),
    timestampMs: readU64(b, 5),
    initiatorStatic: b.subarray(13, 45),
    responderStatic: b.subarray(45, 77),
    ephemeral: b.subarray(77, 109),
    signature: b.subarray(109, 173),
  };
}

export function encodeResponseUnsigned(f: Omit<ResponseMessage, 'bytes' | 'signature'>): Uint8Array {
  const b = new Uint8Array(RESPONSE_BYTES);
  const v = view(b);
  b[0] = C.TYPE_HANDSHAKE_RESPONSE;
  v.setUint32(1, f.senderSid);
  v.setUint32(5, f.receiverSid);
  writeU64(b, 9, f.timestampMs);
  b.set(f.responderStatic, 17);
  b.set(f.ephemeral, 49);
  return b;
}

export function parseResponse(b: Uint8Array): ResponseMessage {
  if (b.length !== RESPONSE_BYTES || b[0] !== C.TYPE_HANDSHAKE_RESPONSE) throw new DropError('malformed', 'bad handshake response length or type');
  const v = view(b);
  return {
    bytes: b,
    senderSid: v.getUint32(1),
    receiverSid: v.getUint32(5),
    timestampMs: readU64(b, 9),
    responderStatic: b.subarray(17, 49),
    ephemeral: b.subarray(49, 81),
    signature: b.subarray(81, 145),
  };
}

/** Data datagram header fields (the 13 header bytes are the AEAD associated data). */
export interface DataHeader {
  receiverSid: number;
  counter: number;
}

export function parseDataHeader(b: Uint8Array): DataHeader {
  return { receiverSid: readU32(b, 1), counter: readU64(b, 5) };
}

export function encodeDataHeader(receiverSid: number, counter: number): Uint8Array {
  const h = new Uint8Array(C.DATA_HEADER_BYTES);
  h[0] = C.TYPE_DATA;
  writeU32(h, 1, receiverSid);
  writeU64(h, 5, counter);
  return h;
}
