/**
 * The frame under construction in one send-pump turn (pump.ts): packing as methods of one
 * object per pump call instead of three closures, a spread and a reduce per frame (issue 12).
 * Pooling these objects (and the transport's hand-off) was measured too: no gain in CPU per
 * message — V8's young-generation allocation is cheap, and pooled old-space objects pointing
 * at young ones add remembered-set work — so they are plain allocations.
 */
import { controlBytes, itemBytes, MAX_ITEMS_PER_FRAME, FRAME_FIXED_OVERHEAD_BYTES, type ControlItem, type Frame, type PayloadItem } from '../../wire/frame';
import type { OutMessage } from '../../peer/outbox';
import type { ReliableSender } from '../../delivery/reliable-sender';
import type { NativeLink } from './link';
import { DELIVERY_ACK_REF, LIMITS_REF, type FrameRef } from './frame-ref';
import { PACKET_ACK_RESERVE_BYTES, SEAL_OVERHEAD_BYTES, frameBudget } from './frame-send';

/** A frame's settled messages before its first (shared, never written: frozen). */
export const NO_SETTLES: OutMessage[] = Object.freeze([]) as unknown as OutMessage[];
/** A frame's items before its first (shared, never written: finish() replaces it; frozen). */
const NO_ITEMS: PayloadItem[] = Object.freeze([]) as unknown as PayloadItem[];

/*
 * The items and the settled messages of the frame being packed, gathered here and copied out by
 * finish() into arrays of exactly their length (q23): pushed one by one onto the frame's own
 * arrays they grew 1 → 17 → 41 slots (V8 grows by n + n/2 + 16), three arrays each per frame of
 * small messages. One pair for the process: a frame is packed synchronously from begin() to
 * finish(), and nothing packing calls (the window-wait queue, the reliable sender) packs.
 * The slots are cleared at finish() (no message is kept here after its frame).
 */
const ITEMS: PayloadItem[] = [];
const SETTLED: OutMessage[] = [];

/** One pump turn's frame builder (one per pump call; begin() starts each frame afresh). */
export class FramePacker {
  readonly link: NativeLink;
  readonly sender: ReliableSender | null;
  frame: Frame = { t: 0, n: 0, i: 0, p: NO_ITEMS, c: [], r: undefined };
  /** This pump turn's `r` (one array while stream and base stay: the encoder only reads it). */
  #r: [number, number] | null = null;
  /** Kept by the packet space with the datagram: a fresh array per frame that has any. */
  refs: FrameRef[] | null = null;
  /**
   * Messages whose last item is in this frame, once finish() ran: NO_SETTLES when none, else a
   * fresh array of exactly their number per frame (the transport callback keeps it).
   */
  settles: OutMessage[] = NO_SETTLES;
  /** Items and settled messages gathered in ITEMS and SETTLED for this frame. */
  #items = 0;
  #settled = 0;
  used = 0;
  /** Content budget of this frame; the full budget (with the ack reserve); the interface's. */
  budgetNow = 0;
  readonly budget: number;
  readonly interfaceBudget: number;
  readonly max: number;
  cap = 0;
  oversize = false;
  hasReliable = false;

  /** The pump's time (its one clock read): reliable items are stamped sent at it. */
  readonly now: number;

  constructor(link: NativeLink, sender: ReliableSender | null, now: number) {
    this.link = link;
    this.sender = sender;
    this.now = now;
    this.budget = frameBudget(link) + PACKET_ACK_RESERVE_BYTES;
    this.max = link.path.maxDatagram;
    /** An item fragmented for a larger path size before a fallback still goes, alone in its frame. */
    this.interfaceBudget = link.ctx.maxDatagram[link.peer.endpoint.family] - SEAL_OVERHEAD_BYTES - FRAME_FIXED_OVERHEAD_BYTES;
  }

  /** A new frame of at most `cap` datagram bytes, holding `controls` then `announce`. */
  begin(controls: ControlItem[], announce: readonly ControlItem[], cap: number): void {
    if (announce.length > 0) for (const x of announce) controls.push(x);
    // Every field present from the start (`r` too): one object shape, no transition per frame.
    this.frame = { t: 0, n: 0, i: 0, p: NO_ITEMS, c: controls, r: undefined };
    this.refs = announce.length > 0 ? [LIMITS_REF] : null;
    this.settles = NO_SETTLES;
    this.#clear();
    this.used = 0;
    this.oversize = false;
    this.hasReliable = false;
    this.cap = cap;
  }

  addRef(r: FrameRef): void {
    if (this.refs === null) this.refs = [r];
    else this.refs.push(r);
  }

  #addItem(item: PayloadItem, size: number): void {
    ITEMS[this.#items++] = item;
    this.used += size;
  }

  #settle(m: OutMessage): void {
    SETTLED[this.#settled++] = m;
  }

  /**
   * Ends the frame: its items into `frame.p` and its settled messages into `settles`, each an
   * array of exactly their number (the first of each alone: `[x]`), or the shared empty ones.
   * The pump calls it before sending the frame; the packer's slots are then free.
   */
  finish(): void {
    const n = this.#items;
    if (n > 0) this.frame.p = n === 1 ? [ITEMS[0]!] : ITEMS.slice(0, n);
    const s = this.#settled;
    if (s > 0) this.settles = s === 1 ? [SETTLED[0]!] : SETTLED.slice(0, s);
    this.#clear();
  }

  /** Lets go of this frame's items and messages in the shared slots. */
  #clear(): void {
    for (let k = 0; k < this.#items; k++) ITEMS[k] = undefined as unknown as PayloadItem;
    for (let k = 0; k < this.#settled; k++) SETTLED[k] = undefined as unknown as OutMessage;
    this.#items = 0;
    this.#settled = 0;
  }

  /** Items in the frame so far (before finish(): frame.p is filled then). */
  get items(): number {
    return this.#items;
  }

  addControl(c: ControlItem): void {
    this.frame.c.push(c);
  }

  /** Sums the controls' bytes (after begin and the delivery ack) and sets this frame's budget. */
  sizeControls(budgetNow: number): void {
    let used = 0;
    const c = this.frame.c;
    for (let k = 0; k < c.length; k++) used += controlBytes(c[k]!); // indexed: no iterator (memalloc17)
    this.used = used;
    this.budgetNow = budgetNow;
  }

  #fits(size: number): boolean {
    const n = this.#items;
    if (this.used + size <= this.budgetNow && n < MAX_ITEMS_PER_FRAME) return true;
    // An item cut for a larger path size before a black-hole fallback: alone, at its size.
    this.oversize = n === 0 && this.cap >= this.max && size > this.budget && this.used + size <= this.interfaceBudget;
    return this.oversize;
  }

  /** The next item of datagram-mode messages, if it fits. */
  addDatagram(): boolean {
    const path = this.link.path;
    let cur = path.current;
    if (!cur) {
      if (!path.hasDatagrams) return false; // nothing waits: no queue made just to look (idle15)
      const next = path.waiting.first();
      if (next === undefined) return false;
      const fragments = next.fragments;
      // A whole message (the usual case) is its own item: no `current` record for it.
      const first = fragments === null ? next : fragments[0]!;
      const size = itemBytes(first);
      if (!this.#fits(size)) return false;
      path.waiting.shift();
      if (fragments === null) {
        this.#addItem(next, size);
        this.#settle(next);
        return true;
      }
      cur = path.current = { m: next, next: 0 };
    }
    const fragments = cur.m.fragments!;
    const item = fragments[cur.next]!;
    const size = itemBytes(item);
    if (!this.#fits(size)) return false;
    this.#addItem(item, size);
    if (++cur.next === fragments.length) {
      this.#settle(cur.m);
      path.current = null;
    }
    return true;
  }

  /** The reliable sender's next item, if it fits (the sender chooses and builds it once: peekItem, then takePeeked). */
  addReliable(): boolean {
    const sender = this.sender;
    const item = sender?.peekItem() ?? null;
    if (item === null) return false;
    const size = itemBytes(item);
    if (!this.#fits(size)) return false;
    sender!.takePeeked(this.now); // the item just peeked: not chosen again
    this.#addItem(item, size);
    this.addRef(item.id!); // the seq itself: no reference object per item
    this.hasReliable = true;
    return true;
  }

  setReliableBase(stream: number, base: number): void {
    const r = this.#r;
    this.frame.r = r !== null && r[0] === stream && r[1] === base ? r : (this.#r = [stream, base]);
  }

  /** Carries something the peer must acknowledge (an item or any control but a packet ack). */
  get eliciting(): boolean {
    const f = this.frame;
    if (this.#items > 0 || f.p.length > 0) return true;
    const c = f.c;
    for (let k = 0; k < c.length; k++) if (c[k]!.type !== 'packetAck') return true; // indexed: no iterator (memalloc17)
    return false;
  }
}

/** The current delivery ack, if one is wanted (it is fetched fresh: the latest state, never a stale copy). */
export function addDeliveryAck(link: NativeLink, packer: FramePacker): void {
  if (!link.path.deliveryAckWanted) return;
  link.path.deliveryAckSent();
  const c = link.engine.reliable.deliveryAck(link);
  if (!c) return;
  packer.addControl(c);
  packer.addRef(DELIVERY_ACK_REF);
}
