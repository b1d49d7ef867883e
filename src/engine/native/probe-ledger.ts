/**
 * The node's path MTU probes against the kernel's fragment counter (docs/PROTOCOL.md §12.4): one
 * ledger per node, one account per address family (the kernel counts IPv4 and IPv6 fragments
 * apart).
 *
 * - A probe's send is bracketed: the counter is read just before it is handed to the socket
 *   (open) and again in its send callback (close); what grew in between is the probe's own
 *   fragmentation (or, for microseconds, someone else's: the probe then counts as too big — the
 *   safe direction). One bracket is open at a time per family for the whole node, whatever the
 *   peer: dgram defers the actual send to the next tick, so two probes handed over in one turn
 *   would share their brackets. A probe that finds a bracket open waits; when the bracket
 *   closes, the first waiter is woken (its peer flushed), and only if it opened no bracket by the
 *   end of that turn the next one, and so on (memrss16: waking every waiter at each close made
 *   each of a crowd's searching peers pump again per probe of any of them — all but one finding
 *   the bracket taken — a setup cost growing with the square of the peers searching at once).
 * - Growth inside brackets is "explained". `count()` is the counter net of it: if it grew between
 *   a probe's send and its acknowledgement, fragments came from elsewhere (another process, this
 *   node's data on some path, a tunnel fragmenting later) and the probe is not trusted either.
 */
import type { FragmentCounter } from '../../net/fragment-counter';
import type { NodeContext } from '../context';
import type { Peer } from '../../peer/peer';

type Family = 4 | 6;

export class ProbeLedger {
  readonly #read: FragmentCounter;
  readonly #explained = { 4: 0, 6: 0 };
  /** Raw count when the open bracket opened (null: none open). */
  readonly #open: { 4: number | null; 6: number | null } = { 4: null, 6: null };
  /** Who waits for the open bracket to close (keyed: one wake-up per waiter, called with the waiter). */
  readonly #waiting = { 4: new Map<unknown, (waiter: unknown) => void>(), 6: new Map<unknown, (waiter: unknown) => void>() };
  /**
   * A wake-up for every waiter of the node (its peer flushed), made once (memalloc17: a closure
   * per open was ~10 KB per handshake — a searching link pumps again and again while the
   * bracket is taken).
   */
  readonly wakeWaiter: (waiter: unknown) => void;

  /** Runs a function at the end of the current turn, after the flushes a wake-up scheduled (the node's scheduler). */
  readonly #defer: (fn: () => void) => void;
  /** The end-of-turn checks, one per family (made once). */
  readonly #check = { 4: (): void => this.#wakeNext(4), 6: (): void => this.#wakeNext(6) };

  constructor(read: FragmentCounter, defer: (fn: () => void) => void = queueMicrotask, wakeWaiter: (waiter: unknown) => void = () => undefined) {
    this.#read = read;
    this.#defer = defer;
    this.wakeWaiter = wakeWaiter;
  }

  /**
   * The counter net of what probe sends explain (undefined: unknown). While a bracket is open,
   * what grew since it opened is its probe's to answer for (it is attributed at close).
   */
  count(family: Family): number | undefined {
    const raw = this.#open[family] ?? this.#read(family);
    return raw === undefined ? undefined : raw - this.#explained[family];
  }

  /**
   * Opens a probe's bracket: returns the net count before the send; null when another probe's
   * bracket is open (`wake(waiter)` runs when it closes, once per `waiter`); undefined when the counter
   * cannot be read (no bracket: the probe goes unmeasured).
   */
  open(family: Family, waiter: unknown, wake: (waiter: unknown) => void): number | null | undefined {
    if (this.#open[family] !== null) {
      this.#waiting[family].set(waiter, wake);
      return null;
    }
    const raw = this.#read(family);
    if (raw === undefined) return undefined;
    this.#open[family] = raw;
    return raw - this.#explained[family];
  }

  /** Closes the open bracket (the probe's send callback, or its send failed): the fragments created across it. */
  close(family: Family): number | undefined {
    const start = this.#open[family];
    if (start === null) return undefined;
    this.#open[family] = null;
    const raw = this.#read(family);
    const grew = raw === undefined ? undefined : Math.max(0, raw - start);
    if (grew) this.#explained[family] += grew;
    this.#wakeNext(family);
    return grew;
  }

  /** The first waiter, if no bracket is open; then, at the end of the turn, the next one if that one opened none. */
  #wakeNext(family: Family): void {
    const waiting = this.#waiting[family];
    if (this.#open[family] !== null || waiting.size === 0) return;
    const first = waiting.entries().next().value!;
    waiting.delete(first[0]);
    first[1](first[0]);
    if (waiting.size > 0) this.#defer(this.#check[family]);
  }
}

const ledgers = new WeakMap<NodeContext, ProbeLedger>();

/** The node's ledger, or null without a fragment counter. */
export function probeLedger(ctx: NodeContext): ProbeLedger | null {
  if (!ctx.fragmentCounter) return null;
  return ledgers.get(ctx) ?? newLedger(ctx);
}

/** Made once per node; its own function, so that probeLedger (every pump) allocates no closure context (memalloc17). */
function newLedger(ctx: NodeContext): ProbeLedger {
  const l = new ProbeLedger(ctx.fragmentCounter!, (fn) => ctx.scheduler.microtask(fn), (peer) => ctx.scheduleFlush(peer as Peer));
  ledgers.set(ctx, l);
  return l;
}
