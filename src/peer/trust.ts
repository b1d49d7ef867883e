/**
 * One peer's trust policy, the same for native and vault-v2 peers: a pinned key (given by the
 * user), a TOFU key (recorded once a session authenticated by it is confirmed), or none yet. A different key is
 * refused; for a TOFU peer the refusal is reported once per offered key (not once per retry).
 */
import { encodeKey } from '../crypto/identity';
import { identityStatic } from '../crypto/noise/common';
import { DropError } from '../errors';
import type { Trust } from '../api/types';

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The table's key for a handshake static (32 bytes of X25519): its bytes as a latin1 string, 32
 * one-byte characters (a 48-byte string per peer where hex took 80: issue 12). Not for display.
 */
export function staticKeyString(x25519: Uint8Array): string {
  return Buffer.from(x25519.buffer, x25519.byteOffset, x25519.length).toString('latin1');
}

/** The table's key (staticKeyString) of the X25519 form of an Ed25519 key (the handshake static), or null when it has none. */
export function staticKeyOf(key: Uint8Array): string | null {
  const x = identityStatic(key);
  return x ? staticKeyString(x) : null;
}

/** Keys per slab: peers' keys are views into shared slabs, not an ArrayBuffer each (issue 12: ~120 B per peer). */
const SLAB_KEYS = 256;
const KEY_BYTES = 32;
/** Bytes of one key slab (tests: a recorded key is a 32-byte slot of one, never a view of a received datagram). */
export const KEY_SLAB_BYTES = SLAB_KEYS * KEY_BYTES;
let slab: Uint8Array | null = null;
let slabUsed = 0;

/** A copy of `key` in the current slab (a key of another size gets its own buffer). Slots are not reused: 32 B per key ever added. */
function keepKey(key: Uint8Array): Uint8Array {
  if (key.length !== KEY_BYTES) return new Uint8Array(key);
  if (slab === null || slabUsed === SLAB_KEYS) {
    slab = new Uint8Array(KEY_BYTES * SLAB_KEYS);
    slabUsed = 0;
  }
  const view = slab.subarray(slabUsed * KEY_BYTES, (slabUsed + 1) * KEY_BYTES);
  slabUsed++;
  view.set(key);
  return view;
}

export class PeerTrust {
  #key: Uint8Array | null;
  #keyString: string | null;
  #staticKey: string | null;
  #level: Trust;
  /** The offered key of the last key-changed report. */
  #reported: string | null = null;

  constructor(key: Uint8Array | null, level: Trust) {
    this.#key = key ? keepKey(key) : null;
    this.#keyString = key ? encodeKey(key) : null;
    this.#staticKey = key ? staticKeyOf(key) : null;
    this.#level = key ? level : 'unknown';
  }

  get key(): Uint8Array | null {
    return this.#key;
  }
  get keyString(): string | null {
    return this.#keyString;
  }
  /** The handshake static (X25519 form of the key) as the table keys it (staticKeyString); null without a key. */
  get staticKey(): string | null {
    return this.#staticKey;
  }
  get level(): Trust {
    return this.#level;
  }

  /**
   * The key a signature by `offered` must verify with: the recorded key, or `offered` itself
   * while none is recorded (TOFU; recorded by `recordFirst` once it verified). A different key
   * throws DropError('keyChanged'); `report(offeredKeyString)` runs first when this refusal
   * should be reported (a TOFU peer, a key not reported before).
   */
  verifyingKey(offered: Uint8Array, report: (offeredKey: string) => void): Uint8Array {
    if (this.#key === null) return offered;
    if (!equalBytes(this.#key, offered)) {
      const s = encodeKey(offered);
      if (this.#level === 'tofu' && this.#reported !== s) {
        this.#reported = s;
        report(s);
      }
      throw new DropError('keyChanged', 'signed by a key other than the recorded one');
    }
    return this.#key;
  }

  /** TOFU: records the first key that verified; false when a key was already recorded. */
  recordFirst(key: Uint8Array): boolean {
    if (this.#key !== null) return false;
    PeerTrust.#set(this, key, 'tofu');
    return true;
  }

  /** Pins a key given by the user (a new peer, or --replace-key). */
  pin(key: Uint8Array): void {
    PeerTrust.#set(this, key, 'pinned');
  }

  /** Restores the level recorded in the peer store (the key is the stored one). */
  restoreLevel(level: Trust): void {
    if (this.#key !== null && level !== 'unknown') this.#level = level;
  }

  // Helpers are `static #`, not private instance methods: those give every instance a brand field (8 B per idle peer; mem22, issue 12).
  static #set(self: PeerTrust, key: Uint8Array, level: Trust): void {
    self.#key = keepKey(key);
    self.#keyString = encodeKey(key);
    self.#staticKey = staticKeyOf(key);
    self.#level = level;
    self.#reported = null;
  }
}
