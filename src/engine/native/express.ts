/**
 * The express path of a datagram-mode message (issue 12): a message that fills its own datagram
 * (more than half a frame's content: 1 KiB at MTU 1500), sent while nothing is queued before it
 * and the session, the congestion window, the pacer and the path allow, is framed, sealed and
 * handed to the socket from send() itself — no queue entry, no end-of-turn flush, no frame
 * packer, no per-frame arrays. The frame is the one the send pump would have built for the
 * same message at the same packet number (test/engine/native/express.test.ts compares the
 * bytes): the announcement of our limits and a packet ack ride along exactly as there, the
 * sent history, the window, the pacer and the link's timer are updated by the same calls.
 *
 * What the pump would do otherwise — a path MTU probe due, a delivery ack wanted, controls,
 * reliable items or earlier messages waiting, an address not validated yet, numbers past 2^32,
 * no room in the window or the pacer — sends the message by the normal path (the outbox and
 * the flush). A smaller message does not take it: it may share its datagram with the turn's
 * next messages. The messages of a turn after an express one still share datagrams.
 *
 * The pump's express lane (pumpExpress, dg19) sends the same frame for such a message that
 * waited in the window-wait queue, once the window and the pacer let the pump go on: under a
 * full window most 1 KiB messages leave that way (1–29% of a loopback flood in q23's runs, 75% in
 * dg19's loaded one: as often as the window fills; expressMisses() counts why).
 */
import type { Session } from '../../crypto/session';
import { binHeaderBytes, controlBytes, itemBytes, FLAG_FRAGMENT, type ControlItem, type Frame, type PayloadItem } from '../../wire/frame';
import type { ReliableSender } from '../../delivery/reliable-sender';
import type { NativeLink } from './link';
import { LIMITS_REF, type FrameRef } from './frame-ref';
import { NO_REFS, PACKET_ACK_RESERVE_BYTES, frameBudget, sendFrame, sendMessageFrame } from './frame-send';

/** A frame's controls when there are none (shared, never written). */
const NO_CONTROLS: ControlItem[] = Object.freeze([]) as unknown as ControlItem[];
const EMPTY = new Uint8Array(0);

/*
 * The express frame and its one item: shared, since each is encoded and sealed before
 * sendExpress returns and nothing keeps them (the packet space keeps `refs` only). The item's
 * data is dropped again after each send.
 */
const item: PayloadItem = { flags: 0, data: EMPTY };
const frame: Frame = { t: 0, n: 0, i: 0, p: [item], c: NO_CONTROLS, r: undefined };

/** Sends by the express path in this process (tests, benchmarks). */
let expressSends = 0;
export function expressSent(): number {
  return expressSends;
}

/** The express path is on unless turned off (tests compare both paths; pathcost.js measures both). */
let enabled = true;
export function setExpressPath(on: boolean): void {
  enabled = on;
}

/**
 * send() may take the express path (the pump's lane stays as setExpressPath left it): off, every
 * message that would have gone at send() queues and leaves by the lane (pathcost.js
 * PATHCOST_EXPRESS=lane measures the queued path; tests compare both).
 */
let atSend = true;
export function setExpressAtSend(on: boolean): void {
  atSend = on;
}

/** sendExpress re-arms the link's timer by the full arm() instead of armAfterExpress (tests compare both). */
let fullArm = false;
/** @internal Tests: sendExpress re-arms by arm() (true) or by armAfterExpress (false, the default). */
export function setExpressFullArm(on: boolean): void {
  fullArm = on;
}

/**
 * Messages shorter than this never take the express path (link.ts skips the test): the smallest
 * path (mtu 576, IPv6: 528-byte datagrams) leaves 434 bytes of frame content, whose half (217)
 * is more than the item of a 199-byte message (199 + 2 + 2: array and flags, bin8 header). Compression only shrinks a body.
 */
export const EXPRESS_MIN_DATA_BYTES = 200;

/** The bytes of a body's whole item (itemBytes of `{ flags, data: body }`, without the object). */
export function wholeItemBytes(body: Uint8Array): number {
  return 2 + binHeaderBytes(body.length) + body.length;
}

/**
 * Why send() did not take the express path, by reason, in this process (q23: tests and
 * benchmarks count how many 1 KiB messages queue and why): `before` something of ours waited
 * before it (the turn's batch, a queue, controls, a started or reliable message); `size` not a
 * whole item that fills its own datagram; `path` a delivery ack wanted, an address not
 * validated or the link not alive; `session` none; `numbers` numbers past 2^32 or reliable
 * work; `probe` a path MTU probe due; `window` the congestion window full; `pacer` the pacer
 * had no room. Counted on the refusal branches only (the express send pays nothing).
 */
export const EXPRESS_MISS_REASONS = ['before', 'size', 'path', 'session', 'numbers', 'probe', 'window', 'pacer'] as const;
export type ExpressMissReason = (typeof EXPRESS_MISS_REASONS)[number];
const misses = [0, 0, 0, 0, 0, 0, 0, 0];
const BEFORE = 0;
const SIZE = 1;
const PATH = 2;
const SESSION = 3;
const NUMBERS = 4;
const PROBE = 5;
const WINDOW = 6;
const PACER = 7;
function miss(k: number): null {
  misses[k]!++;
  return null;
}

/** expressSession's refusals in this process so far, by reason (a fresh record). */
export function expressMisses(): Record<ExpressMissReason, number> {
  const out = {} as Record<ExpressMissReason, number>;
  EXPRESS_MISS_REASONS.forEach((r, k) => (out[r] = misses[k]!));
  return out;
}

/**
 * The session to send a whole-message item of `size` bytes on by the express path now, or
 * null (the normal path sends it). Reads nothing it changes, except that asking the pacer wakes
 * a resting packet space as the pump's asking does.
 */
export function expressSession(link: NativeLink, size: number, now: number): Session | null {
  if (!enabled || !atSend) return null;
  const { outbox, path } = link;
  // Order kept: nothing of ours waits before it (this turn's batch, the pre-session queue, the window-wait queue, a started message).
  if (outbox.batched > 0 || outbox.queued > 0 || outbox.hasControls || path.hasDatagrams || link.reliableWaiting > 0) return miss(BEFORE);
  const budget = frameBudget(link);
  if (size > budget || size * 2 <= budget) return miss(SIZE); // a whole item that fills its own datagram
  if (path.deliveryAckWanted || path.amplificationRoom() !== Infinity || !link.alive) return miss(PATH);
  const session = link.current(now);
  if (session === null) return miss(SESSION);
  const space = path.space;
  if (space.nextPacketNumber >= 2 ** 32) return miss(NUMBERS); // the pump's longer header
  const sender = link.engine.reliable.senderOf(link);
  if (sender !== null && (sender.hasWork() || sender.base >= 2 ** 32)) return miss(NUMBERS); // the pump alternates with reliable frames
  if (path.pmtu.nextProbeSize(now) !== null) return miss(PROBE); // probes go first
  const delay = space.sendDelay(now, path.maxDatagram); // window (Infinity) and pacer
  if (delay !== 0) return miss(delay === Infinity ? WINDOW : PACER);
  return session;
}

/**
 * Sends one whole message (`body`, item `flags`) on `session` at `now` (expressSession's
 * answers). False when it could not ride with what had to go with it (an announcement and a
 * packet ack larger than the ack reserve beside a near-full item): those went alone, as the
 * pump sends them, and the caller queues the message for the flush.
 */
export function sendExpress(link: NativeLink, session: Session, now: number, body: Uint8Array, flags: number, resolve: () => void, reject: (e: Error) => void): boolean {
  const r = sendExpressFrame(link, session, now, body, flags, resolve, reject);
  if (r === SENT) expressSends++;
  if (fullArm) link.path.arm(now);
  else link.path.armAfterExpress(now);
  return r !== ALONE;
}

/** sendExpressFrame's outcomes: the message went; the controls went alone (the message did not); the message was rejected (the network refused its datagram). */
const SENT = 1;
const ALONE = 0;
const REFUSED = -1;

/** sendExpress without arming the link's timer (the pump arms it once at its end). */
function sendExpressFrame(link: NativeLink, session: Session, now: number, body: Uint8Array, flags: number, resolve: () => void, reject: (e: Error) => void): number {
  const path = link.path;
  const space = path.space;
  if (!link.handshakePending) link.v4.release(); // as the flush does once a session is up
  // Our limits and a packet ack ride along as on the pump's frames (packFrames: begin, then the ack).
  const announce = link.engine.reliable.takeAnnouncement(link);
  const largest = space.acks.largest;
  const ack = space.ackToSend(now, true);
  let controls = NO_CONTROLS;
  let refs: FrameRef[] = NO_REFS;
  if (announce.length > 0 || ack !== null) {
    controls = [...announce];
    refs = announce.length > 0 ? [LIMITS_REF] : [];
    if (ack !== null) {
      controls.push({ type: 'packetAck', ack });
      refs.push({ kind: 'packetAck', largest });
    }
  }
  item.flags = flags;
  item.data = body;
  // Alone, the item fits (expressSession / pumpExpress measured it against the budget): the bytes are counted only when controls ride along.
  if (controls !== NO_CONTROLS && itemAndControlsBytes(controls) > frameBudget(link) + PACKET_ACK_RESERVE_BYTES) {
    item.data = EMPTY;
    const eliciting = announce.length > 0;
    sendFrame(link, { t: 0, n: 0, i: 0, p: [], c: controls, r: undefined }, [], eliciting ? refs : NO_REFS, eliciting);
    return ALONE;
  }
  frame.c = controls;
  const pn = sendMessageFrame(link, session, now, frame, refs, resolve, reject);
  frame.c = NO_CONTROLS;
  item.data = EMPTY;
  return pn >= 0 ? SENT : REFUSED;
}

/** The frame content bytes of the shared item (set) and `controls`. */
function itemAndControlsBytes(controls: readonly ControlItem[]): number {
  let used = itemBytes(item);
  for (let k = 0; k < controls.length; k++) used += controlBytes(controls[k]!);
  return used;
}

/** Messages the pump sent by its express lane in this process (tests, benchmarks). */
let laneSends = 0;
export function pumpExpressSent(): number {
  return laneSends;
}

/**
 * The pump's express lane (dg19): the window-wait queue's first message, when it is one whole
 * item that fills its own datagram, goes in the frame sendExpress builds — the frame the pump's
 * packer would build for it at that packet number (test/engine/native/express.test.ts compares
 * the bytes) — without the packer's frame, settles and refs arrays or the transport closure
 * that settles a list. Called by packFrames once the window, the pacer, the session and the
 * address allow a frame, with no controls to send; true when the message went (and left the
 * queue), false when the packer decides (anything else waiting or riding along, a started
 * message, reliable items, probes, long numbers).
 */
export function pumpExpress(link: NativeLink, sender: ReliableSender | null): boolean {
  if (!enabled) return false;
  const path = link.path;
  if (path.current !== null || !path.hasDatagrams || path.deliveryAckWanted || path.amplificationRoom() !== Infinity) return false;
  if (sender !== null && (sender.hasWork() || sender.base >= 2 ** 32)) return false; // the pump alternates with reliable frames
  const space = path.space;
  if (space.nextPacketNumber >= 2 ** 32 || space.probesPending > 0) return false;
  const m = path.waiting.first();
  if (m === undefined || m.fragments !== null) return false;
  const whole = m; // a whole message is its own item (send.ts DatagramMessage)
  if ((whole.flags & FLAG_FRAGMENT) !== 0 || whole.id !== undefined) return false;
  const budget = frameBudget(link);
  const size = wholeItemBytes(whole.data);
  if (size > budget || size * 2 <= budget) return false;
  // Stamped at a clock read of its own, as sendFrame stamps the packer's frames (not the pump's earlier read: RTT samples).
  const at = link.ctx.clock.monotonic();
  const session = link.current(at);
  if (session === null) return false;
  const r = sendExpressFrame(link, session, at, whole.data, whole.flags, m.resolve, m.reject);
  if (r === ALONE) return false; // the controls went alone: the packer takes the message next
  path.waiting.shift(); // sent, or rejected already (the network refused its datagram)
  if (r === SENT) laneSends++;
  return true;
}
