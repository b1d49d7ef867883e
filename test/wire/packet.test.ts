/** Outer data datagram layout (docs/PROTOCOL.md): offsets, lengths, u64 limits; v4 handshake types do not collide with data. */
import * as C from '../../src/constants';
import { DropError } from '../../src/errors';
import { DATA_MIN_BYTES, dataCounter, dataReceiverSid, encodeDataHeader, parseDataHeader, readU64, writeU64 } from '../../src/wire/packet';
import { V4 } from '../../src/wire/handshake-v4';


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
  test('type bytes: the data type is 0x_3 of the protocol version; v4 handshake and cookie types are 0x41, 0x42, 0x44–0x47 (none is the data type)', () => {
    expect(C.PROTOCOL_VERSION).toBe(4);
    expect(C.TYPE_DATA).toBe((C.PROTOCOL_VERSION << 4) | 3);
    expect(C.TYPE_DATA).toBe(0x43);
    const hs = [V4.ikInit, V4.ikResponse, V4.xx1, V4.xx2, V4.xx3, V4.cookieReply];
    expect(hs).toEqual([0x41, 0x42, 0x44, 0x45, 0x46, 0x47]);
    expect(hs).not.toContain(C.TYPE_DATA);
    expect(hs).not.toContain(0x43); // the v4 data type
  });

  test('layout sizes', () => {
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

describe('dataReceiverSid / dataCounter (the receive path reads the fields without a header object)', () => {
  test('the same fields as parseDataHeader, at their offsets', () => {
    const h = encodeDataHeader(0xdeadbeef, 2 ** 53 - 1);
    expect(hex(h)).toBe('43deadbeef001fffffffffffff');
    expect(dataReceiverSid(h)).toBe(0xdeadbeef);
    expect(dataCounter(h)).toBe(2 ** 53 - 1);
    const g = encodeDataHeader(7, 0x1_0000_0002);
    expect([dataReceiverSid(g), dataCounter(g)]).toEqual([7, 0x1_0000_0002]);
    expect(parseDataHeader(g)).toEqual({ receiverSid: 7, counter: 0x1_0000_0002 });
  });

  test('a counter above 2^53 is malformed, as in parseDataHeader', () => {
    const h = encodeDataHeader(1, 0);
    h[6] = 0x20; // high word 0x00200000
    expectDrop(() => dataCounter(h), 'malformed', '64-bit field above 2^53');
    expectDrop(() => parseDataHeader(h), 'malformed', '64-bit field above 2^53');
    expect(dataReceiverSid(h)).toBe(1);
  });
});
