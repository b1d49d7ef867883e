/**
 * The message-size limits two peers tell each other (control item `limits`, PROTOCOL.md §14):
 * ours rides once per session on a frame that goes to the peer anyway (never a datagram of its
 * own, so it cannot disturb the liveness timers) and again if that frame was lost; theirs is
 * kept so that send() refuses what the peer would drop.
 */
import type { ControlItem } from '../../wire/frame';
import type { NativeLink } from './link';

/** No announcement due (shared, never written: takeAnnouncement() runs for every frame). */
const NONE: readonly ControlItem[] = Object.freeze([]);

export class LimitsExchange {
  readonly #ourMax: () => number;
  /** The maxMessageBytes each peer announced. */
  readonly #peerMax = new Map<NativeLink, number>();
  /** Sessions on which we announced our own limit. */
  readonly #announced = new WeakSet<object>();
  /** Links whose next frame carries our limit. */
  readonly #announcing = new Set<NativeLink>();
  /** The session announce() saw last (already in #announced): a flow's datagrams skip the WeakSet. */
  #lastSession: object | null = null;

  constructor(ourMax: () => number) {
    this.#ourMax = ourMax;
  }

  /** The largest message the peer accepts, as it announced (null before its announcement). */
  peerMax(link: NativeLink): number | null {
    return this.#peerMax.get(link) ?? null;
  }

  /** The peer announced its limit. */
  heard(link: NativeLink, maxMessageBytes: number): void {
    this.#peerMax.set(link, maxMessageBytes);
  }

  /** An authenticated frame on `session`: the first one makes us announce our limit on it. */
  announce(link: NativeLink, session: object): void {
    if (session === this.#lastSession) return;
    this.#lastSession = session;
    if (this.#announced.has(session)) return;
    this.#announced.add(session);
    this.#announcing.add(link);
  }

  /** The frame that carried our `limits` was lost: it rides on the next frame again. */
  reannounce(link: NativeLink): void {
    if (link.alive) this.#announcing.add(link);
  }

  /** The `limits` item for a frame that goes to the peer anyway, once per announcement (else an empty, shared list). */
  take(link: NativeLink): readonly ControlItem[] {
    if (this.#announcing.size === 0 || !this.#announcing.delete(link)) return NONE;
    return [{ type: 'limits', maxMessageBytes: this.#ourMax() }];
  }

  forget(link: NativeLink): void {
    this.#peerMax.delete(link);
    this.#announcing.delete(link);
    this.#lastSession = null; // a dropped peer's session is not kept by the cache
  }
}
