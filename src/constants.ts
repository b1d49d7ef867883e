/**
 * Constants. "Specification" values are part of the wire protocol (changing one is a
 * protocol change). "Implementation" values are defaults and limits of this implementation.
 */

// ---- Specification (protocol v4) -------------------------------------------------------
/** v4: Noise IK/XX handshake (wire/handshake-v4.ts, 0x41/0x42/0x44–0x47); the frame adds packet
 * numbers and packet acks (docs/PROTOCOL.md). */
export const PROTOCOL_VERSION = 4;
/** First byte of every v4 datagram: high nibble version, low nibble type. */
export const TYPE_DATA = 0x43;

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const SESSION_ID_BYTES = 4;
export const COUNTER_BYTES = 8;
export const AEAD_TAG_BYTES = 16;
/** Data header: type byte + receiver session id + counter. */
export const DATA_HEADER_BYTES = 1 + SESSION_ID_BYTES + COUNTER_BYTES;
/**
 * Largest data datagram accepted from a peer: peers size datagrams by their own MTU, so a
 * receiver accepts up to a 9000-byte jumbo frame's UDP payload (or its own maximum, if larger).
 */
export const MAX_PEER_DATAGRAM_BYTES = 9000 - 20 - 8;
/**
 * Version of the encrypted frame (docs/PROTOCOL.md §7): 5 = a msgpack fixarray
 * [v, t, n, i, p, c, r, g] (4 was a fixmap with one-letter keys). The datagram type byte and
 * the v4 handshake are unchanged; a frame of another version is dropped as `unknownVersion`.
 */
export const FRAME_VERSION = 5;

// ---- Implementation defaults (overridable by configuration) -----------------------------
export const DEFAULT_PORT = 11000;
export const FRESHNESS_WINDOW_MS = 60_000;
export const REKEY_AFTER_MS = 120_000;
export const REKEY_AFTER_MESSAGES = 2 ** 32;
/** A session is refused for sending past this age and dropped for receiving past it. */
export const REJECT_AFTER_MS = 180_000;
/** The previous session stays valid for receiving this long after a rekey. */
export const PREVIOUS_SESSION_GRACE_MS = 10_000;
export const HANDSHAKE_RETRY_MS = 1_500;
/**
 * The first handshake retransmission comes this long after the init (±20% jitter), then it
 * doubles up to HANDSHAKE_RETRY_MAX_MS: a lost init under a flood costs well under a second.
 */
export const HANDSHAKE_FIRST_RETRY_MS = 400;
export const HANDSHAKE_RETRY_MAX_MS = 12_000;
export const QUEUE_TIMEOUT_MS = 10_000;
export const QUEUE_MAX_MESSAGES = 1024;
export const QUEUE_MAX_BYTES = 8 * 1024 * 1024;
export const KEEPALIVE_MS = 25_000;
export const REPLAY_WINDOW_PACKETS = 2048;
export const MAX_MESSAGE_BYTES = 1024 * 1024;
export const DEFAULT_MTU = 1500;
export const IPV4_HEADER_BYTES = 20;
export const IPV6_HEADER_BYTES = 40;
export const UDP_HEADER_BYTES = 8;
export const COMPRESSION_LEVEL = 3;
/** Payloads shorter than this are not worth a compression attempt. */
export const COMPRESSION_MIN_BYTES = 128;
