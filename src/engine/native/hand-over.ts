/**
 * The transport callback of a sealed datagram (frame-send.ts): the pooled slot back to the
 * pool, then what rode in it settled — the messages whose last item it carried (a frame of the
 * pump), or the one whole message of an express frame (by its resolving functions), and the
 * caller's `onHanded` (a path MTU probe's bracket). One object per datagram the transport holds,
 * taken again once its callback ran: no closure and context per datagram (issue 12, dg22). A
 * transport that refused the datagram (threw, or had no socket) never calls back; that object is
 * not reused, as a closure would not be.
 */
import { DeliveryError } from '../../errors';
import type { Peer } from '../../peer/peer';
import type { OutMessage } from '../../peer/outbox';
import { stackless } from './stackless';
import type { NativeLink } from './link';
import { releaseDatagram } from './datagram-pool';

/** The error of a message whose datagram the network refused (the transport's callback or a throwing send). */
export function networkRefused(peer: Peer, err: Error): DeliveryError {
  return stackless(() => new DeliveryError('ERR_PEER_UNREACHABLE', `message to peer ${peer.label()} not sent: the network refused the datagram (${(err as NodeJS.ErrnoException).code ?? 'error'})`));
}

/** `n` messages handed over: counted on the peer and the node. */
function countMessagesOut(link: NativeLink, n: number): void {
  link.peer.counters.messagesOut += n;
  link.ctx.counters.messagesOut += n;
}

const NO_BYTES = new Uint8Array(0);
const NO_MESSAGES: readonly OutMessage[] = Object.freeze([]);
const settleNothing = (): void => {};
/** Spare objects kept (as many as datagrams in flight to the kernel at once, bounded like the datagram pool). */
const MAX_SPARE = 256;
const spare: HandOver[] = [];
let made = 0;

class HandOver {
  link: NativeLink | null = null;
  datagram: Uint8Array = NO_BYTES;
  settles: readonly OutMessage[] = NO_MESSAGES;
  onHanded: ((err: Error | null) => void) | null = null;
  resolve: () => void = settleNothing;
  reject: (e: Error) => void = settleNothing;
  readonly done = (err: Error | null): void => {
    const { link, datagram, settles, onHanded, resolve, reject } = this;
    this.link = null;
    this.datagram = NO_BYTES;
    this.settles = NO_MESSAGES;
    this.onHanded = null;
    this.resolve = this.reject = settleNothing;
    if (spare.length < MAX_SPARE) spare.push(this);
    releaseDatagram(datagram);
    if (link === null) return;
    const peer = link.peer;
    const n = settles.length;
    if (err) for (let k = 0; k < n; k++) settles[k]!.reject(networkRefused(peer, err));
    else if (n > 0) {
      countMessagesOut(link, n); // once per datagram, before any handler can run (they run later, as microtasks: s64)
      for (let k = 0; k < n; k++) settles[k]!.resolve();
    }
    if (resolve !== settleNothing) {
      if (err) reject(networkRefused(peer, err));
      else {
        countMessagesOut(link, 1);
        resolve();
      }
    }
    onHanded?.(err);
  };
}

/**
 * The callback for `datagram` to `link`: settles `settles` (resolved once handed over, rejected
 * with the network's error), or one message by `resolve` / `reject`, then calls `onHanded`.
 */
export function handOverCallback(link: NativeLink, datagram: Uint8Array, settles: readonly OutMessage[], onHanded: ((err: Error | null) => void) | null, resolve: () => void = settleNothing, reject: (e: Error) => void = settleNothing): (err: Error | null) => void {
  let h = spare.pop();
  if (h === undefined) {
    h = new HandOver();
    made++;
  }
  h.link = link;
  h.datagram = datagram;
  h.settles = settles;
  h.onHanded = onHanded;
  h.resolve = resolve;
  h.reject = reject;
  return h.done;
}

/** Callback objects made so far and spare now (tests, benchmarks). */
export function handOverStats(): { made: number; spare: number } {
  return { made, spare: spare.length };
}
