/**
 * Admission of datagram-mode messages: to the pre-session queue without a session, else to the
 * window-wait queue (PacketPath.waiting, ≤ datagramWindowWaitMs) that the send pump drains.
 * A message sent with a session and nothing ahead of it in the outbox is admitted (or refused)
 * in send() itself — exactly what the end-of-turn flush would do, at the same time and in the
 * same order — so a refused one costs no items, promise executor or queue entry (issue 12: a
 * flat-out sender refused about two messages for each one it sent).
 */
import { UdpVaultError } from '../../errors';
import type { OutMessage } from '../../peer/outbox';
import { stackless } from './stackless';
import type { NativeLink } from './link';
import { datagramItems } from './send';

const windowFull = (link: NativeLink): UdpVaultError =>
  stackless(() => new UdpVaultError('ERR_QUEUE_FULL', `queue for peer ${link.peer.label()} is full (waiting for the congestion window); message not sent`));

/** Without a session: this turn's messages go to the bounded pre-session queue. */
export function queueForSession(link: NativeLink): void {
  const { ctx, peer } = link;
  const limits = { maxMessages: ctx.settings.queueMaxMessages, maxBytes: ctx.settings.queueMaxBytes };
  for (const m of link.outbox.batchToQueue(limits)) {
    m.reject(stackless(() => new UdpVaultError('ERR_QUEUE_FULL', `queue for peer ${peer.label()} is full (no session yet); message not sent`)));
  }
}

/** This turn's (and the pre-session queue's) datagram-mode messages wait for the window, each ≤ datagramWindowWaitMs. */
export function admitDatagrams(link: NativeLink, now: number): void {
  const { ctx, path } = link;
  const deadline = now + ctx.settings.datagramWindowWaitMs;
  for (const m of link.outbox.takeAll()) {
    if (!path.waiting.push(m, m.bytes, deadline)) m.reject(windowFull(link));
  }
}

/**
 * send() of a datagram-mode message: with a session and an empty outbox, admitted to the
 * window-wait queue now (deadline from now, as admitDatagrams would give it at this turn's
 * flush) or refused now (ERR_QUEUE_FULL, the flush's error); the flush then sends it. Otherwise
 * (no session yet, or messages ahead of it) it joins this turn's batch in the outbox.
 */
export function sendDatagram(link: NativeLink, data: Uint8Array, timeoutMs: number): Promise<void> {
  const { ctx, outbox, path } = link;
  const now = ctx.clock.monotonic();
  const direct = outbox.batched === 0 && outbox.queued === 0 && link.current(now) !== null;
  if (direct && !path.waiting.hasRoom(data.length)) return Promise.reject(windowFull(link));
  const items = datagramItems(link, data);
  return new Promise<void>((resolve, reject) => {
    const m: OutMessage = { items, bytes: data.length, deadlineMs: now + timeoutMs, timeoutMs, resolve, reject };
    if (direct) path.waiting.push(m, m.bytes, now + ctx.settings.datagramWindowWaitMs);
    else outbox.push(m);
    ctx.scheduleFlush(link.peer);
  });
}
