/**
 * The journal's file format. A journal file is an 8-byte header — "UVJ1" and the generation
 * (u32 LE) it continues from the snapshot of the same generation — then frames:
 *
 *   u32 LE length of the payload | u32 LE CRC-32 of (length bytes ‖ payload) | payload
 *
 * where the payload is one record as UTF-8 JSON. Decoding stops at the first frame that is
 * incomplete, longer than MAX_PAYLOAD or fails its checksum: that is a torn tail (a crash
 * during an append that was never acknowledged) and everything from it on is ignored.
 */
import { crc32 } from './crc32';

/** Daemon-owned state that changes often. `key` is a peer's public key string (its identity). */
export type JournalRecord =
  /** The newest accepted handshake timestamp of an identity (replay protection); only increases. */
  | { type: 'handshake'; key: string; ts: number }
  /** The key learned on first use for the peer-store entry `ref` (its name, else its endpoint); null forgets it. */
  | { type: 'tofu'; ref: string; key: string | null }
  /** This node's stream epoch toward `key` (reliable mode); only increases. */
  | { type: 'epoch'; key: string; epoch: number }
  /** Message `seq` of `key`'s stream epoch `epoch` was delivered here (exactly once across restarts). */
  | { type: 'delivered'; key: string; epoch: number; seq: number }
  /** Every message seq ≤ `seq` of `key`'s stream epoch `epoch` was delivered here or is over (a cumulative floor). */
  | { type: 'deliveredThrough'; key: string; epoch: number; seq: number };

export const JOURNAL_MAGIC = Buffer.from('UVJ1');
export const HEADER_BYTES = 8;
const FRAME_HEAD = 8;
/** Largest payload a frame may carry; a longer length field is a torn or corrupt frame. */
export const MAX_PAYLOAD = 4096;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max = 300): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** Null when `r` is a valid record, else what is wrong (field names only, never values). */
export function checkRecord(r: unknown): string | null {
  if (typeof r !== 'object' || r === null) return 'not an object';
  const o = r as Record<string, unknown>;
  switch (o.type) {
    case 'handshake':
      return isText(o.key) && isCount(o.ts) ? null : 'handshake needs key and a non-negative integer ts';
    case 'tofu':
      return isText(o.ref) && (o.key === null || isText(o.key)) ? null : 'tofu needs ref and key (string or null)';
    case 'epoch':
      return isText(o.key) && isCount(o.epoch) ? null : 'epoch needs key and a non-negative integer epoch';
    case 'delivered':
      return isText(o.key) && isCount(o.epoch) && isCount(o.seq) ? null : 'delivered needs key and non-negative integers epoch and seq';
    case 'deliveredThrough':
      return isText(o.key) && isCount(o.epoch) && isCount(o.seq) ? null : 'deliveredThrough needs key and non-negative integers epoch and seq';
    default:
      return 'unknown type';
  }
}

/** Only the record's own fields, in a fixed order. */
function canonical(r: JournalRecord): JournalRecord {
  switch (r.type) {
    case 'handshake':
      return { type: r.type, key: r.key, ts: r.ts };
    case 'tofu':
      return { type: r.type, ref: r.ref, key: r.key };
    case 'epoch':
      return { type: r.type, key: r.key, epoch: r.epoch };
    case 'delivered':
    case 'deliveredThrough':
      return { type: r.type, key: r.key, epoch: r.epoch, seq: r.seq };
  }
}

export function encodeHeader(generation: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  JOURNAL_MAGIC.copy(b);
  b.writeUInt32LE(generation, 4);
  return b;
}

/** The generation of a journal header; null when the bytes are not one. */
export function decodeHeader(b: Uint8Array): number | null {
  if (b.length < HEADER_BYTES || !Buffer.from(b.buffer, b.byteOffset, 4).equals(JOURNAL_MAGIC)) return null;
  return Buffer.from(b.buffer, b.byteOffset, HEADER_BYTES).readUInt32LE(4);
}

/** One frame for `r`; throws RangeError for an invalid or oversized record. */
export function encodeRecord(r: JournalRecord): Buffer {
  const why = checkRecord(r);
  if (why) throw new RangeError(`invalid journal record: ${why}`);
  const payload = Buffer.from(JSON.stringify(canonical(r)));
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`journal record too large (${payload.length} bytes, at most ${MAX_PAYLOAD})`);
  const frame = Buffer.alloc(FRAME_HEAD + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  payload.copy(frame, FRAME_HEAD);
  frame.writeUInt32LE(crc32(payload, crc32(frame.subarray(0, 4))), 4);
  return frame;
}

export interface DecodedFrames {
  records: JournalRecord[];
  /** Offset just after the last valid frame. */
  validEnd: number;
  /** Bytes after validEnd (a torn tail), ignored. */
  tornBytes: number;
}

/** Decodes the frames of `b` from `offset`, in order, stopping at a torn tail. */
export function decodeFrames(b: Buffer, offset = HEADER_BYTES): DecodedFrames {
  const records: JournalRecord[] = [];
  let at = offset;
  while (at + FRAME_HEAD <= b.length) {
    const len = b.readUInt32LE(at);
    if (len > MAX_PAYLOAD || at + FRAME_HEAD + len > b.length) break;
    const payload = b.subarray(at + FRAME_HEAD, at + FRAME_HEAD + len);
    if (crc32(payload, crc32(b.subarray(at, at + 4))) !== b.readUInt32LE(at + 4)) break;
    let rec: unknown;
    try {
      rec = JSON.parse(payload.toString('utf8'));
    } catch {
      break;
    }
    if (checkRecord(rec) !== null) break;
    records.push(rec as JournalRecord);
    at += FRAME_HEAD + len;
  }
  return { records, validEnd: at, tornBytes: b.length - at };
}
