/**
 * The native receive path of one link, top to bottom (the engine already checked the size
 * and found the session by id): replay window → decrypt → per-peer rate limit (charged only
 * for authenticated packets: a replayed or forged datagram never drains it) → frame →
 * timestamp freshness → confirmation of a responder session (trust, replay mark) → roaming →
 * controls → payload: decompress → reassemble → message event.
 * Every refusal is a drop counted on the peer and globally; nothing here throws.
 */
import { DropError, UdpVaultError } from '../../errors';
import { decompress } from '../../wire/compress';
import { decodeFrame, FLAG_COMPRESSED, FLAG_FRAGMENT, FLAG_RELIABLE, type Frame } from '../../wire/frame';
import { dataCounter, dataReceiverSid } from '../../wire/packet';
import type { Peer } from '../../peer/peer';
import { formatEndpoint } from '../../peer/endpoint';
import type { MessageEvent } from '../../api/types';
import { countReceived, type NodeContext } from '../context';
import type { NativeLink } from './link';
import type { Session } from '../../crypto/session';
import type { AcceptVerdict } from '../../delivery/reliable-receiver';
import { frameIsFresh } from '../../peer/clock-offset';
import { sessionConfirmed } from './handshake';
import { onStaleFrame } from './timers';
import { frameRefused } from './frame-refused';
import { wallAt } from './wall-clock';

export function receiveData(link: NativeLink, data: Buffer, address: string, port: number, found?: Session, counterIn?: number, nowIn?: number): void {
  const { ctx, peer } = link;
  // The engine passes the session it found by the header's id, the counter and the datagram's
  // clock read (engine.ts); read here only when called without them.
  const counter = counterIn ?? dataCounter(data);
  const session = found ?? ctx.peers.session(dataReceiverSid(data));
  if (!session) return ctx.drop('unknownSession', peer, 'no session with that id');
  const now = nowIn ?? ctx.clock.monotonic();
  if (session.expired(now, ctx.limits)) return ctx.drop('unknownSession', peer, 'session expired');
  // The replay window is checked before decrypting (a replayed or too old counter costs no AEAD
  // call) and marked after. Decrypted in place: the frame is a view of the transport's buffer
  // (its own memory per datagram), so nothing is allocated for it; its bytes are not read again.
  const plain = session.openInPlace(data, counter, now);
  if (plain === 'auth') return ctx.drop('authFailure', peer, 'data authentication failed');
  if (plain === 'replay') return ctx.drop('replay', peer, 'counter replayed or older than the window');
  if (!peer.limiter.take(1, now)) return ctx.drop('rateLimited', peer, 'peer packet rate limit');
  countReceived(peer, data.length);
  let frame: Frame;
  try {
    frame = decodeFrame(plain);
  } catch (e) {
    return frameRefused(ctx, peer, e, now);
  }
  // Judged against the peer's clock offset measured at this session's handshake: an
  // authentic but stale frame means a clock stepped; a new handshake measures it again.
  const wallMs = wallAt(ctx.clock, now); // freshness and the messages' receivedAt: no clock read of its own (wall-clock.ts)
  if (!frameIsFresh(frame.t, wallMs, session.clockOffsetMs, ctx.settings.freshnessWindowMs)) {
    ctx.drop('stale', peer, 'frame timestamp outside the freshness window');
    return onStaleFrame(link, session, frame.t - wallMs);
  }
  // A newly confirmed responder session: key checked, replay mark persisted and TOFU key
  // recorded before the endpoint moves.
  const newlyConfirmed = session.establishedAtMs === null;
  if (newlyConfirmed) {
    try {
      sessionConfirmed(link, session, null);
    } catch (e) {
      if (e instanceof DropError) return ctx.drop(e.reason, peer, e.message);
      throw e;
    }
  }
  // Packet layer: a number seen before is dropped; the peer's packet ack is processed.
  const refused = link.path.onFrame(frame, now, data.length);
  if (refused) return ctx.drop(refused, peer, refused === 'replay' ? 'packet number already received' : 'invalid packet ack');
  // Authenticated and fresh: the peer is alive (liveness; an answer is due if it asks for one).
  link.timers.packetReceived(now, frame.p.length > 0 || hasKeepalive(frame), ctx.settings);
  // Roaming, and a newly confirmed session may send.
  const before = peer.endpointString;
  const ep = peer.endpoint;
  if ((ep.address !== address || ep.port !== port) && peer.moveTo({ address, port, family: address.includes(':') ? 6 : 4 })) {
    ctx.log.info({ peer: peer.label(), from: before, to: peer.endpointString }, 'peer roamed');
    link.path.onNewAddress(data.length);
    ctx.persist();
  }
  peer.setState('established');
  if (newlyConfirmed) ctx.scheduleFlush(peer); // a newly confirmed session: send what waited for it
  link.engine.reliable.announce(link, session); // our maxMessageBytes, once per session
  if (frame.r || frame.c.length > 0) link.engine.reliable.onFrame(link, frame, address, port, wallMs);
  let addr = ''; // formatted for the first message delivered (not for ack-only datagrams)
  for (const item of frame.p) {
    if ((item.flags & FLAG_RELIABLE) !== 0) continue; // delivered in order by the reliable layer
    let data: Uint8Array | null = item.data;
    if ((item.flags & FLAG_FRAGMENT) !== 0) {
      data = link.engine.reassemble(link, item, (reason) => ctx.drop(reason, peer, 'fragment refused'));
      if (!data) continue;
    }
    if (addr === '') addr = sourceOf(peer, address, port);
    deliver(ctx, peer, addr, item.flags, data, false, wallMs);
  }
}

/** Whether the frame carries a keepalive control (no closure per datagram). */
function hasKeepalive(frame: Frame): boolean {
  const c = frame.c;
  for (let i = 0; i < c.length; i++) if (c[i]!.type === 'keepalive') return true;
  return false;
}

/** The datagram's source as 'host:port': the peer's endpoint string when it came from there (no formatting per datagram). */
function sourceOf(peer: Peer, address: string, port: number): string {
  const ep = peer.endpoint;
  return ep.address === address && ep.port === port ? peer.endpointString : formatEndpoint({ address, port });
}

/**
 * Decompresses (bounded) and hands one whole message to a reader or the inbox. 'refused':
 * decompression failed (counted). 'full': no reader and no room in the inbox — a datagram
 * message is then dropped and counted (`inboxFull`); a reliable one stays with the reliable
 * layer, unacknowledged, until room is made.
 */
export function deliver(ctx: NodeContext, peer: Peer, addr: string, flags: number, body: Uint8Array, reliable: boolean, receivedAtMs = ctx.clock.now()): AcceptVerdict {
  let data = body;
  if ((flags & FLAG_COMPRESSED) !== 0) {
    try {
      data = decompress(body, ctx.settings.maxMessageBytes);
    } catch (e) {
      ctx.drop(e instanceof UdpVaultError && e.code === 'ERR_DECOMPRESS_LIMIT' ? 'tooLarge' : 'decompress', peer, 'decompression refused');
      return 'refused';
    }
  }
  // Two literals, not a `name` added afterwards: one shape each, no property store grown per message (keys in the same order as before).
  const name = peer.name;
  const receivedAt = new Date(receivedAtMs);
  const ev: MessageEvent = name
    ? { peer: peer.keyString ?? '', addr, data, reliable, encrypted: true, receivedAt, name }
    : { peer: peer.keyString ?? '', addr, data, reliable, encrypted: true, receivedAt };
  if (!ctx.emitMessage(ev)) {
    if (!reliable) ctx.drop('inboxFull', peer, 'no reader and the inbox is full');
    return 'full';
  }
  peer.counters.messagesIn++;
  ctx.counters.messagesIn++;
  return 'delivered';
}
