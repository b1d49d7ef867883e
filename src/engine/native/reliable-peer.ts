/**
 * One peer's reliable-mode state (reliable.ts): its ReliableSender and ReliableReceiver, made
 * on first use with the window and credit of the link, resumed from the recorded delivered
 * floor (stream-records.ts), and the error a reliable send rejects with.
 */
import { DeliveryError, UdpVaultError } from '../../errors';
import { ReliableSender } from '../../delivery/reliable-sender';
import { ReliableReceiver } from '../../delivery/reliable-receiver';
import { maxFragments } from '../../delivery/fragment';
import type { NodeContext } from '../context';
import type { NativeLink } from './link';
import { deliver } from './receive';
import { baseFragmentChunkBytes, fragmentChunkBytes } from './send';
import type { StreamRecords } from './stream-records';

export interface PeerReliable {
  sender: ReliableSender;
  receiver: ReliableReceiver;
  /** Where the peer's last reliable frame came from (the `addr` of its messages), and that source unformatted. */
  addr: string;
  fromAddress: string;
  fromPort: number;
  /** The delivered floor last recorded for the peer's current epoch: [epoch, cum]. */
  recorded: [number, number] | null;
  /** The delivered floor whose record was written (inboxFsync: acks never go beyond it). */
  durable: [number, number] | null;
  /** Wall-clock ms of the datagram being received (its messages' receivedAt: one clock read per datagram, not per message). */
  receivedAtMs: number;
}

/**
 * The peers' reliable states by link, with a one-entry cache of the last lookup (found or not):
 * a bulk flow asks for one peer 4–5 times per message (send, senderOf, sent, onFrame,
 * deliveryAck). set() and delete() keep the cache right.
 */
export class PeerStates {
  readonly #map = new Map<NativeLink, PeerReliable>();
  #lastLink: NativeLink | null = null;
  #lastState: PeerReliable | undefined = undefined;

  get(link: NativeLink): PeerReliable | undefined {
    if (link === this.#lastLink) return this.#lastState;
    const s = this.#map.get(link);
    this.#lastLink = link;
    this.#lastState = s;
    return s;
  }

  has(link: NativeLink): boolean {
    return this.get(link) !== undefined;
  }

  set(link: NativeLink, s: PeerReliable): void {
    this.#map.set(link, s);
    this.#lastLink = link;
    this.#lastState = s;
  }

  delete(link: NativeLink): void {
    this.#map.delete(link);
    this.#lastLink = null;
    this.#lastState = undefined;
  }

  keys(): IterableIterator<NativeLink> {
    return this.#map.keys();
  }

  [Symbol.iterator](): IterableIterator<[NativeLink, PeerReliable]> {
    return this.#map[Symbol.iterator]();
  }
}

/** The error a reliable send rejects with: the sender's, naming the peer. */
function reliableRejection(label: string, e: Error, timeoutMs: number): Error {
  if (e instanceof UdpVaultError && e.code === 'ERR_NOT_ACKNOWLEDGED' && e.message.startsWith('not acknowledged within')) {
    return new DeliveryError(e.code, `reliable message to peer ${label}: not acknowledged within ${timeoutMs} ms; the outcome is unknown (it may still be delivered)`);
  }
  if (e instanceof UdpVaultError && e.code === 'ERR_FLOW_CONTROL') {
    return new DeliveryError(e.code, `reliable message to peer ${label}: not sent within ${timeoutMs} ms: the peer's inbox is full (it granted no flow-control credit); the message was not delivered`);
  }
  if (e instanceof UdpVaultError) return new DeliveryError(e.code, `reliable message to peer ${label}: ${e.message}`);
  return e;
}

/** A new peer's reliable state; `onSettled` counts its settled messages (close grace). */
export function openPeerReliable(ctx: NodeContext, link: NativeLink, records: StreamRecords, onSettled: () => void): PeerReliable {
  const peer = link.peer;
  const { settings, clock } = ctx;
  // Counted in items: room for a largest message as the peer may cut it (at the path MTU base, before its search raised the size).
  const chunk = Math.min(fragmentChunkBytes(link), baseFragmentChunkBytes());
  const window = Math.max(settings.reliableWindow, maxFragments(settings.maxMessageBytes, chunk));
  const { epoch, floor } = records.open(peer);
  const space = link.path.space;
  const state: PeerReliable = {
    sender: new ReliableSender({ clock, stream: epoch, window, packetLoss: true, credit: space.sendCredit, onSettled, rejection: (e, timeoutMs) => reliableRejection(peer.label(), e, timeoutMs) }),
    receiver: new ReliableReceiver({
      credit: space.recvCredit,
      maxBufferedItems: window, maxBufferedBytes: settings.reassemblyPeerBytes, maxMessageBytes: settings.maxMessageBytes,
      // Acknowledged only once a reader or the inbox took it (checked sizes, decompressed).
      accept: (flags, data) => deliver(ctx, peer, state.addr, flags, data, true, state.receivedAtMs),
      collect: false, // `accept` hands every message on: no list per delivered message
    }),
    addr: peer.endpointString,
    fromAddress: '',
    fromPort: -1,
    recorded: null,
    durable: null,
    receivedAtMs: 0,
  };
  if (floor !== null) {
    state.receiver.resume(floor[0], floor[1]);
    state.recorded = [floor[0], floor[1]];
    state.durable = [floor[0], floor[1]];
  }
  return state;
}
