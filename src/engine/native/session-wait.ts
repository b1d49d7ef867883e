/**
 * Reliable messages sent while a link had no session (NativeLink.send): they wait, in order, for
 * the handshake, at most min(timeout, handshakeTimeoutMs) — then ERR_NO_SESSION, not a 30 s wait
 * for an acknowledgement that could never come — and go to the reliable layer once one exists.
 */
import { UdpVaultError } from '../../errors';
import type { Outbox, OutMessage } from '../../peer/outbox';
import type { NativeLink } from './link';

/** A reliable message sent while no session existed: handed to the reliable layer once one does. */
export interface WaitingReliable extends OutMessage {
  data: Uint8Array;
  /** Its whole send deadline (acknowledgement included). */
  endMs: number;
}

/** Queues a reliable message for the session (ERR_QUEUE_FULL at the queue's limits); its promise settles when the reliable layer's does. */
export function waitForSession(link: NativeLink, wait: Outbox<WaitingReliable>, data: Uint8Array, timeoutMs: number, now: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const waitMs = Math.min(timeoutMs, link.ctx.settings.handshakeTimeoutMs);
    const m: WaitingReliable = { data, bytes: data.length, deadlineMs: now + waitMs, timeoutMs: waitMs, endMs: now + timeoutMs, resolve, reject };
    if (!wait.enqueue(m, { maxMessages: link.ctx.settings.queueMaxMessages, maxBytes: link.ctx.settings.queueMaxBytes })) {
      reject(new UdpVaultError('ERR_QUEUE_FULL', `queue for peer ${link.peer.label()} is full (no session yet); message not sent`));
      return;
    }
    link.ctx.scheduleFlush(link.peer);
  });
}

/** Hands the reliable messages that waited for a session to the reliable layer, in order. */
export function releaseToSession(link: NativeLink, wait: Outbox<WaitingReliable>): void {
  const now = link.ctx.clock.monotonic();
  for (const m of wait.takeAll()) link.engine.reliable.send(link, m.data, Math.max(1, m.endMs - now)).then(m.resolve, m.reject);
}
