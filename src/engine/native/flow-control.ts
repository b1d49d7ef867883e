/**
 * Flow control of the native engine's reliable streams (docs/DESIGN.md "Flow control: the
 * receive window"): the window this node grants each peer, the peers waiting for inbox room
 * (they count for the fair share), the credit reset when a peer restarts, and the probe a
 * sender out of credit sends. The counting itself lives in the link's PacketSpace
 * (sendCredit / recvCredit, delivery/flow.ts), driven by ReliableSender / ReliableReceiver.
 */
import { INITIAL_CREDIT, type CreditWindow } from '../../delivery/flow';
import type { ReliableSender } from '../../delivery/reliable-sender';
import type { ReliableReceiver } from '../../delivery/reliable-receiver';
import type { NodeContext } from '../context';
import type { NativeLink } from './link';

/** A sender out of credit asks for the current credit this often (a keepalive; its ack carries the credit). */
export const BLOCKED_PROBE_MS = 1_000;

export class NativeFlowControl {
  readonly #ctx: NodeContext;
  /** Keys of peers whose reliable data waits in our reassembly buffer (they count for inbox shares). */
  readonly #waiting = new Set<string>();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }

  /**
   * Our receive window for the peer: its share of the inbox room (a reader attached: the whole
   * inbox size), never more than its reassembly budget, which therefore never has to evict for
   * a sender that keeps to its credit. Nothing beyond INITIAL_CREDIT before the peer's stream
   * started: idle peers' acks must not promise the inbox to everyone (credit is never taken back).
   */
  receiveWindow(link: NativeLink, receiver: ReliableReceiver | null): CreditWindow {
    if (!receiver || receiver.stream === null) return { windowBytes: 0, windowMessages: 0 };
    const room = this.#ctx.receiveCredit(link.peer, this.#waiting);
    return { windowBytes: Math.min(this.#ctx.settings.reassemblyPeerBytes, room.bytes), windowMessages: room.messages };
  }

  /**
   * The peer restarted (a new instance): its receiver grants the initial credit again and
   * counts our unacknowledged items as their copies arrive (ReliableSender.creditRestarted).
   */
  peerRestarted(link: NativeLink, sender: ReliableSender | null): void {
    link.path.space.sendCredit.reset(INITIAL_CREDIT, sender ? sender.creditRestarted() : { bytes: 0, messages: 0 });
  }

  /** After the peer's items were processed (or held ones delivered): it waits for room while data stays buffered. */
  noteWaiting(link: NativeLink, receiver: ReliableReceiver): void {
    if (receiver.bufferedItems > 0) this.#waiting.add(link.peer.keyString ?? '');
    else if (this.#waiting.size > 0) this.#waiting.delete(link.peer.keyString ?? ''); // nobody waits (the usual case): no lookup per frame
  }

  /** Room was made: whether the peer should get a window update now (its limits grew enough). */
  updateDue(link: NativeLink, receiver: ReliableReceiver): boolean {
    return receiver.stream !== null && link.path.space.recvCredit.updateDue();
  }

  /**
   * While new items wait, called every BLOCKED_PROBE_MS: a sender out of credit sends a
   * keepalive, whose packet ack carries the peer's current credit (a window update may have
   * been lost: acks are not retransmitted). Returns when to check again, or null (nothing waits).
   */
  probe(link: NativeLink, sender: ReliableSender): number | null {
    if (sender.queued === 0) return null;
    if (link.path.space.sendCredit.blocked && link.alive) {
      link.outbox.pushControl({ type: 'keepalive' });
      this.#ctx.scheduleFlush(link.peer);
    }
    return this.#ctx.clock.monotonic() + BLOCKED_PROBE_MS;
  }

  forget(link: NativeLink): void {
    this.#waiting.delete(link.peer.keyString ?? '');
  }
}
