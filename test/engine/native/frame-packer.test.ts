/**
 * The frame packer's per-item bookkeeping (src/engine/native/frame-packer.ts, issue 12): a
 * reliable item's reference is its seq (a number, no object per item), the delivery-ack and
 * `limits` references are shared records, and one `r` array serves the frames of a pump turn
 * while stream and base stay.
 */
import { FramePacker, addDeliveryAck } from '../../../src/engine/native/frame-packer';
import { DELIVERY_ACK_REF, LIMITS_REF } from '../../../src/engine/native/packet-path';
import { FLAG_RELIABLE, type PayloadItem } from '../../../src/wire/frame';
import type { NativeLink } from '../../../src/engine/native/link';
import type { ReliableSender } from '../../../src/delivery/reliable-sender';

/** A sender handing out seqs 7, 8, 9 … of 100 bytes each, stamped at the packer's time. */
function fakeSender(count: number): { sender: ReliableSender; stamps: number[] } {
  const stamps: number[] = [];
  let seq = 7;
  const last = 7 + count;
  let peeked: PayloadItem | null = null;
  const peekItem = (): PayloadItem | null => (seq < last ? (peeked ??= { flags: FLAG_RELIABLE, data: new Uint8Array(100), id: seq }) : null);
  const sender = {
    peekItem,
    takePeeked(now: number): PayloadItem {
      const it = peeked!;
      stamps.push(now);
      peeked = null;
      seq++;
      return it;
    },
  } as unknown as ReliableSender;
  return { sender, stamps };
}

function fakeLink(deliveryAck: boolean): NativeLink {
  let wanted = deliveryAck;
  return {
    path: {
      maxDatagram: 1472,
      get deliveryAckWanted() { return wanted; },
      deliveryAckSent: () => { wanted = false; },
    },
    ctx: { maxDatagram: { 4: 1472, 6: 1452 } },
    peer: { endpoint: { family: 4 } },
    engine: { reliable: { deliveryAck: () => ({ type: 'ack', stream: 5, cum: 3, ranges: [] }) } },
  } as unknown as NativeLink;
}

describe('FramePacker', () => {
  test('reliable items are referenced by their seq; the delivery ack and limits by shared records', () => {
    const { sender, stamps } = fakeSender(3);
    const p = new FramePacker(fakeLink(true), sender, 1234.5);
    p.begin([], [{ type: 'limits', maxMessageBytes: 1 << 20 }], 1472);
    addDeliveryAck(p.link, p);
    p.sizeControls(1400);
    while (p.addReliable());
    p.finish();
    expect(p.refs).toEqual([LIMITS_REF, DELIVERY_ACK_REF, 7, 8, 9]);
    expect(p.refs![0]).toBe(LIMITS_REF);
    expect(p.refs![1]).toBe(DELIVERY_ACK_REF);
    expect(p.frame.p.map((i) => i.id)).toEqual([7, 8, 9]);
    expect(stamps).toEqual([1234.5, 1234.5, 1234.5]);
    expect(p.frame.c.map((c) => c.type)).toEqual(['limits', 'ack']);
  });

  test('a frame without items has no refs, shares the empty item list, and has no r', () => {
    const p = new FramePacker(fakeLink(false), fakeSender(0).sender, 0);
    p.begin([], [], 1472);
    addDeliveryAck(p.link, p);
    expect(p.addReliable()).toBe(false);
    expect([p.refs, p.frame.p.length, p.frame.r, p.eliciting]).toEqual([null, 0, undefined, false]);
    expect(Object.isFrozen(p.frame.p)).toBe(true);
  });

  test('one r array for the frames of a pump turn while stream and base stay; a new one when base moves', () => {
    const p = new FramePacker(fakeLink(false), fakeSender(3).sender, 0);
    p.begin([], [], 1472);
    p.setReliableBase(0x1234_5678_9abc, 41);
    const first = p.frame.r;
    expect(first).toEqual([0x1234_5678_9abc, 41]);
    p.begin([], [], 1472);
    expect(p.frame.r).toBeUndefined();
    p.setReliableBase(0x1234_5678_9abc, 41);
    expect(p.frame.r).toBe(first);
    p.begin([], [], 1472);
    p.setReliableBase(0x1234_5678_9abc, 42);
    expect(p.frame.r).toEqual([0x1234_5678_9abc, 42]);
    expect(p.frame.r).not.toBe(first);
    expect(first).toEqual([0x1234_5678_9abc, 41]); // the earlier frame's array is never rewritten
  });
});
