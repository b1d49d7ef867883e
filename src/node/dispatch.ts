/**
 * The top of the receive path: socket → global rate limit → the engine for the datagram's
 * protocol (native by its type byte, vault-v2 by the sender's address). The datagram arrives
 * positionally (bytes, address, port: no object per datagram on the native data path). Every
 * refusal is a counted drop; nothing throws past dispatchDatagram.
 */
import { PROTOCOL_VERSION } from '../constants';
import { DropError } from '../errors';
import type { NodeContext } from '../engine/context';
import type { NativeEngine } from '../engine/native/engine';
import { isNativeType, type VaultV2Engine } from '../engine/vault-v2/engine';

export function dispatchDatagram(ctx: NodeContext, data: Buffer, address: string, port: number, native: NativeEngine, v2: VaultV2Engine): void {
  ctx.counters.packetsIn++;
  ctx.counters.bytesIn += data.length;
  try {
    const now = ctx.clock.monotonic(); // the datagram's one monotonic clock read: the global limit and the native receive path share it
    if (!ctx.globalLimiter.take(1, now)) throw new DropError('rateLimited', 'global packet rate limit');
    if (native.onDatagram(data, address, port, now)) return;
    if (v2.onDatagram({ data, address, port })) return; // a Datagram object only off the native path
    const type = data[0];
    if (type !== undefined && type >> 4 !== PROTOCOL_VERSION) throw new DropError('unknownVersion', 'unknown protocol version');
    throw new DropError('malformed', 'unknown datagram type');
  } catch (e) {
    // A vault-v2 envelope starts with a random nonce: a few in 256 begin with a native type byte.
    if (e instanceof DropError && isNativeType(data[0]) && v2.onDatagram({ data, address, port })) return;
    if (e instanceof DropError) ctx.drop(e.reason, undefined, e.message);
    else ctx.drop('malformed', undefined, e instanceof Error ? e.message : 'error');
  }
}
