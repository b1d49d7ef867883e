/**
 * The data datagram's outer layout (docs/PROTOCOL.md has the tables; the v4 handshake layouts
 * are in handshake-v4.ts). Parsing here is length checks only — no cryptography.
 */
import * as C from '../constants';
import { DropError } from '../errors';

/** Smallest data datagram: header + tag + a frame of at least one byte. */
export const DATA_MIN_BYTES = C.DATA_HEADER_BYTES + C.AEAD_TAG_BYTES + 1;

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

/** Data datagram header fields (the 13 header bytes are the AEAD associated data). */
export interface DataHeader {
  receiverSid: number;
  counter: number;
}

export function parseDataHeader(b: Uint8Array): DataHeader {
  return { receiverSid: readU32(b, 1), counter: readU64(b, 5) };
}

/** The header's receiver session id alone (the receive path: no header object per datagram). */
export function dataReceiverSid(b: Uint8Array): number {
  return readU32(b, 1);
}

/** The header's counter alone; above 2^53 it throws DropError 'malformed', as parseDataHeader does. */
export function dataCounter(b: Uint8Array): number {
  return readU64(b, 5);
}

export function encodeDataHeader(receiverSid: number, counter: number): Uint8Array {
  const h = new Uint8Array(C.DATA_HEADER_BYTES);
  writeDataHeader(h, receiverSid, counter);
  return h;
}

/** Writes the 13-byte data header at the start of `b` (the send path's datagram buffer). */
export function writeDataHeader(b: Uint8Array, receiverSid: number, counter: number): void {
  b[0] = C.TYPE_DATA;
  writeU32(b, 1, receiverSid);
  writeU64(b, 5, counter);
}
