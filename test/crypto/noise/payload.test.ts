/** The v4 handshake payload codec and TAI64N-like timestamps (src/crypto/noise/payload.ts). */
import { NoiseError } from '../../../src/crypto/noise/handshake-state';
import { compareTimestamps, decodePayload, encodePayload, tai64nFromMs, TimestampSource, type HandshakePayload } from '../../../src/crypto/noise/payload';
import { ManualClock } from '../../../src/runtime/clock';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const base: HandshakePayload = {
  timestamp: tai64nFromMs(1_800_000_000_123),
  wallClockMs: 1_800_000_000_123,
  sessionId: 0x11223344,
  maxMessageBytes: 1 << 20,
  streamEpoch: 2 ** 40 + 5,
  extensions: [],
};

test('exact bytes without and with identity and extensions', () => {
  expect(hex(encodePayload(base))).toBe(
    '01' + '400000006b49d200' + '07000000' + '000001a3185c507b' + '11223344' + '00100000' + '0000010000000005' + '00',
  );
  const id = new Uint8Array(32).fill(0xee);
  const withAll = encodePayload({ ...base, identity: id, extensions: [{ type: 1, value: new Uint8Array([9, 9]) }, { type: 0x7f, value: new Uint8Array(0) }] });
  expect(withAll.length).toBe(38 + 32 + 6);
  expect(hex(withAll.subarray(37))).toBe('ee'.repeat(32) + '06' + '010209097f00');
  expect(decodePayload(withAll, true)).toEqual({ ...base, identity: id, extensions: [{ type: 1, value: new Uint8Array([9, 9]) }, { type: 0x7f, value: new Uint8Array(0) }] });
  expect(decodePayload(encodePayload(base), false)).toEqual(base);
});

test('strict decoding', () => {
  const good = encodePayload(base);
  const bad = (mut: (b: Uint8Array) => Uint8Array, withId = false): void => {
    expect(() => decodePayload(mut(good.slice()), withId)).toThrow(NoiseError);
  };
  bad((b) => ((b[0] = 2), b)); // unknown payload version
  bad((b) => b.subarray(0, 37)); // short
  bad((b) => new Uint8Array([...b, 0])); // trailing byte
  bad((b) => ((b[13] = 0xff), b)); // wall clock above 2^53
  bad((b) => (b.fill(0, 21, 25), b)); // sid 0
  bad((b) => b, true); // identity expected, not there
  const ext = (bytes: number[]): Uint8Array => {
    const b = new Uint8Array(38 + bytes.length);
    b.set(good.subarray(0, 37));
    b[37] = bytes.length;
    b.set(bytes, 38);
    return b;
  };
  expect(() => decodePayload(ext([2, 0, 1, 0]), false)).toThrow('ascending');
  expect(() => decodePayload(ext([1, 5, 0]), false)).toThrow('truncated');
  expect(() => decodePayload(ext([0x81, 0]), false)).toThrow('critical');
  expect(decodePayload(ext([0x05, 1, 7]), false).extensions).toEqual([{ type: 5, value: new Uint8Array([7]) }]); // unknown, not critical: kept
  expect(() => encodePayload({ ...base, extensions: [{ type: 1, value: new Uint8Array(63) }] })).toThrow('at most 64');
  expect(() => encodePayload({ ...base, sessionId: 0 })).toThrow(RangeError);
});

test('TAI64N: 2^62 + seconds, nanoseconds whitened to 2^24 ns; byte order is time order', () => {
  expect(hex(tai64nFromMs(0))).toBe('400000000000000000000000');
  expect(hex(tai64nFromMs(1500))).toBe('40000000000000011d000000'); // 500 ms = 0x1dcd6500 ns → 0x1d000000
  expect(compareTimestamps(tai64nFromMs(1000), tai64nFromMs(1016))).toBe(0); // same 16.8 ms slot
  expect(compareTimestamps(tai64nFromMs(1000), tai64nFromMs(1017))).toBeLessThan(0);
  expect(compareTimestamps(tai64nFromMs(2 ** 40), tai64nFromMs(2 ** 40 - 1000))).toBeGreaterThan(0);
});

test('a node’s own stamps strictly increase when the clock stands still or steps back', () => {
  const clock = new ManualClock(1_800_000_000_000);
  const src = new TimestampSource(clock);
  const a = src.next();
  const b = src.next(); // same instant
  expect(compareTimestamps(b, a)).toBeGreaterThan(0);
  clock.setWall(1_700_000_000_000); // a step back of ~3 years
  const c = src.next();
  expect(compareTimestamps(c, b)).toBeGreaterThan(0);
  clock.setWall(1_900_000_000_000);
  const d = src.next();
  expect(hex(d)).toBe(hex(tai64nFromMs(1_900_000_000_000)));
  // seeded with a persisted stamp from the future: still increases past it
  const resumed = new TimestampSource(new ManualClock(1), d);
  expect(compareTimestamps(resumed.next(), d)).toBeGreaterThan(0);
});
