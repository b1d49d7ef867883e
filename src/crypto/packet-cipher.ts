/** The packet cipher's interface (src/crypto/aead.ts chooses the backend). */
export type AeadBackendName = 'native' | 'wasm';

/** Offset of the 8-byte big-endian counter in a data header: the last 8 bytes of the nonce. */
export const NONCE_COUNTER_OFFSET = 5;

/** Largest datagram a cipher seals or opens (a UDP payload). */
export const MAX_SEALED_BYTES = 65535;

/** One direction's packet key. */
export interface PacketCipher {
  readonly backend: AeadBackendName;
  /**
   * Seals in place: `buf[0, headerBytes)` is the header (the AD; the counter at bytes 5..13),
   * `buf[headerBytes, headerBytes + plainBytes)` the plaintext, encrypted where it is; the 16-byte
   * tag is written right after it (`buf` must have the room).
   */
  seal(buf: Uint8Array, headerBytes: number, plainBytes: number): void;
  /** Opens header ‖ ciphertext ‖ tag into `out` (exactly the ciphertext's length less 16); false when authentication fails. */
  open(datagram: Uint8Array, headerBytes: number, out: Uint8Array): boolean;
  /** Zeroes the key; the cipher is unusable afterwards. */
  wipe(): void;
  /** @internal The key's memory while the cipher holds it (null once wiped), for wipe tests. */
  keyView(): Uint8Array | null;
}

/** Both directions of one session's packet keys in one object (pack19: Session holds one, not two ciphers). */
export interface CipherPair {
  /** PacketCipher.seal with the send key. */
  seal(buf: Uint8Array, headerBytes: number, plainBytes: number): void;
  /** PacketCipher.open with the receive key. */
  open(datagram: Uint8Array, headerBytes: number, out: Uint8Array): boolean;
  /** Zeroes both keys; unusable afterwards. */
  wipe(): void;
  /** @internal The memory of the keys still held (send, receive), for wipe tests. */
  keyViews(): Uint8Array[];
}

/** A CipherPair of any two ciphers (the wasm backend's: each keeps its own key). */
export class TwoCiphers implements CipherPair {
  readonly #send: PacketCipher;
  readonly #recv: PacketCipher;
  constructor(send: PacketCipher, recv: PacketCipher) {
    this.#send = send;
    this.#recv = recv;
  }
  seal(buf: Uint8Array, headerBytes: number, plainBytes: number): void {
    this.#send.seal(buf, headerBytes, plainBytes);
  }
  open(datagram: Uint8Array, headerBytes: number, out: Uint8Array): boolean {
    return this.#recv.open(datagram, headerBytes, out);
  }
  wipe(): void {
    this.#send.wipe();
    this.#recv.wipe();
  }
  keyViews(): Uint8Array[] {
    return [this.#send.keyView(), this.#recv.keyView()].filter((v): v is Uint8Array => v !== null);
  }
}

/** Writes the IETF nonce 0^4 ‖ counter (the counter from `b` at NONCE_COUNTER_OFFSET) into `n` (12 bytes, first 4 zero). */
export function counterNonce(n: Uint8Array, b: Uint8Array): Uint8Array {
  const o = NONCE_COUNTER_OFFSET;
  n[4] = b[o]!;
  n[5] = b[o + 1]!;
  n[6] = b[o + 2]!;
  n[7] = b[o + 3]!;
  n[8] = b[o + 4]!;
  n[9] = b[o + 5]!;
  n[10] = b[o + 6]!;
  n[11] = b[o + 7]!;
  return n;
}

/**
 * A datagram buffer that keeps the sub-views a native seal passes to its binding (the AD, the
 * plaintext, the ciphertext ‖ tag), made on its first seal and reused while the split is the
 * same: the send path's pooled slots (engine/native/datagram-pool.ts) are SealBuffers, so a
 * datagram sealed into a reused slot allocates no views (issue 12). Any other Uint8Array works
 * as before.
 */
export class SealBuffer extends Uint8Array {
  /** The split the views below were made for (-1: none yet). */
  viewHeaderBytes = -1;
  viewPlainBytes = -1;
  ad: Uint8Array | null = null;
  plain: Uint8Array | null = null;
  sealed: Uint8Array | null = null;
}
