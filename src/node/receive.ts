/**
 * The receive path, top to bottom:
 * socket → global rate limit → version/type → size checks → session lookup → per-peer rate
 * limit → decrypt → replay window → frame → timestamp freshness → roaming → controls →
 * payload: decompress → reassemble → message event.
 * Every refusal is a counted drop; nothing here throws past handleDatagram.
 */
import { MAX_PEER_DATAGRAM_BYTES, PROTOCOL_VERSION, TYPE_DATA, TYPE_HANDSHAKE_INIT, TYPE_HANDSHAKE_RESPONSE } from '../constants';
import { DropError, UdpVaultError } from '../errors';
import { decompress } from '../wire/compress';
import { decodeFrame, FLAG_COMPRESSED, FLAG_FRAGMENT, FLAG_RELIABLE, type Frame, type PayloadItem } from '../wire/frame';
import { DATA_MIN_BYTES, parseDataHeader } from '../wire/packet';
import type { Datagram } from '../net/transport';
import type { Peer } from '../peer/peer';
import type { NodeContext } from './context';
import type { MessageEvent } from './types';
import { onInit, onResponse } from './handshake-io';
import { formatEndpoint } from '../peer/endpoint';

export interface ReceiveHooks {
  /** vault-v2 datagrams (first byte is not a v3 type): returns true when handled. */
  compat?: (d: Datagram) => boolean;
  /** Reliable items and acks (delivery layer). */
  reliable?: (peer: Peer, frame: Frame, from: Datagram) => void;
  /** Datagram-mode fragments: returns the whole message when complete. */
  reassemble?: (peer: Peer, item: PayloadItem) => Uint8Array | null;
}

export function handleDatagram(ctx: NodeContext, d: Datagram, hooks: ReceiveHooks): void {
  ctx.counters.packetsIn++;
  ctx.counters.bytesIn += d.data.length;
  try {
    if (!ctx.globalLimiter.take()) throw new DropError('rateLimited', 'global packet rate limit');
    const type = d.data[0];
    if (type === TYPE_DATA) return receiveData(ctx, d, hooks);
    if (type === TYPE_HANDSHAKE_INIT) return onInit(ctx, d);
    if (type === TYPE_HANDSHAKE_RESPONSE) return onResponse(ctx, d);
    if (hooks.compat && hooks.compat(d)) return;
    if (type !== undefined && type >> 4 !== PROTOCOL_VERSION) throw new DropError('unknownVersion', 'unknown protocol version');
    throw new DropError('malformed', 'unknown datagram type');
  } catch (e) {
    const t = d.data[0]; // a vault-v2 envelope starts with a random nonce: 3 in 256 begin with a v3 type byte
    if (e instanceof DropError && hooks.compat && (t === TYPE_DATA || t === TYPE_HANDSHAKE_INIT || t === TYPE_HANDSHAKE_RESPONSE) && hooks.compat(d)) return;
    if (e instanceof DropError) ctx.drop(e.reason, undefined, e.message);
    else ctx.drop('malformed', undefined, e instanceof Error ? e.message : 'error');
  }
}

function receiveData(ctx: NodeContext, d: Datagram, hooks: ReceiveHooks): void {
  // A peer sizes its datagrams by its own MTU, which may be larger than ours (1500 vs 1400):
  // accept up to a jumbo-frame datagram, or our own maximum if that is larger.
  const max = Math.max(ctx.maxDatagram[d.address.includes(':') ? 6 : 4], MAX_PEER_DATAGRAM_BYTES);
  if (d.data.length < DATA_MIN_BYTES) throw new DropError('malformed', 'data datagram too short');
  if (d.data.length > max) throw new DropError('tooLarge', 'data datagram larger than the maximum');
  const { receiverSid, counter } = parseDataHeader(d.data);
  const found = ctx.peers.session(receiverSid);
  if (!found) throw new DropError('unknownSession', 'no session with that id');
  const { peer, session } = found;
  const now = ctx.clock.monotonic();
  const fail = (reason: DropError['reason'], msg: string): void => ctx.drop(reason, peer, msg);
  if (!peer.limiter.take()) return fail('rateLimited', 'peer packet rate limit');
  if (session.expired(now, ctx.limits)) return fail('unknownSession', 'session expired');
  if (!session.mayAccept(counter)) return fail('replay', 'counter replayed or older than the window');
  const wasConfirmed = session.confirmed;
  const plain = session.open(d.data, counter, now);
  if (plain === 'auth') return fail('authFailure', 'data authentication failed');
  if (plain === 'replay') return fail('replay', 'counter replayed');
  peer.counters.packetsIn++;
  peer.counters.bytesIn += d.data.length;
  let frame: Frame;
  try {
    frame = decodeFrame(plain);
  } catch (e) {
    return fail('malformed', e instanceof Error ? e.message : 'bad frame');
  }
  if (Math.abs(ctx.clock.now() - frame.t) > ctx.settings.freshnessWindowMs) return fail('stale', 'frame timestamp outside the freshness window');
  // Authenticated: the peer is alive here (roaming), and a newly confirmed session may send.
  if (peer.endpoint.address !== d.address || peer.endpoint.port !== d.port) {
    const before = peer.endpointString;
    peer.endpoint = { address: d.address, port: d.port, family: d.address.includes(':') ? 6 : 4 };
    ctx.log.info({ peer: peer.label(), from: before, to: peer.endpointString }, 'peer roamed');
    ctx.emitPeer({ type: 'endpoint-changed', peer: peer.info() });
    ctx.persist();
  }
  if (peer.state !== 'established') {
    peer.state = 'established';
    ctx.emitPeer({ type: 'handshake', peer: peer.info() });
  }
  if (!wasConfirmed) ctx.scheduleFlush(peer); // a newly confirmed session: send what waited for it
  if (hooks.reliable && (frame.r || frame.c.length > 0)) hooks.reliable(peer, frame, d);
  const addr = formatEndpoint(d);
  for (const item of frame.p) {
    if ((item.flags & FLAG_RELIABLE) !== 0) continue; // delivered in order by the reliable hook
    let data: Uint8Array | null = item.data;
    if ((item.flags & FLAG_FRAGMENT) !== 0) {
      data = hooks.reassemble ? hooks.reassemble(peer, item) : null;
      if (!data) continue;
    }
    deliver(ctx, peer, addr, item.flags, data, false);
  }
}

/** Decompresses (bounded) and emits one whole message. */
export function deliver(ctx: NodeContext, peer: Peer, addr: string, flags: number, body: Uint8Array, reliable: boolean): void {
  let data = body;
  if ((flags & FLAG_COMPRESSED) !== 0) {
    try {
      data = decompress(body, ctx.settings.maxMessageBytes);
    } catch (e) {
      ctx.drop(e instanceof UdpVaultError && e.code === 'ERR_DECOMPRESS_LIMIT' ? 'tooLarge' : 'decompress', peer, 'decompression refused');
      return;
    }
  }
  peer.counters.messagesIn++;
  ctx.counters.messagesIn++;
  const ev: MessageEvent = { peer: peer.keyString ?? '', addr, data, reliable, encrypted: true, receivedAt: new Date(ctx.clock.now()) };
  if (peer.name) ev.name = peer.name;
  ctx.emitMessage(ev);
}
