/** Node.close()'s work (SPEC §2 close): drain, then stop every part of the node in order. */
import { DeliveryError, UdpVaultError } from '../errors';
import type { Timer } from '../runtime/scheduler';
import type { NodeContext } from '../engine/context';
import type { NativeEngine } from '../engine/native/engine';
import type { VaultV2Engine } from '../engine/vault-v2/engine';
import type { TurnFlush } from './flush';
import type { StoreWriter } from './persist';
import type { MessageReaders } from './readers';

/** What the node hands to shutdownNode (its private parts). */
export interface NodeParts {
  ctx: NodeContext;
  flush: TurnFlush;
  native: NativeEngine;
  v2: VaultV2Engine;
  store: StoreWriter;
  readers: MessageReaders;
  /** The tick and the re-resolve timer. */
  timers: readonly Timer[];
  closeHome: (() => Promise<void>) | null;
  /** The drain is over (or failed): no flush runs again. */
  markClosed(): void;
}

/**
 * The drain (this turn's messages sent, reliable ones given `closeGraceMs` to be acknowledged),
 * then the close: pending sends rejected, secrets wiped, the transport closed, the inbox kept.
 */
export async function shutdownNode(p: NodeParts): Promise<void> {
  const { ctx } = p;
  try {
    p.flush.run(true);
    await p.native.reliable.settled(ctx.settings.closeGraceMs);
    p.flush.run(true);
  } finally {
    p.markClosed();
  }
  for (const t of p.timers) t.cancel();
  p.store.stop();
  const err = new UdpVaultError('ERR_CLOSED', 'node closed before the message was sent');
  p.native.reliable.close(
    new DeliveryError('ERR_NOT_ACKNOWLEDGED', `node closed before the reliable message was acknowledged (grace ${ctx.settings.closeGraceMs} ms); the outcome is unknown (it may still be delivered)`),
    err,
  );
  p.native.close(err);
  p.v2.close(err);
  ctx.identity.privateKey.fill(0); // the node owns its identity: no handshake runs again
  for (const peer of ctx.peers.values()) peer.setLink(null);
  p.readers.close();
  try {
    await ctx.transport.close();
  } catch (e) {
    ctx.log.warn({ err: e }, 'transport close failed');
  }
  p.readers.persist(); // restored by the next start
  await p.closeHome?.();
}
