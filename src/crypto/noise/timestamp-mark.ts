/**
 * A peer's handshake replay mark (docs/PROTOCOL.md §5.2): the greatest TAI64N-like timestamp
 * accepted from that identity. Raised in memory when a handshake is accepted, so a replay is
 * refused at once; reported for persisting only when the session is confirmed by authenticated
 * data, so an unconfirmed (possibly replayed or KCI-forged) handshake never reaches the journal.
 * After a restart the mark starts from the persisted value. No clock is involved.
 */
import { compareTimestamps, TIMESTAMP_BYTES } from './payload';

export class TimestampMark {
  #inMemory: Uint8Array | null;
  #persisted: Uint8Array | null;

  /** `persisted`: the value last written to the journal for this identity, if any. */
  constructor(persisted: Uint8Array | null = null) {
    if (persisted && persisted.length !== TIMESTAMP_BYTES) throw new RangeError('a timestamp is 12 bytes');
    this.#persisted = persisted ? persisted.slice() : null;
    this.#inMemory = this.#persisted;
  }

  /** True when `ts` is newer than everything accepted so far (else: a replay). */
  isFresh(ts: Uint8Array): boolean {
    return this.#inMemory === null || compareTimestamps(ts, this.#inMemory) > 0;
  }

  /** Accepts `ts` (call after the handshake authenticated and isFresh was true). */
  accept(ts: Uint8Array): void {
    if (!this.isFresh(ts)) throw new RangeError('timestamp not newer than the mark');
    this.#inMemory = ts.slice();
  }

  /**
   * The session started by the handshake stamped `ts` is confirmed: returns the value to write
   * to the journal (fsync before the endpoint moves or a TOFU record), or null when nothing new.
   */
  confirm(ts: Uint8Array): Uint8Array | null {
    if (this.#persisted && compareTimestamps(ts, this.#persisted) <= 0) return null;
    this.#persisted = ts.slice();
    return ts.slice();
  }

  get inMemory(): Uint8Array | null {
    return this.#inMemory ? this.#inMemory.slice() : null;
  }

  get persisted(): Uint8Array | null {
    return this.#persisted ? this.#persisted.slice() : null;
  }
}
