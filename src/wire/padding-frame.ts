/**
 * The exact encoded length of a frame before padding (its `g` bin empty), so that the 'bucket'
 * policy pads what is really there: sized from upper bounds, a 1 KiB message would land one
 * bucket too high. Mirrors encodeFrame's layout ({ v, t, n, i, p, c, [r], g }, frame-encode.ts);
 * test/wire/padding-frame.test.ts holds the two together.
 */
import { binHeaderBytes, itemBytes, type ControlItem, type Frame } from './frame';

const uintBytes = (n: number): number => (n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1_0000_0000 ? 5 : 9);
const arrayHeaderBytes = (n: number): number => (n < 16 ? 1 : n < 0x10000 ? 3 : 5);

function controlBytes(c: ControlItem): number {
  switch (c.type) {
    case 'keepalive':
      return 2;
    case 'packetAck':
      return 2 + binHeaderBytes(c.ack.length) + c.ack.length;
    case 'limits':
      return 2 + uintBytes(c.maxMessageBytes);
    case 'ack': {
      let n = 2 + uintBytes(c.stream) + uintBytes(c.cum) + arrayHeaderBytes(c.ranges.length);
      for (const r of c.ranges) n += uintBytes(r);
      return n;
    }
  }
}

/** Bytes of `encodeFrame(f)` with no padding (`g` present and empty). */
export function unpaddedFrameBytes(f: Frame): number {
  // map header, v, t, n, i, p, c keys with their values, the g key and an empty bin8
  let n = 1 + 3 + 2 + uintBytes(f.t) + 2 + uintBytes(f.n) + 2 + uintBytes(f.i) + 2 + arrayHeaderBytes(f.p.length) + 2 + arrayHeaderBytes(f.c.length) + 2 + 2;
  for (const i of f.p) n += itemBytes(i);
  for (const c of f.c) n += controlBytes(c);
  if (f.r) n += 2 + 1 + uintBytes(f.r[0]) + uintBytes(f.r[1]);
  return n;
}
