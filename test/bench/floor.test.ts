/**
 * The floor case's datagrams (bench/roles/floor.ts, `hot.js floor-dgram-N`): what its sender
 * seals its receiver opens to the payload's length (the count the bench divides by), at the
 * size udpvault's 'bucket' policy gives a 1 KiB message; a changed byte or another key is refused.
 */
import { sodiumNative } from '../../src/crypto/native-lib';
import { openFloorDatagram, sealFloorDatagram } from '../../bench/roles/floor';

const na = sodiumNative();
const native = na ? test : test.skip;

native('a sealed floor datagram opens to its payload length; a changed byte or another key does not open', () => {
  const key = new Uint8Array(32).fill(3);
  const data = new Uint8Array(1024).map((_, i) => i & 0xff);
  const b = Buffer.alloc(2048);
  const n = sealFloorDatagram(na!, key, b, 0x1_0000_0002, data, 1091);
  expect(n).toBe(1120);
  expect([...b.subarray(0, 13)]).toEqual([4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2]);
  const plain = new Uint8Array(2048);
  const d = b.subarray(0, n);
  expect(openFloorDatagram(na!, key, d, plain)).toBe(1024);
  expect([...plain.subarray(8, 8 + 1024)]).toEqual([...data]);
  expect(plain.subarray(8 + 1024, 1091).every((x) => x === 0)).toBe(true);
  const bad = Buffer.from(d);
  bad[500]! ^= 1;
  expect(openFloorDatagram(na!, key, bad, plain)).toBe(-1);
  expect(openFloorDatagram(na!, new Uint8Array(32).fill(4), d, plain)).toBe(-1);
  expect(openFloorDatagram(na!, key, d.subarray(0, 20), plain)).toBe(-1);
});
