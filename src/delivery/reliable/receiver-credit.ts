/**
 * The reliable receiver's flow-control bookkeeping (delivery/flow.ts ReceiveCredit behind the
 * ReceiverCredit seam; without one, unlimited): new data is counted when first accepted and
 * refused past the grant (`overCredit`), released when its message reaches the application,
 * unreceived when it leaves otherwise; after resume(), the copies of items delivered before the
 * restart are counted — and released at once — the first time each is seen.
 */
import type { ReceiverCredit } from './receiver-types';

/** Duplicates below a resumed floor tracked for the credit (more than a sender's window never arrive). */
const MAX_RESUMED_SEEN = 1 << 17;

export class CreditLedger {
  readonly #credit: ReceiverCredit | null;
  #overCredit = 0;
  /** The floor resume() started from, and the duplicates at or below it counted since. */
  #resumedCum = 0;
  readonly #resumedSeen = new Set<number>();

  constructor(credit: ReceiverCredit | null) {
    this.#credit = credit;
  }

  /** Items refused because they went past the credit this node granted. */
  get overCredit(): number { return this.#overCredit; }

  /** Counts new data; false (counted in overCredit) when it goes past the credit. */
  charge(bytes: number, messages: number): boolean {
    if (!this.#credit || this.#credit.onReceived(bytes, messages)) return true;
    this.#overCredit++;
    return false;
  }

  release(bytes: number, messages: number): void {
    this.#credit?.onReleased(bytes, messages);
  }

  unreceive(bytes: number, messages: number): void {
    this.#credit?.onUnreceived(bytes, messages);
  }

  /** The receiver resumed a recorded stream at `cum`. */
  resume(cum: number): void {
    this.#resumedCum = cum;
  }

  /** A new stream: counting starts again from the initial grant. */
  reset(): void {
    this.#resumedCum = 0;
    this.#resumedSeen.clear();
    this.#credit?.reset();
  }

  /**
   * A duplicate item: when it was delivered before the receiver resumed (a restart), the sender
   * counted it toward us again (ReliableSender.creditRestarted), so it is counted — and
   * released at once — the first time it is seen.
   */
  countResumedDuplicate(seq: number, bytes: number, index: number | undefined): void {
    if (seq > this.#resumedCum || !this.#credit || this.#resumedSeen.has(seq) || this.#resumedSeen.size >= MAX_RESUMED_SEEN) return;
    this.#resumedSeen.add(seq);
    const first = index === undefined || index === 0 ? 1 : 0;
    if (this.#credit.onReceived(bytes, first)) this.#credit.onReleased(bytes, first);
  }
}
