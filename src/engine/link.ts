/**
 * A peer's link: everything one protocol keeps and does for one peer — its queue, its timers,
 * its secrets. The node picks the implementation once, when the peer is added (Node.#pickLink in node/node.ts);
 * nothing else branches on the protocol.
 */
import type { Datagram } from '../net/transport';
import type { Peer } from '../peer/peer';

export interface LinkSendOptions {
  reliable?: boolean;
  timeoutMs?: number;
}

export interface PeerLink {
  readonly peer: Peer;
  /** Sends one message (size already checked); settles as SendOptions documents. */
  send(data: Uint8Array, opts: LinkSendOptions): Promise<void>;
  /** The peer was added, or changed by the user (`rekeyed`: a new key): make contact now. */
  start(rekeyed: boolean): void;
  /**
   * A datagram the engine attributed to this peer (by session id, or by source address).
   * Returns false when it turns out not to be this peer's (does not authenticate with its keys).
   */
  onDatagram(d: Datagram): boolean;
  /** End-of-turn flush of this turn's messages and controls; `draining`: the node is closing (no new contact). */
  flush(draining: boolean): void;
  /** Runs every timer due at `nowMs` (monotonic). */
  tick(nowMs: number): void;
  /** Rejects every pending send with `err`, wipes the link's secrets, disarms its timers. Final. */
  close(err: Error): void;
}
