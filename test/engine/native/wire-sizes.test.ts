/**
 * Bytes on the wire per message with frame version 5 (issue 9: wire ÷ payload), derived from the
 * send path's own budget (fragmentChunkBytes) and the encoder, at MTU 1500 (IPv4: 1,472-byte
 * datagrams, 28 bytes of IP and UDP headers) with the default `bucket` padding. v4's fixmap
 * spent 16 bytes more per frame on keys (14 without `r`): a 1 KiB message went out in 1,120 bytes
 * (1,148 on the IP wire, 1.121× its payload), a 64 B one in 256, a full fragment carried 1,346
 * bytes in 1,440 (1.091×).
 */
import { binHeaderBytes, encodeFrame, itemOverheadBytes, type Frame } from '../../../src/wire/frame';
import { RELIABLE_WHOLE_ITEM_OVERHEAD } from '../../../src/engine/native/reliable';
import { paddedSize } from '../../../src/wire/padding';
import { fragmentChunkBytes, frameBudget } from '../../../src/engine/native/send';
import { SEAL_OVERHEAD_BYTES } from '../../../src/engine/native/frame-send';
import type { NativeLink } from '../../../src/engine/native/link';

const MAX = 1472;
const IP_UDP = 28;
const link = { path: { maxDatagram: MAX } } as unknown as NativeLink;
const T = 1_800_000_000_000;
/** A packet ack as it rides in a data frame (largest, delay, one range, credit): 17 bytes. */
const ACK = new Uint8Array(17).fill(1);

/** The datagram the send path makes of this frame: sealed, then padded to its bucket. */
const datagram = (f: Frame): number => paddedSize(encodeFrame(f).length + SEAL_OVERHEAD_BYTES, MAX, 'bucket');

describe('wire bytes per message, frame v5, MTU 1500, bucket padding', () => {
  test('a 1 KiB datagram-mode message: 1,055-byte frame → 1,088-byte datagram (1,116 on the IP wire, 1.090×); 1,120 with a packet ack', () => {
    const f: Frame = { t: T, n: 70_000, i: 0xdeadbeef, p: [{ flags: 0, data: new Uint8Array(1024) }], c: [] };
    expect(encodeFrame(f).length).toBe(1055);
    expect(datagram(f)).toBe(1088);
    expect((datagram(f) + IP_UDP) / 1024).toBeCloseTo(1.0898, 4);
    expect(datagram({ ...f, c: [{ type: 'packetAck', ack: ACK }] })).toBe(1120);
  });

  test('a 64 B datagram-mode message: a 94-byte frame → a 128-byte datagram (v4: 107 → 256); 256 with a packet ack', () => {
    const f: Frame = { t: T, n: 70_000, i: 0xdeadbeef, p: [{ flags: 0, data: new Uint8Array(64) }], c: [] };
    expect(encodeFrame(f).length).toBe(94); // v4: 107 (14 bytes of keys v t n i p c g; no nil r)
    expect(datagram(f)).toBe(128);
    expect(datagram({ ...f, c: [{ type: 'packetAck', ack: ACK }] })).toBe(256);
  });

  test('a full reliable fragment of a bulk transfer: 1,362 bytes of message in a 1,440-byte datagram (1.078× on the IP wire), 1,472 with a packet ack', () => {
    expect(frameBudget(link)).toBe(1378); // 1472 − 29 seal − 41 frame header − 24 packet-ack reserve
    // the largest messages that go whole (PROTOCOL.md §12.2): 1,373 bytes in datagram mode, 1,364 reliable
    const whole = (n: number): boolean => itemOverheadBytes({ flags: 0, data: new Uint8Array(n) }) + n <= frameBudget(link);
    const wholeReliable = (n: number): boolean => RELIABLE_WHOLE_ITEM_OVERHEAD + binHeaderBytes(n) + n <= frameBudget(link);
    expect([whole(1373), whole(1374), wholeReliable(1364), wholeReliable(1365)]).toEqual([true, false, true, false]);
    const chunk = fragmentChunkBytes(link);
    expect(chunk).toBe(1362);
    const f: Frame = { t: T, n: 70_000, i: 0xdeadbeef, p: [{ flags: 2 | 4, data: new Uint8Array(chunk), id: 5_000, index: 100, count: 193 }], c: [], r: [1, 4_990] };
    expect(encodeFrame(f).length).toBe(1403);
    expect(datagram(f)).toBe(1440);
    expect((datagram(f) + IP_UDP) / chunk).toBeCloseTo(1.0778, 4);
    expect(datagram({ ...f, c: [{ type: 'packetAck', ack: ACK }] })).toBe(1472);
    // a datagram-mode fragment (no r): the same chunk, the same datagram
    const d: Frame = { t: T, n: 70_000, i: 0xdeadbeef, p: [{ flags: 4, data: new Uint8Array(chunk), id: 0x9abcdef0, index: 100, count: 193 }], c: [] };
    expect(datagram(d)).toBe(1440);
  });
});
