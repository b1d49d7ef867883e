/**
 * The send pump of one native link (docs/CONGESTION.md §6.2): what the window, the pacer and
 * the session allow goes now — path MTU probes, controls, the rest of a started datagram-mode
 * message, then datagram-mode and reliable items alternating frame by frame, packed greedily; a
 * packet ack rides along when one is pending, or goes alone when due.
 * The frame under construction is a FramePacker (frame-packer.ts), one per pump call.
 */
import type { ReliableSender } from '../../delivery/reliable-sender';
import type { ControlItem, Frame, PayloadItem } from '../../wire/frame';
import { KEEPALIVE } from '../../wire/keepalive';
import { MAX_ACK_BYTES } from '../../wire/ack';
import { paddedSize } from '../../wire/padding';
import type { Settings } from '../../config/schema';
import type { NativeLink } from './link';
import { probeLedger, type ProbeLedger } from './probe-ledger';
import type { PmtuSearch } from '../../delivery/pmtu';
import { FRAME_HEADER_BYTES, NO_REFS, SEAL_OVERHEAD_BYTES, sendFrame } from './frame-send';
import { FramePacker, NO_SETTLES, addDeliveryAck } from './frame-packer';
import { admitDatagrams, queueForSession } from './admit';
import { pumpExpress } from './express';

/**
 * DPLPMTUD (RFC 8899): while the search wants probes and the window has room, keepalive frames
 * padded to exactly the probe sizes. The peer acknowledges them like any ack-eliciting packet;
 * here they are not in flight and their loss is no congestion signal (PmtuSearch times them
 * out). With the kernel's fragment counter, each probe's send is bracketed by the node's
 * ProbeLedger (one bracket open at a time, node-wide): the next probe waits for this one's send
 * callback (PacketPath.probeHanded asks for it). Without one, the round goes at once.
 */
function probePathMtu(link: NativeLink, now: number): void {
  const path = link.path;
  const pmtu = path.pmtu;
  for (;;) {
    const size = pmtu.nextProbeSize(now);
    if (size === null || path.amplificationRoom() < size) return;
    const delay = path.space.sendDelay(now, size);
    if (delay !== 0) {
      // Held by the pacer (its quantum is 2 datagrams): come back when it has room, or the search stalls.
      if (delay < Infinity) path.arm(now, now + delay);
      return;
    }
    if (!sendProbe(link, pmtu, size, now)) return;
  }
}

/**
 * One probe of `size` bytes, if the node's bracket is free; whether the next may follow at once
 * (unmeasured). No closure is made here or in probePathMtu (a function that makes one allocates
 * its context at every call; probePathMtu runs at every pump, this at every pump of a searching
 * link while another probe holds the bracket): the wake-up is the ledger's, made once per node,
 * and the send callback is made in handProbe, once per probe sent (memalloc17).
 */
function sendProbe(link: NativeLink, pmtu: PmtuSearch, size: number, now: number): boolean {
  const ledger = probeLedger(link.ctx);
  const before = ledger?.open(link.peer.endpoint.family, link.peer, ledger.wakeWaiter);
  if (before === null) return false; // another probe of this node is being handed over
  return handProbe(link, pmtu, size, now, ledger, before);
}

/** Sends the probe (its bracket open when `before` is a number). */
function handProbe(link: NativeLink, pmtu: PmtuSearch, size: number, now: number, ledger: ProbeLedger | null, before: number | undefined): boolean {
  const path = link.path;
  const family = link.peer.endpoint.family;
  const frame: Frame = { t: 0, n: 0, i: 0, p: NO_ITEMS, c: [KEEPALIVE] };
  let pn = -1;
  const handed = before === undefined ? undefined : (err: Error | null): void => path.probeHanded(pmtu, pn, ledger!.close(family), err);
  pn = sendFrame(link, frame, [], NO_REFS, false, size, false, handed);
  if (pn < 0) {
    if (handed) ledger!.close(family); // never handed over: the bracket closes now
    return false;
  }
  pmtu.onProbeSent(pn, size, now, now + path.probeTimeoutMs(), before);
  if (handed) return false;
  pmtu.onProbeHanded(pn, undefined, now); // unmeasured: handed over as far as the search is concerned
  return true;
}

/** Room needed for an ack-only datagram (with a delivery ack) to an address that has not answered yet. */
const SMALL_ACK_DATAGRAM_BYTES = 128;

/** The largest datagram size n ≤ max whose padded size fits in `room` bytes (0 if none). */
function largestFitting(room: number, max: number, policy: Settings['padding']): number {
  if (room >= max) return max;
  let lo = 0;
  let hi = Math.floor(room);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (paddedSize(mid, max, policy) <= room) lo = mid;
    else hi = mid - 1;
  }
  return paddedSize(lo, max, policy) <= room ? lo : 0;
}

/**
 * Sends what the window, the pacer and the session allow (docs/CONGESTION.md §6.2): controls,
 * the rest of a started datagram-mode message, then datagram-mode and reliable items
 * alternating frame by frame, packed greedily; a packet ack rides along when one is pending,
 * or goes alone when due. Returns false when there is no session (the caller handshakes).
 * `draining` (the node is closing): what was accepted goes now, window and pacer aside — a
 * last burst bounded by the queue limits — since nothing will be sent after it.
 */
export function pumpLink(link: NativeLink, draining = false): boolean {
  const { ctx, path } = link;
  const now = ctx.clock.monotonic();
  if (!link.current(now)) {
    queueForSession(link, now);
    return false;
  }
  admitDatagrams(link, now);
  const space = path.space;
  const sender = link.engine.reliable.senderOf(link);
  // Path MTU probes first: the search must not wait for a bulk transfer to leave room.
  if (!draining) probePathMtu(link, now);
  packFrames(link, sender, now, draining);
  const max = path.maxDatagram;
  // Encoded into the module's scratch (memalloc17): a lone ack uses a view of it, no array per ack.
  const n = largestFitting(path.amplificationRoom(), max, ctx.settings.padding) >= SMALL_ACK_DATAGRAM_BYTES ? space.ackToSendInto(ACK_OUT, now) : 0;
  if (n > 0) {
    // A due packet ack goes now; a wanted delivery ack rides with it (then it is ack-eliciting).
    // Our limits rides on it too (then it is ack-eliciting; lost, it rides again).
    const announce = link.engine.reliable.takeAnnouncement(link);
    if (announce.length === 0 && !path.deliveryAckWanted) {
      sendLoneAck(link, (ACK_VIEWS[n] ??= new Uint8Array(ACK_OUT.buffer, 0, n)));
      path.arm(now);
      link.notifyWritable();
      return true;
    }
    const ack = ACK_OUT.slice(0, n);
    const lone = new FramePacker(link, sender, now);
    lone.begin([], announce, max);
    addDeliveryAck(link, lone);
    lone.addControl({ type: 'packetAck', ack });
    lone.finish();
    const refs = lone.refs ?? NO_REFS;
    sendFrame(link, lone.frame, lone.settles, refs, refs.length > 0);
  }
  path.arm(now);
  link.notifyWritable();
  return true;
}

/** The lone-ack branch's ack bytes (encoded, then at once into the datagram), and views of them by length. */
const ACK_OUT = new Uint8Array(MAX_ACK_BYTES);
const ACK_VIEWS: (Uint8Array | undefined)[] = [];

/** A frame without items (shared, never written). */
const NO_ITEMS: PayloadItem[] = Object.freeze([]) as unknown as PayloadItem[];
/** The packet-ack control of LONE_ACK (its ack is set for one send, then let go). */
const LONE_ACK_CONTROL: { type: 'packetAck'; ack: Uint8Array } = { type: 'packetAck', ack: new Uint8Array(0) };
const NO_ACK = LONE_ACK_CONTROL.ack;
/**
 * The frame of every ack that goes alone (one object for the node's life: sendFrame encodes it
 * synchronously and keeps nothing of it). Same shape as FramePacker's frames.
 */
const LONE_ACK: Frame = { t: 0, n: 0, i: 0, p: NO_ITEMS, c: [LONE_ACK_CONTROL], r: undefined };

/**
 * A packet ack with nothing to ride with (memrss16: an idle peer's answer to a keepalive): no
 * frame builder, frame, controls array or control object per ack — the one shared frame, not
 * ack-eliciting, nothing to settle.
 */
function sendLoneAck(link: NativeLink, ack: Uint8Array): void {
  LONE_ACK_CONTROL.ack = ack;
  try {
    sendFrame(link, LONE_ACK, NO_SETTLES, NO_REFS, false);
  } finally {
    LONE_ACK_CONTROL.ack = NO_ACK;
    LONE_ACK.t = LONE_ACK.n = LONE_ACK.i = 0;
  }
}

/**
 * The pump's frames: one per turn of the loop, until nothing more may or needs to go. The frame
 * builder is made at the first turn with work (idle15: a flush with nothing to send, such as an
 * idle peer's ack, makes none).
 */
function packFrames(link: NativeLink, sender: ReliableSender | null, now: number, draining: boolean): void {
  const { ctx, path } = link;
  const space = path.space;
  const max = path.maxDatagram;
  let packer: FramePacker | null = null;
  let reliableFirst = false;
  for (;;) {
    // Null while there are none (q23): a frame of the lane, nearly every one under a full window, makes no empty array.
    let controls: ControlItem[] | null = link.outbox.hasControls ? link.outbox.takeControls() : null;
    const data = path.hasDatagrams || (sender?.hasWork() ?? false);
    let work = controls !== null || data || path.deliveryAckDue(now);
    if (!work && space.probesPending > 0) {
      // A PTO asked for probes: the oldest unacknowledged data again, else a keepalive.
      if (!path.requeueOldest()) controls = [KEEPALIVE];
      work = true;
    }
    if (!work) return;
    // A new address that has not answered yet: only frames whose padded size fits the room.
    const room = path.amplificationRoom();
    const cap = room >= max ? max : largestFitting(room, max, ctx.settings.padding);
    if (cap < SEAL_OVERHEAD_BYTES + FRAME_HEADER_BYTES + 8) {
      if (controls !== null) for (const c of controls) link.outbox.pushControl(c);
      path.amplificationLimitedBytes += max;
      return;
    }
    if (room < Infinity && path.takeValidationProbe(space.probesPending > 0)) (controls ??= []).push(KEEPALIVE);
    const delay = draining ? 0 : space.sendDelay(now, max);
    if (delay > 0) {
      if (controls !== null) for (const c of controls) link.outbox.pushControl(c);
      path.arm(now, now + delay);
      return;
    }
    // A whole message that fills its own datagram, with nothing else to send: the express lane (express.ts).
    if (controls === null && !draining && pumpExpress(link, sender)) continue;
    packer ??= new FramePacker(link, sender, now);
    const budget = packer.budget;
    // Our maxMessageBytes rides on a frame that goes anyway (never a datagram of its own).
    packer.begin(controls ?? [], link.engine.reliable.takeAnnouncement(link), cap);
    addDeliveryAck(link, packer);
    const largest = space.largestReceived; // without waking a resting space (memrss16)
    const ack = space.ackToSend(now, true);
    if (ack) {
      packer.addControl({ type: 'packetAck', ack });
      packer.addRef({ kind: 'packetAck', largest });
    }
    /** Header bytes beyond FRAME_HEADER_BYTES once numbers pass 2^32. */
    const headerExtra = (space.nextPacketNumber >= 2 ** 32 ? 4 : 0) + ((sender?.base ?? 0) >= 2 ** 32 ? 4 : 0);
    packer.sizeControls((cap < max ? cap - SEAL_OVERHEAD_BYTES - FRAME_HEADER_BYTES : budget) - headerExtra);
    if (reliableFirst) while (packer.addReliable() || packer.addDatagram());
    else while (packer.addDatagram() || packer.addReliable());
    reliableFirst = !reliableFirst;
    if (sender && packer.hasReliable) {
      packer.setReliableBase(sender.stream, sender.base);
      link.engine.reliable.sent(link, now);
    }
    const eliciting = packer.eliciting;
    if (!eliciting && packer.frame.c.length === 0) return; // nothing fits an empty frame (items are sized below the budget)
    // A full-size item did not fit beside the piggybacked ack: the ack goes alone, the item next.
    packer.finish();
    sendFrame(link, packer.frame, packer.settles, eliciting ? (packer.refs ?? NO_REFS) : NO_REFS, eliciting, 0, packer.oversize);
  }
}
