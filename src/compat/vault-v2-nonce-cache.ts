/**
 * Replay cache for vault-v2 inner nonces (SPEC §6: "the 16-byte inner nonce not seen
 * before"), bounded in memory and by time.
 *
 * A nonce only needs remembering while its timestamp is inside the freshness window; older
 * datagrams are refused as stale anyway. Memory is capped at `maxEntries`: when full, the
 * oldest-inserted entry is forgotten. Every forgotten entry (expired or evicted) raises a
 * floor, and a datagram whose timestamp is at or below the floor is refused as stale, because
 * its nonce might have been forgotten. So a flood can neither grow memory nor open a replay
 * hole; at worst it makes late, reordered datagrams stale. A wall clock that steps back does
 * not re-admit expired nonces either (the floor stays).
 */
import { DropError } from '../errors';

export const VAULT_V2_FRESHNESS_WINDOW_MS = 60_000;
export const VAULT_V2_NONCE_CACHE_ENTRIES = 8192;
export const VAULT_V2_INNER_NONCE_BYTES = 16;

export interface VaultV2NonceCacheOptions {
  /** Most nonces remembered at once (default 8192, above 100 datagrams/s × 60 s). */
  maxEntries?: number;
  /** Freshness window: accepted when 0 ≤ now − timestamp ≤ windowMs (default 60 000). */
  windowMs?: number;
}

export class VaultV2NonceCache {
  readonly maxEntries: number;
  readonly windowMs: number;
  /** nonce (latin1 string of 16 bytes) → sender timestamp (ms), in insertion order. */
  #entries = new Map<string, number>();
  /** Timestamps at or below this may belong to forgotten nonces. */
  #floorMs = -Infinity;

  constructor(options: VaultV2NonceCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? VAULT_V2_NONCE_CACHE_ENTRIES;
    this.windowMs = options.windowMs ?? VAULT_V2_FRESHNESS_WINDOW_MS;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    if (!(this.windowMs >= 0)) throw new RangeError('windowMs must be ≥ 0');
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Accepts `nonce` once: remembers it, or throws DropError('replay') when it was seen, or
   * DropError('stale') when its timestamp is at or below the floor of forgotten entries.
   * Call only for authenticated datagrams whose timestamp passed the freshness check.
   */
  admit(nonce: Uint8Array, timestampMs: number, nowMs: number): void {
    if (nonce.length !== VAULT_V2_INNER_NONCE_BYTES) throw new DropError('malformed', 'vault-v2 inner nonce has the wrong length');
    this.#expire(nowMs);
    const key = Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).toString('latin1');
    if (this.#entries.has(key)) throw new DropError('replay', 'vault-v2 inner nonce seen before');
    if (timestampMs <= this.#floorMs) throw new DropError('stale', 'vault-v2 datagram older than the replay cache remembers');
    while (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.entries().next().value;
      if (!oldest) break;
      this.#forget(oldest[0], oldest[1]);
    }
    this.#entries.set(key, timestampMs);
  }

  #expire(nowMs: number): void {
    const cutoff = nowMs - this.windowMs;
    for (const [key, ts] of this.#entries) {
      if (ts >= cutoff) break; // insertion order ≈ time order; the size cap bounds any stragglers
      this.#forget(key, ts);
    }
  }

  #forget(key: string, ts: number): void {
    this.#entries.delete(key);
    if (ts > this.#floorMs) this.#floorMs = ts;
  }
}
