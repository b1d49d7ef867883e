/**
 * vault-v2 key announcement, the control field `c` of a body (SPEC §6):
 *
 *   {"enc_key": "<b64 X25519 pk>", "sign_key": "<b64 Ed25519 pk>", "signature": "<b64>", "port": 17201}
 *
 * written like Python's `json.dumps` defaults (separators ", " and ": ", this key order) and
 * standard padded base64. `signature` is a libsodium "combined" signed message: the 64-byte
 * Ed25519 signature ‖ ASCII(enc_key_b64 + sign_key_b64), signed by the announced sign key.
 * Pure; requires `sodiumReady()` to have been awaited.
 */
import { signDetached, verifyDetached } from '../crypto/sodium';
import { DropError, UdpVaultError } from '../errors';

const KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface VaultV2AnnouncementInput {
  /** Our X25519 public key. */
  encPk: Uint8Array;
  /** Our Ed25519 public key. */
  signPk: Uint8Array;
  /** Our 64-byte libsodium Ed25519 secret key. Never logged. */
  signSk: Uint8Array;
  /** The UDP port we listen on (the reference sends from random ports). */
  port: number;
}

export interface VaultV2Announcement {
  encPk: Uint8Array;
  signPk: Uint8Array;
  port: number;
}

const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Builds the announcement JSON bytes, byte-identical to the reference's for the same keys. */
export function buildAnnouncement(input: VaultV2AnnouncementInput): Uint8Array {
  if (input.encPk.length !== KEY_BYTES || input.signPk.length !== KEY_BYTES) {
    throw new UdpVaultError('ERR_BAD_ARGUMENT', 'vault-v2 announcement keys must be 32 bytes');
  }
  if (!isPort(input.port)) throw new UdpVaultError('ERR_BAD_ARGUMENT', `invalid port ${String(input.port)} for a vault-v2 announcement`);
  const encKey = b64(input.encPk);
  const signKey = b64(input.signPk);
  const signed = Buffer.from(encKey + signKey, 'ascii');
  const sig = signDetached(signed, input.signSk);
  const signature = b64(Buffer.concat([sig, signed]));
  // Python json.dumps default separators; base64 needs no escaping.
  const json = `{"enc_key": "${encKey}", "sign_key": "${signKey}", "signature": "${signature}", "port": ${input.port}}`;
  return new Uint8Array(Buffer.from(json, 'ascii'));
}

const malformed = (what: string): DropError => new DropError('malformed', `vault-v2 announcement: ${what}`);

/** Strict standard base64 (padded, canonical). */
function decodeB64(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || !B64_RE.test(value)) throw malformed(`${field} is not standard base64`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw malformed(`${field} is not canonical base64`);
  return new Uint8Array(bytes);
}

/**
 * Parses and verifies an announcement (any valid JSON layout is accepted). Throws
 * DropError('malformed') for bad JSON/fields and DropError('authFailure') when the signature
 * does not verify with the announced sign key or the signed content is not exactly the two
 * announced keys (a check the reference omits).
 */
export function parseAnnouncement(bytes: Uint8Array): VaultV2Announcement {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    throw malformed('not UTF-8 JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('not a JSON object');
  const rec = doc as Record<string, unknown>;
  const encPk = decodeB64(rec['enc_key'], 'enc_key');
  const signPk = decodeB64(rec['sign_key'], 'sign_key');
  const combined = decodeB64(rec['signature'], 'signature');
  if (encPk.length !== KEY_BYTES || signPk.length !== KEY_BYTES) throw malformed('keys must be 32 bytes');
  if (combined.length <= SIGNATURE_BYTES) throw malformed('signature too short');
  const port = rec['port'];
  if (!isPort(port)) throw malformed('port is not an integer in 1..65535');

  const sig = combined.subarray(0, SIGNATURE_BYTES);
  const signed = combined.subarray(SIGNATURE_BYTES);
  if (!verifyDetached(sig, signed, signPk)) throw new DropError('authFailure', 'vault-v2 announcement signature does not verify');
  const expected = Buffer.from(`${rec['enc_key'] as string}${rec['sign_key'] as string}`, 'ascii');
  if (!expected.equals(signed)) throw new DropError('authFailure', 'vault-v2 announcement signs keys other than the announced ones');
  return { encPk, signPk, port };
}
