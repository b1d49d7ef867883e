/**
 * The message-size limits two peers tell each other (control item `limits`, PROTOCOL.md §14):
 * ours rides once per session on a frame that goes to the peer anyway (never a datagram of its
 * own, so it cannot disturb the liveness timers) and again if that frame was lost; theirs is
 * kept so that send() refuses what the peer would drop. Both are fields (the link's
 * `peerMaxMessageBytes`, the session's `limitsAnnounced`), not entries of a Map and a WeakSet
 * (issue 12: ~60 B of every idle peer).
 */
import type { ControlItem } from '../../wire/frame';
import type { NativeLink } from './link';

/** A session as the exchange sees it: whether we announced our limit on it. */
export interface AnnouncedOn {
  limitsAnnounced: boolean;
}

/** No announcement due (shared, never written: takeAnnouncement() runs for every frame). */
const NONE: readonly ControlItem[] = Object.freeze([]);

export class LimitsExchange {
  readonly #ourMax: () => number;
  /** Links whose next frame carries our limit. */
  readonly #announcing = new Set<NativeLink>();

  constructor(ourMax: () => number) {
    this.#ourMax = ourMax;
  }

  /** The largest message the peer accepts, as it announced (null before its announcement). */
  peerMax(link: NativeLink): number | null {
    return link.peerMaxMessageBytes;
  }

  /** The peer announced its limit. */
  heard(link: NativeLink, maxMessageBytes: number): void {
    link.peerMaxMessageBytes = maxMessageBytes;
  }

  /** An authenticated frame on `session`: the first one makes us announce our limit on it. */
  announce(link: NativeLink, session: AnnouncedOn): void {
    if (session.limitsAnnounced) return; // a field read: no WeakSet lookup per datagram (main's last-session cache is not needed)
    session.limitsAnnounced = true;
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
    link.peerMaxMessageBytes = null;
    this.#announcing.delete(link);
  }
}
