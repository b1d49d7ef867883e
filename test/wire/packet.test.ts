/** Outer datagram layouts of protocol v3 (docs/PROTOCOL.md §2–§6): offsets, lengths, u64 limits. */
import * as C from '../../src/constants';
import { DropError } from '../../src/errors';
import {
  DATA_MIN_BYTES,
  encodeDataHeader,
  encodeInitUnsigned,
  encodeResponseUnsigned,
  INIT_BYTES,
  INIT_SIGNED_BYTES,
  parseDataHeader,
  parseInit,
  parseResponse,
  readU64,
  RESPONSE_BYTES,
  RESPONSE_SIGNED_BYTES,
  writeU64,
} from '../../src/wire/packet';

const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function expectDrop(fn: () => unknown, reason: DropError['reason'], message?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DropError);
  expect((caught as DropError).reason).toBe(reason);
  if (message !== undefined) expect((caught as DropError).message).toBe(message);
}

describe('constants', () => {
  test('type bytes: high nibble version 3, low nibble type', () => {
    expect(C.PROTOCOL_VERSION).toBe(4);
    expect([C.TYPE_HANDSHAKE_INIT, C.TYPE_HANDSHAKE_RESPONSE, C.TYPE_DATA]).toEqual([0x41, 0x42, 0x43]);
    for (const t of [C.TYPE_HANDSHAKE_INIT, C.TYPE_HANDSHAKE_RESPONSE, C.TYPE_DATA]) expect(t >> 4).toBe(C.PROTOCOL_VERSION);
  });

  test('layout sizes', () => {
    expect(INIT_SIGNED_BYTES).toBe(109);
    expect(INIT_BYTES).toBe(173);
    expect(RESPONSE_SIGNED_BYTES).toBe(81);
    expect(RESPONSE_BYTES).toBe(145);
    expect(C.DATA_HEADER_BYTES).toBe(13);
    expect(C.AEAD_TAG_BYTES).toBe(16);
    expect(DATA_MIN_BYTES).toBe(30);
  });
});

describe('u64 fields', () => {
  test('writeU64/readU64 are big endian', () => {
    const b = new Uint8Array(10);
    writeU64(b, 1, 2 ** 40 + 0x01020304);
    expect(hex(b)).toBe('00000001000102030400');
    expect(readU64(b, 1)).toBe(2 ** 40 + 0x01020304);
  });

  test('2^53 − 1 is the largest value read', () => {
    const b = new Uint8Array(8);
    writeU64(b, 0, Number.MAX_SAFE_INTEGER);
    expect(hex(b)).toBe('001fffffffffffff');
    expect(readU64(b, 0)).toBe(Number.MAX_SAFE_INTEGER);
  });

  test.each(['0020000000000000', '0020000000000001', '8000000000000000', 'ffffffffffffffff', '0100000000000000'])(
    'a value above 2^53 − 1 is refused as malformed (%s)',
    (h) => {
      expectDrop(() => readU64(new Uint8Array(Buffer.from(h, 'hex')), 0), 'malformed', '64-bit field above 2^53');
    },
  );
});

describe('handshake init (0x41, 173 bytes)', () => {
  const fields = {
    senderSid: 0xa1b2c3d4,
    timestampMs: 0x0102_0304_0506,
    initiatorStatic: fill(32, 0x11),
    responderStatic: fill(32, 0x22),
    ephemeral: fill(32, 0x33),
  };

  test('encodeInitUnsigned puts every field at its offset and leaves the signature zero', () => {
    const b = encodeInitUnsigned(fields);
    expect(b.length).toBe(173);
    expect(hex(b.subarray(0, 13))).toBe('41a1b2c3d4' + '0000010203040506');
    expect(b.subarray(13, 45)).toEqual(fill(32, 0x11));
    expect(b.subarray(45, 77)).toEqual(fill(32, 0x22));
    expect(b.subarray(77, 109)).toEqual(fill(32, 0x33));
    expect(b.subarray(109, 173)).toEqual(fill(64, 0));
  });

  test('parseInit reads the fields back (views into the datagram)', () => {
    const b = encodeInitUnsigned(fields);
    b.set(fill(64, 0x44), 109);
    const m = parseInit(b);
    expect(m.bytes).toBe(b);
    expect(m.senderSid).toBe(0xa1b2c3d4);
    expect(m.timestampMs).toBe(0x0102_0304_0506);
    expect(m.initiatorStatic).toEqual(fill(32, 0x11));
    expect(m.responderStatic).toEqual(fill(32, 0x22));
    expect(m.ephemeral).toEqual(fill(32, 0x33));
    expect(m.signature).toEqual(fill(64, 0x44));
    expect(m.signature.byteOffset - b.byteOffset).toBe(109);
  });

  test.each([0, 1, 13, 172, 174, 1500])('length %i is refused', (n) => {
    const b = new Uint8Array(n);
    if (n > 0) b[0] = 0x41;
    expectDrop(() => parseInit(b), 'malformed', 'bad handshake init length or type');
  });

  test.each([0x40, 0x42, 0x43, 0x21, 0x31, 0xb1])('type byte %i is refused', (t) => {
    const b = encodeInitUnsigned(fields);
    b[0] = t;
    expectDrop(() => parseInit(b), 'malformed', 'bad handshake init length or type');
  });

  test('a timestamp above 2^53 − 1 is refused', () => {
    const b = encodeInitUnsigned(fields);
    b[6] = 0x20; // bytes 5..12: 00 20 … → ≥ 2^53
    expectDrop(() => parseInit(b), 'malformed', '64-bit field above 2^53');
  });
});

describe('handshake response (0x42, 145 bytes)', () => {
  const fields = {
    senderSid: 0x01020304,
    receiverSid: 0xfffffffe,
    timestampMs: 1_800_000_000_123,
    responderStatic: fill(32, 0x55),
    ephemeral: fill(32, 0x66),
  };

  test('encodeResponseUnsigned layout', () => {
    const b = encodeResponseUnsigned(fields);
    expect(b.length).toBe(145);
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(1_800_000_000_123n);
    expect(hex(b.subarray(0, 17))).toBe('42' + '01020304' + 'fffffffe' + ts.toString('hex'));
    expect(b.subarray(17, 49)).toEqual(fill(32, 0x55));
    expect(b.subarray(49, 81)).toEqual(fill(32, 0x66));
    expect(b.subarray(81, 145)).toEqual(fill(64, 0));
  });

  test('parseResponse reads the fields back', () => {
    const b = encodeResponseUnsigned(fields);
    b.set(fill(64, 0x77), 81);
    const m = parseResponse(b);
    expect(m.bytes).toBe(b);
    expect(m.senderSid).toBe(0x01020304);
    expect(m.receiverSid).toBe(0xfffffffe);
    expect(m.timestampMs).toBe(1_800_000_000_123);
    expect(m.responderStatic).toEqual(fill(32, 0x55));
    expect(m.ephemeral).toEqual(fill(32, 0x66));
    expect(m.signature).toEqual(fill(64, 0x77));
    expect(m.signature.byteOffset - b.byteOffset).toBe(81);
  });

  test.each([0, 1, 144, 146, 173])('length %i is refused', (n) => {
    const b = new Uint8Array(n);
    if (n > 0) b[0] = 0x42;
    expectDrop(() => parseResponse(b), 'malformed', 'bad handshake response length or type');
  });

  test.each([0x41, 0x43, 0x32, 0x22])('type byte %i is refused', (t) => {
    const b = encodeResponseUnsigned(fields);
    b[0] = t;
    expectDrop(() => parseResponse(b), 'malformed', 'bad handshake response length or type');
  });

  test('a timestamp above 2^53 − 1 is refused', () => {
    const b = encodeResponseUnsigned(fields);
    b[9] = 0x80;
    expectDrop(() => parseResponse(b), 'malformed', '64-bit field above 2^53');
  });
});

describe('data header (0x43, 13 bytes)', () => {
  test('encodeDataHeader layout', () => {
    expect(hex(encodeDataHeader(0x55667788, 0))).toBe('43' + '55667788' + '0000000000000000');
    expect(hex(encodeDataHeader(1, 2 ** 32 + 7))).toBe('43' + '00000001' + '0000000100000007');
    expect(hex(encodeDataHeader(0xffffffff, Number.MAX_SAFE_INTEGER))).toBe('43' + 'ffffffff' + '001fffffffffffff');
    expect(encodeDataHeader(9, 9).length).toBe(13);
  });

  test('parseDataHeader reads sid and counter (also from a longer datagram)', () => {
    const d = new Uint8Array(40);
    d.set(encodeDataHeader(0xdeadbeef, 2 ** 33 + 1));
    expect(parseDataHeader(d)).toEqual({ receiverSid: 0xdeadbeef, counter: 2 ** 33 + 1 });
  });

  test('a counter above 2^53 − 1 is refused', () => {
    const d = encodeDataHeader(1, 0);
    d[5] = 0x00;
    d[6] = 0x20;
    expectDrop(() => parseDataHeader(d), 'malformed', '64-bit field above 2^53');
  });
});
