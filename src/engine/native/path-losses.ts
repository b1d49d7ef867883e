/**
 * What a link's packet path does with packets declared lost, with the oldest unacknowledged
 * one before a probe, and with datagram-mode messages that waited too long for the window
 * (PacketPath calls these; they need only the link).
 */
import { DeliveryError } from '../../errors';
import type { SentPacket } from '../../delivery/reliable/sent-history';
import type { PacketSpace } from '../../delivery/reliable/packet-space';
import type { WindowWaitQueue } from '../../delivery/congestion/window-wait';
import type { OutMessage } from '../../peer/outbox';
import { stackless } from './stackless';
import type { FrameRef } from './frame-ref';
import type { NativeLink } from './link';

/** Lost packets: their reliable items go again, a lost delivery ack is replaced by a fresh one, a lost `limits` rides again. */
export function requeueLost(link: NativeLink, lost: readonly SentPacket<FrameRef>[]): void {
  const { engine } = link;
  let deliveryAck = false;
  // Indexed (memalloc17): `lost` is mostly the shared frozen empty list, which for…of iterates with objects.
  for (let k = 0; k < lost.length; k++) {
    const frames = lost[k]!.frames;
    for (let j = 0; j < frames.length; j++) {
      const f = frames[j]!;
      if (typeof f === 'number') engine.reliable.requeue(link, f);
      else if (f.kind === 'deliveryAck') deliveryAck = true;
      else if (f.kind === 'limits') engine.reliable.reannounce(link);
    }
  }
  if (deliveryAck) engine.reliable.resendAck(link);
}

/**
 * Before a probe: put the reliable items of the oldest unacknowledged packet back in the
 * queue (not counted as lost). Returns whether anything was requeued.
 */
export function requeueOldest(link: NativeLink, space: PacketSpace<FrameRef>): boolean {
  const p = space.loss.oldestUnacked();
  let any = false;
  for (const f of p?.frames ?? []) if (typeof f === 'number' && link.engine.reliable.requeue(link, f)) any = true;
  return any;
}

/** Datagram-mode messages that waited too long for the window (a function of its own: the timer makes no closure context per fire; memalloc17). */
export function expireWaiting(link: NativeLink, waiting: WindowWaitQueue<OutMessage>, now: number): void {
  const { ctx, peer } = link;
  const wait = ctx.settings.datagramWindowWaitMs;
  let err: DeliveryError | null = null; // one error for the messages expiring together (admit.ts: refusals share theirs)
  for (const m of waiting.expire(now)) {
    ctx.drop('congestion', peer, 'datagram-mode message found no room in the congestion window');
    m.reject((err ??= stackless(() => new DeliveryError('ERR_CONGESTION', `congestion: the path to peer ${peer.label()} had no room for ${wait} ms; message dropped at the sender`))));
  }
}
