/**
 * Cookie replies budgeted per source (admission.ts): a blind spoofer's thousand addresses cost a
 * few replies a second each, not one per message.
 */

/** Cookie replies per second one source (IPv4 address or IPv6 /64) may receive, and the burst. */
export const COOKIE_REPLIES_PER_SECOND = 2;
export const COOKIE_REPLY_BURST = 4;

/** A source's cookie-reply budget (its own table: spoofed addresses must not churn the admission table). */
interface CookieEntry {
  credit: number;
  ms: number;
}

/** Each source's cookie-reply budget, at most `maxSources` of them (the oldest goes first). */
export class CookieBudgets {
  readonly #budgets = new Map<string, CookieEntry>();
  readonly #maxSources: number;

  constructor(maxSources: number) {
    this.#maxSources = maxSources;
  }

  /**
   * Takes one cookie reply from the source's budget. Its own table, O(1): a blind spoofer's
   * rotating addresses churn it (the oldest budget goes), never the admission table, so sources
   * with history keep theirs.
   */
  allowed(source: string, now: number): boolean {
    let e = this.#budgets.get(source);
    if (!e) {
      if (this.#budgets.size >= this.#maxSources) this.#budgets.delete(this.#budgets.keys().next().value as string);
      e = { credit: COOKIE_REPLY_BURST, ms: now };
      this.#budgets.set(source, e);
    }
    const dt = now - e.ms;
    if (dt > 0) {
      e.credit = Math.min(COOKIE_REPLY_BURST, e.credit + (dt * COOKIE_REPLIES_PER_SECOND) / 1000);
      e.ms = now;
    }
    if (e.credit < 1) return false;
    e.credit -= 1;
    return true;
  }
}
