/**
 * Admission of datagram-mode messages: to the pre-session queue without a session, else to the
 * window-wait queue (PacketPath.waiting, ≤ datagramWindowWaitMs) that the send pump drains.
 * Both at the end-of-turn flush, in send order. A refusal (ERR_QUEUE_FULL) makes the link owe
 * the 'writable' event (link.ts notifyWritable).
 */
import { UdpVaultError } from '../../errors';
import { stackless } from './stackless';
import type { NativeLink } from './link';

/*
 * The messages refused in one flush share one error object (as the messages failed by a close
 * share its error): a flat-out sender has ~2 messages refused for each one it sends, and the
 * error was ~0.3 µs of the ~1 µs a refusal costs (issue 12).
 */
const windowFull = (link: NativeLink): UdpVaultError =>
  stackless(() => new UdpVaultError('ERR_QUEUE_FULL', `queue for peer ${link.peer.label()} is full (waiting for the congestion window); message not sent`));

/*
 * Deadlines are whole milliseconds, `now` rounded down (q23): a message waits at most its wait
 * or timeout (up to 1 ms less), and the deadline written into each message (its `deadlineMs`) is
 * a small integer, which V8 keeps unboxed — a fractional time there makes it box that field in
 * every DatagramMessage made afterwards (16 bytes each, measured).
 */

/** Without a session: this turn's messages go to the bounded pre-session queue, each due at `now` (whole ms) + its timeout. */
export function queueForSession(link: NativeLink, now: number): void {
  const { ctx, peer } = link;
  // Refused at send(), when the window-wait queue was full and a session existed (it ended within the turn).
  const refused = link.takeRefused();
  if (refused !== null) {
    const e = windowFull(link);
    for (const r of refused) r(e);
    link.owesWritable();
  }
  const limits = { maxMessages: ctx.settings.queueMaxMessages, maxBytes: ctx.settings.queueMaxBytes };
  let err: UdpVaultError | null = null;
  for (const m of link.outbox.batchToQueue(limits, Math.floor(now))) {
    m.reject((err ??= stackless(() => new UdpVaultError('ERR_QUEUE_FULL', `queue for peer ${peer.label()} is full (no session yet); message not sent`))));
  }
  if (err !== null) link.owesWritable();
}

/** This turn's (and the pre-session queue's) datagram-mode messages wait for the window, each ≤ datagramWindowWaitMs. */
export function admitDatagrams(link: NativeLink, now: number): void {
  const { ctx, path } = link;
  const deadline = Math.floor(now) + ctx.settings.datagramWindowWaitMs;
  let err: UdpVaultError | null = null;
  // Refused at send() (link.ts #refuseIfFull): the queue was full then and nothing left it since.
  const refused = link.takeRefused();
  if (refused !== null) {
    err = windowFull(link);
    for (const r of refused) r(err);
  }
  for (const m of link.outbox.takeAll()) {
    if (!path.waiting.push(m, deadline)) m.reject((err ??= windowFull(link)));
  }
  if (err !== null) link.owesWritable();
}
