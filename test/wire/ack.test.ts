import { DropError } from '../../src/errors';
import { ackFrameBytes, decodeAck, encodeAck, encodeAckInto, encodeOneRangeAck, encodeOneRangeAckInto, MAX_ACK_BYTES, MAX_ACK_RANGES, type AckFrame, type AckRange } from '../../src/wire/ack';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function expectMalformed(bytes: Uint8Array, message: string): void {
  let err: unknown;
  try {
    decodeAck(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DropError);
  expect((err as DropError).reason).toBe('malformed');
  expect((err as DropError).message).toBe(message);
}

describe('ack frame', () => {
  const frame: AckFrame = {
    ranges: [
      { smallest: 95, largest: 100 },
      { smallest: 90, largest: 92 },
    ],
    ackDelayMs: 1,
    maxBytes: 4 * 1024 * 1024,
    maxMessages: 1024,
  };

  it('encodes every field as a QUIC varint, in the documented order', () => {
    // largest 100 (2 B), delay 1 ms = 125 × 8 µs (2 B), 1 extra range, first range 5,
    // gap 95 − 92 − 2 = 1, length 2, maxBytes 4 MiB (4 B), maxMessages 1024 (2 B)
    expect(hex(encodeAck(frame))).toBe('4064407d' + '01' + '05' + '0102' + '80400000' + '4400');
    expect(ackFrameBytes(frame)).toBe(14);
    expect(decodeAck(encodeAck(frame))).toEqual(frame);
  });

  it('encodes 8-byte varints for large packet numbers and rounds the delay to 8 µs', () => {
    const f: AckFrame = { ranges: [{ smallest: 2 ** 40, largest: 2 ** 40 + 5 }], ackDelayMs: 0.0123, maxBytes: 0, maxMessages: 63 };
    expect(hex(encodeAck(f))).toBe('c000010000000005' + '02' + '00' + '05' + '00' + '3f');
    expect(decodeAck(encodeAck(f))).toEqual({ ...f, ackDelayMs: 0.016 });
  });

  it('round-trips 32 ranges and a single packet 0', () => {
    const ranges: AckRange[] = [];
    for (let k = 0; k < MAX_ACK_RANGES; k++) ranges.push({ smallest: 10_000 - k * 10 - 3, largest: 10_000 - k * 10 });
    const f: AckFrame = { ranges, ackDelayMs: 25, maxBytes: 2 ** 53 - 1, maxMessages: 1 };
    expect(decodeAck(encodeAck(f))).toEqual(f);
    const zero: AckFrame = { ranges: [{ smallest: 0, largest: 0 }], ackDelayMs: 0, maxBytes: 1, maxMessages: 1 };
    expect(hex(encodeAck(zero))).toBe('000000000101');
    expect(decodeAck(unhex('000000000101'))).toEqual(zero);
  });

  it('encodes a one-range ack without its frame to the same bytes as encodeAck, every varint width', () => {
    const cases: Array<[number, number, number, number, number]> = [
      [0, 0, 0, 1, 1],
      [7, 7, 25, 4 * 1024 * 1024, 1024],
      [40, 100, 0.0123, 0, 63],
      [16_000, 16_400, 1, 2 ** 30, 2 ** 14],
      [2 ** 40, 2 ** 40 + 5, 300, 2 ** 53 - 1, 2 ** 31],
    ];
    for (const [smallest, largest, ackDelayMs, maxBytes, maxMessages] of cases) {
      const f: AckFrame = { ranges: [{ smallest, largest }], ackDelayMs, maxBytes, maxMessages };
      expect(hex(encodeOneRangeAck(smallest, largest, ackDelayMs, maxBytes, maxMessages))).toBe(hex(encodeAck(f)));
    }
    expect(hex(encodeOneRangeAck(95, 100, 1, 4 * 1024 * 1024, 1024))).toBe('4064407d' + '00' + '05' + '80400000' + '4400');
    expect(() => encodeOneRangeAck(6, 5, 0, 0, 0)).toThrow('bad ack range [6, 5]');
    expect(() => encodeOneRangeAck(-1, 5, 0, 0, 0)).toThrow('bad ack range [-1, 5]');
    expect(() => encodeOneRangeAck(0, 5, -1, 0, 0)).toThrow('ackDelayMs must be a finite number >= 0, got -1');
  });

  it('writes the same bytes into a buffer (the lone ack\'s form), MAX_ACK_BYTES holding the longest ack', () => {
    const out = new Uint8Array(MAX_ACK_BYTES).fill(0xee);
    const n = encodeAckInto(out, frame);
    expect(n).toBe(14);
    expect(hex(out.subarray(0, n))).toBe(hex(encodeAck(frame)));
    expect(out[n]).toBe(0xee); // nothing written past it
    const m = encodeOneRangeAckInto(out, 2 ** 40, 2 ** 40 + 5, 300, 2 ** 53 - 1, 2 ** 31);
    expect(hex(out.subarray(0, m))).toBe(hex(encodeOneRangeAck(2 ** 40, 2 ** 40 + 5, 300, 2 ** 53 - 1, 2 ** 31)));
    // 32 ranges, every value an 8-byte varint: exactly MAX_ACK_BYTES
    const ranges: AckRange[] = [];
    for (let k = 0; k < MAX_ACK_RANGES; k++) ranges.push({ smallest: 2 ** 52 - k * 2 ** 46, largest: 2 ** 52 - k * 2 ** 46 + 2 ** 31 });
    const longest: AckFrame = { ranges, ackDelayMs: 2 ** 40, maxBytes: 2 ** 53 - 1, maxMessages: 2 ** 40 };
    expect(ackFrameBytes(longest)).toBe(MAX_ACK_BYTES);
    expect(encodeAckInto(out, longest)).toBe(MAX_ACK_BYTES);
    expect(decodeAck(out)).toEqual({ ...longest, ackDelayMs: 2 ** 40 });
  });

  it('refuses to encode bad ranges (caller bug)', () => {
    const base = { ackDelayMs: 0, maxBytes: 0, maxMessages: 0 };
    expect(() => encodeAck({ ...base, ranges: [] })).toThrow('an ack needs at least one range');
    const many: AckRange[] = [];
    for (let k = 0; k < 33; k++) many.push({ smallest: 1000 - 3 * k, largest: 1000 - 3 * k });
    expect(() => encodeAck({ ...base, ranges: many })).toThrow('an ack carries at most 32 ranges, got 33');
    expect(() => encodeAck({ ...base, ranges: [{ smallest: 5, largest: 9 }, { smallest: 3, largest: 6 }] })).toThrow('ack ranges must be descending, disjoint and not adjacent');
    expect(() => encodeAck({ ...base, ranges: [{ smallest: 5, largest: 9 }, { smallest: 3, largest: 4 }] })).toThrow('ack ranges must be descending, disjoint and not adjacent');
    expect(() => encodeAck({ ...base, ranges: [{ smallest: 5, largest: 4 }] })).toThrow('bad ack range [5, 4]');
    expect(() => encodeAck({ ...base, ranges: [{ smallest: 0, largest: 1 }], ackDelayMs: -1 })).toThrow('ackDelayMs must be a finite number >= 0, got -1');
  });

  describe('hostile input is refused with a clear error', () => {
    it('too many ranges: refused before reading them (bounded cost)', () => {
      // range count 32 (33 ranges)
      expectMalformed(unhex('40 64 00 20 00'), 'invalid ack: 33 ranges (at most 32)');
      // range count 2^40: refused at once, no loop
      expectMalformed(unhex('40 64 00 c0 00 01 00 00 00 00 00 00'), `invalid ack: ${2 ** 40 + 1} ranges (at most 32)`);
      // range count 2^61: above what a number holds exactly
      expectMalformed(unhex('40 64 00 e0 00 00 00 00 00 00 00 00'), 'invalid ack: range count above 2^53 - 1');
    });
    it('a first range beyond largest', () => {
      expectMalformed(unhex('05 00 00 06 00 00'), 'invalid ack: first range reaches below packet number 0');
    });
    it('a later range below packet number 0 (gap or length too large)', () => {
      // largest 10, first range 0, gap 9 → next largest would be −1
      expectMalformed(unhex('0a 00 01 00 09 00 00 00'), 'invalid ack: range 2 reaches below packet number 0');
      // largest 10, first 0, gap 0 → next largest 8, length 9 → smallest −1
      expectMalformed(unhex('0a 00 01 00 00 09 00 00'), 'invalid ack: range 2 reaches below packet number 0');
    });
    it('truncation at every byte', () => {
      const ok = encodeAck(frame);
      const fields = ['largest', 'largest', 'ack delay', 'ack delay', 'range count', 'first range', 'gap', 'range length', 'max bytes', 'max bytes', 'max bytes', 'max bytes', 'max messages', 'max messages'];
      for (let n = 0; n < ok.length; n++) expectMalformed(ok.subarray(0, n), `invalid ack: truncated at ${fields[n]}`);
    });
    it('trailing bytes', () => {
      const ok = encodeAck(frame);
      const longer = new Uint8Array(ok.length + 2);
      longer.set(ok);
      expectMalformed(longer, 'invalid ack: 2 trailing bytes');
    });
    it('values above 2^53 − 1', () => {
      expectMalformed(unhex('ff ff ff ff ff ff ff ff 00 00 00 00 00'), 'invalid ack: largest above 2^53 - 1');
    });
  });
});
