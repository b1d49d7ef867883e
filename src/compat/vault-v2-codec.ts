/**
 * vault-v2 (py-vault-udp protocol v2) codec, SPEC §6. Pure: no sockets, no timers; time and
 * randomness are injected. Sending a message:
 *
 *   body = buildPaddedBody({ p: encodePayloadText(text) }, mtu, random)
 *   datagram = peerKnown ? sealEnvelope(body, {...}) : body
 *
 * Receiving: classify(datagram) → plaintext body, or openEnvelope() with the keys of the
 * vault-v2 peers on the source IP → decodeBody(); then parseAnnouncement(c) and/or
 * decodePayload(p). Announcements are sent as plaintext bodies with `c` = buildAnnouncement().
 *
 * This module holds the payload codec and re-exports the rest (body, announcement, envelope,
 * nonce cache).
 */
import { DropError, UdpVaultError } from '../errors';
import { compress, decompress } from '../wire/compress';

export * from './vault-v2-body';
export * from './vault-v2-announce';
export * from './vault-v2-envelope';
export * from './vault-v2-nonce-cache';

/** The reference compresses payloads with zstd level 16 (any valid frame is accepted). */
export const VAULT_V2_COMPRESSION_LEVEL = 16;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Payload field `p` for a text message: one zstd frame of its UTF-8 bytes. Bytes that are not
 * UTF-8 are refused with ERR_BAD_ARGUMENT (a reference receiver would drop them).
 */
export function encodePayloadText(text: string | Uint8Array, level: number = VAULT_V2_COMPRESSION_LEVEL): Uint8Array {
  let bytes: Uint8Array;
  if (typeof text === 'string') {
    bytes = new TextEncoder().encode(text);
  } else {
    try {
      strictUtf8.decode(text);
    } catch {
      throw new UdpVaultError('ERR_BAD_ARGUMENT', 'vault-v2 peers accept only UTF-8 text messages');
    }
    bytes = text;
  }
  return compress(bytes, level);
}

/**
 * Decodes payload field `p` to its UTF-8 text bytes (validated, returned as bytes).
 * Refusals (DropError): `decompress` output beyond `maxBytes` (a decompression bomb);
 * `malformed` not a zstd frame, or text that is not UTF-8 (the reference drops it too).
 */
export function decodePayload(p: Uint8Array, maxBytes: number): Uint8Array {
  let text: Uint8Array;
  try {
    text = decompress(p, maxBytes);
  } catch (e) {
    if (e instanceof UdpVaultError && e.code === 'ERR_DECOMPRESS_LIMIT') {
      throw new DropError('decompress', `vault-v2 payload decompresses beyond ${maxBytes} bytes`);
    }
    if (e instanceof UdpVaultError) throw new DropError('malformed', 'vault-v2 payload is not a valid zstd frame');
    throw e;
  }
  try {
    strictUtf8.decode(text);
  } catch {
    throw new DropError('malformed', 'vault-v2 payload is not UTF-8 text');
  }
  return text;
}
