import * as zlib from 'node:zlib';
import { crc32 } from '../../src/store/crc32';
import { decodeFrames, decodeHeader, encodeHeader, encodeRecord, MAX_PAYLOAD } from '../../src/store/journal-codec';

describe('crc32', () => {
  test('the standard check value and agreement with zlib', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 255));
    const z = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
    if (z) expect(crc32(data)).toBe(z(data));
    expect(crc32(data.subarray(500), crc32(data.subarray(0, 500)))).toBe(crc32(data)); // continuation
  });
});

describe('journal frames', () => {
  test('exact layout: u32 LE length, u32 LE crc32(length ‖ payload), JSON payload with only the record’s fields', () => {
    const frame = encodeRecord({ type: 'epoch', key: 'k', epoch: 7, extra: 'x' } as never);
    const payload = Buffer.from('{"type":"epoch","key":"k","epoch":7}');
    expect(frame.readUInt32LE(0)).toBe(payload.length);
    expect(frame.readUInt32LE(4)).toBe(crc32(payload, crc32(frame.subarray(0, 4))));
    expect(frame.subarray(8)).toEqual(payload);
    expect(encodeHeader(258)).toEqual(Buffer.from([0x55, 0x56, 0x4a, 0x31, 2, 1, 0, 0]));
    expect(decodeHeader(encodeHeader(258))).toBe(258);
    expect(decodeHeader(Buffer.from('UVJ2\0\0\0\0'))).toBeNull();
  });

  test('a corrupted length field cannot make decoding read past the data or accept a record', () => {
    const f = encodeRecord({ type: 'handshake', key: 'k', ts: 1 });
    const b = Buffer.concat([encodeHeader(0), f, f]);
    b.writeUInt32LE(MAX_PAYLOAD + 1, 8 + f.length);
    expect(decodeFrames(b)).toMatchObject({ validEnd: 8 + f.length, tornBytes: f.length });
    b.writeUInt32LE(f.length - 9, 8 + f.length); // shorter: the checksum no longer matches
    expect(decodeFrames(b).records).toHaveLength(1);
  });

  test('an oversized record is refused', () => {
    expect(() => encodeRecord({ type: 'tofu', ref: 'r'.repeat(301), key: 'k' })).toThrow(/invalid journal record/);
  });
});
