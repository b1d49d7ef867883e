/**
 * The top of the receive path: socket → global rate limit → the engine for the datagram's
 * protocol (native v3 by its type byte, vault-v2 by the sender's address). Every refusal is a
 * counted drop; nothing throws past dispatchDatagram.
 */
import { PROTOCOL_VERSION, TYPE_DATA, TYPE_HANDSHAKE_INIT, TYPE_HANDSHAKE_RESPONSE } from '../constants';
import { DropError } from '../errors';
import type { Datagram } from '../net/transport';
import type { NodeContext } from '../engine/context';
import type { NativeEngine } from '../engine/native/engine';
import type { VaultV2Engine } from '../engine/vault-v2/engine';

export function dispatchDatagram(ctx: NodeContext, d: Datagram, native: NativeEngine, v2: VaultV2Engine): void {
  ctx.counters.packetsIn++;
  ctx.counters.bytesIn += d.data.length;
  try {
    if (!ctx.globalLimiter.take()) throw new DropError('rateLimited', 'global packet rate limit');
    if (native.onDatagram(d)) return;
    if (v2.onDatagram(d)) return;
    const type = d.data[0];
    if (type !== undefined && type >> 4 !== PROTOCOL_VERSION) throw new DropError('unknownVersion', 'unknown protocol version');
    throw new DropError('malformed', 'unknown datagram type');
  } catch (e) {
    const t = d.data[0]; // a vault-v2 envelope starts with a random nonce: 3 in 256 begin with a v3 type byte
    if (e instanceof DropError && (t === TYPE_DATA || t === TYPE_HANDSHAKE_INIT || t === TYPE_HANDSHAKE_RESPONSE) && v2.onDatagram(d)) return;
    if (e instanceof DropError) ctx.drop(e.reason, undefined, e.message);
    else ctx.drop('malformed', undefined, e instanceof Error ? e.message : 'error');
  }
}
