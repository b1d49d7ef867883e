/**
 * The native protocol for the whole node: the links of native peers, reassembly of
 * datagram-mode fragments, reliable delivery, and the entry point for native datagrams (v4
 * handshakes and cookie replies through the gate, data by session id).
 */
import { MAX_PEER_DATAGRAM_BYTES, TYPE_DATA } from '../../constants';
import { DropError, type DropReason } from '../../errors';
import { Reassembler } from '../../delivery/reassembly';
import { DATA_MIN_BYTES, dataCounter, dataReceiverSid } from '../../wire/packet';
import { countDrop } from '../../peer/counters';
import type { Peer } from '../../peer/peer';
import type { PayloadItem } from '../../wire/frame';
import type { NodeContext } from '../context';
import { NativeLink } from './link';
import { receiveData } from './receive';
import { ReliableDelivery } from './reliable';
import { V4Handshakes } from './handshake-v4';

export class NativeEngine {
  readonly ctx: NodeContext;
  readonly reliable: ReliableDelivery;
  readonly v4: V4Handshakes;
  readonly #reassembler: Reassembler;

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
    const st = ctx.settings;
    this.#reassembler = new Reassembler({
      clock: ctx.clock, timeoutMs: st.reassemblyTimeoutMs, perPeerBytes: st.reassemblyPeerBytes,
      totalBytes: st.reassemblyTotalBytes, maxMessageBytes: st.maxMessageBytes,
    });
    this.reliable = new ReliableDelivery(ctx);
    this.v4 = new V4Handshakes(this);
  }

  /** Links opened so far (each gets its own packet-number space id). */
  #linksOpened = 0;

  /**
   * A new packet-number space id (frame field `i`) for a link: the random per-start id, plus one
   * per link opened since (a peer removed and added again starts a new space, like a restart).
   * A peer seeing a new one starts a new packet space for us.
   */
  nextInstance(): number {
    return ((this.reliable.stream - 1 + this.#linksOpened++) % 0xffffffff) + 1;
  }

  /** A new link for a native peer. */
  open(peer: Peer): NativeLink {
    const link = new NativeLink(this, peer);
    peer.setLink(link);
    return link;
  }

  /**
   * The peer's native link of this engine while it is open: the peer's own field (the node's
   * link), not a Map of this engine's (issue 12: ~29 B per peer); a closed one is forgotten.
   */
  linkOf(peer: Peer | undefined): NativeLink | undefined {
    const link = peer?.link;
    return link instanceof NativeLink && link.engine === this && !link.closed ? link : undefined;
  }

  /** Called by a closing link. */
  forget(link: NativeLink): void {
    this.v4.forget(link);
    this.#reassembler.dropPeer(reassemblyKey(link.peer));
  }

  /**
   * Handles a native datagram (returns false for other types). Refusals throw DropError (counted
   * by the caller). `nowMs`: the caller's monotonic clock read for this datagram (dispatch.ts).
   */
  onDatagram(data: Buffer, address: string, port: number, nowMs = this.ctx.clock.monotonic()): boolean {
    if (data[0] === TYPE_DATA) {
      this.#onData(data, address, port, nowMs);
      return true;
    }
    return this.v4.onDatagram({ data, address, port }); // handshakes: one object per datagram is fine there
  }

  #onData(data: Buffer, address: string, port: number, nowMs: number): void {
    // A peer sizes its datagrams by its own MTU, which may be larger than ours (1500 vs 1400):
    // accept up to a jumbo-frame datagram, or our own maximum if that is larger.
    const n = data.length;
    if (n < DATA_MIN_BYTES) throw new DropError('malformed', 'data datagram too short');
    // (the address family is looked at only for a datagram above the jumbo size: not per datagram)
    if (n > MAX_PEER_DATAGRAM_BYTES && n > this.ctx.maxDatagram[address.includes(':') ? 6 : 4]) throw new DropError('tooLarge', 'data datagram larger than the maximum');
    const counter = dataCounter(data); // a counter above 2^53 is refused (malformed) before the session lookup
    const found = this.ctx.peers.session(dataReceiverSid(data));
    const link = this.linkOf(this.ctx.peers.ownerOf(found));
    if (!link) throw new DropError('unknownSession', 'no session with that id');
    receiveData(link, data, address, port, found!, counter, nowMs); // the header, session and clock read passed on: none read twice
  }

  /** Datagram-mode fragments: the whole message once complete. */
  reassemble(link: NativeLink, item: PayloadItem, drop: (reason: DropReason) => void): Uint8Array | null {
    const r = this.#reassembler.add(reassemblyKey(link.peer), item.id!, item.index!, item.count!, item.data);
    if (r.evicted) countDrop(this.ctx.counters, 'rateLimited', r.evicted);
    if (r.drop) drop(r.drop);
    return r.message ?? null;
  }

  /** Periodic work of the whole protocol (the links tick on their own). */
  sweep(): void {
    this.#reassembler.sweep();
  }

  close(err: Error): void {
    for (const peer of this.ctx.peers.list()) this.linkOf(peer)?.close(err);
    this.reliable.close(err);
    this.v4.close();
  }
}

const reassemblyKey = (p: Peer): string => p.keyString ?? p.endpointString;
