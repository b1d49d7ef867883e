/**
 * The frame decoder's fast path (src/wire/frame-decode.ts) against the reference decoder
 * (msgpackr + validation): it takes every frame the encoder writes, and on any input it either
 * returns exactly what the reference returns or declines (null) — never accepts what the
 * reference refuses. Checked on generated frames of every item and control form and on
 * thousands of mutations of them (bit flips, byte changes, truncations, insertions).
 */
import { fastDecodeFrame } from '../../src/wire/frame-decode';
import { decodeFrameGeneric, encodeFrame, type ControlItem, type Frame, type PayloadItem } from '../../src/wire/frame';
import { pack } from '../../src/wire/msgpack';
import { SeededRandom } from '../../src/runtime/random';

const rnd = new SeededRandom(1212);
const int = (n: number): number => rnd.int(0, n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const uintOf = (): number => pick([0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, int(1000)]);
function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = int(2 ** 31);
  for (let k = 0; k < n; k++) b[k] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return b;
}

function item(): PayloadItem {
  const flags = pick([0, 1, 2, 3, 4, 5, 6, 7]);
  const data = bytes(pick([0, 1, 3, 255, 256, 1100]));
  const frag = (flags & 4) !== 0;
  const rel = (flags & 2) !== 0;
  if (!frag && !rel) return { flags, data };
  const id = Math.max(1, uintOf());
  if (!frag) return { flags, data, id };
  const count = pick([1, 2, 300, 2 ** 32 - 1]);
  return { flags, data, id, index: int(Math.min(count, 1000)), count };
}

function control(): ControlItem {
  switch (int(4)) {
    case 0:
      return { type: 'keepalive' };
    case 1: {
      const ranges: number[] = [];
      for (let k = int(5); k > 0; k--) {
        const a = pick([0, 1, 127, 128, 65535, 2 ** 32, 2 ** 53 - 20, int(1000)]);
        ranges.push(a, a + int(10));
      }
      return { type: 'ack', stream: uintOf(), cum: uintOf(), ranges };
    }
    case 2:
      return { type: 'limits', maxMessageBytes: Math.max(1, uintOf()) };
    default:
      return { type: 'packetAck', ack: bytes(1 + int(40)) };
  }
}

function frame(): Frame {
  const p = Array.from({ length: pick([0, 1, 2, 17]) }, item);
  const c: ControlItem[] = Array.from({ length: int(4) }, control).filter((x) => x.type !== 'packetAck');
  if (int(2) === 0) c.push({ type: 'packetAck', ack: bytes(1 + int(30)) });
  const f: Frame = { t: uintOf(), n: uintOf(), i: pick([0, 1, 0xffffffff, int(1 << 30)]), p, c };
  if (p.some((x) => (x.flags & 2) !== 0) || int(3) === 0) f.r = [uintOf(), uintOf()];
  return f;
}

/** A frame as one string (bytes in hex): jest's deep equality walks typed arrays element by element, far too slowly here. */
const norm = (f: Frame): string => JSON.stringify(f, (_k, v: unknown) => (v instanceof Uint8Array ? `bin:${Buffer.from(v).toString('hex')}` : v));

/** The two decoders agree: same frame, or fast declines; never fast accepting what the reference refuses. */
function agree(b: Uint8Array): 'fast' | 'declined' | 'refused' {
  let ref: Frame | Error;
  try {
    ref = decodeFrameGeneric(b);
  } catch (e) {
    ref = e as Error;
  }
  const fast = fastDecodeFrame(b);
  if (fast === null) return ref instanceof Error ? 'refused' : 'declined';
  expect(ref).not.toBeInstanceOf(Error);
  expect(norm(fast)).toBe(norm(ref as Frame));
  return 'fast';
}

describe('fast frame decoder', () => {
  test('every frame the encoder writes (all item and control forms, all integer widths, padded or not) is decoded by the fast path, equal to the reference', () => {
    for (let k = 0; k < 1000; k++) {
      const f = frame();
      const b = encodeFrame(f, pick([0, 0, 200, 1472, 4000]));
      expect(agree(b)).toBe('fast');
      expect(norm(fastDecodeFrame(b)!)).toBe(norm(f));
    }
  });

  test('msgpack of the same frame from msgpackr (its own integer and bin forms) is decoded equally or left to the reference', () => {
    const seen = new Set<string>();
    for (let k = 0; k < 500; k++) {
      const f = frame();
      const wire: unknown[] = [
        5,
        f.t,
        f.n,
        f.i,
        f.p.map((i) => (i.index !== undefined ? [i.flags, i.data, i.id, i.index, i.count] : i.id !== undefined ? [i.flags, i.data, i.id] : [i.flags, i.data])),
        f.c.map((c) => (c.type === 'keepalive' ? [0] : c.type === 'ack' ? [1, c.stream, c.cum, c.ranges] : c.type === 'packetAck' ? [2, c.ack] : [3, c.maxMessageBytes])),
        f.r ?? null,
        new Uint8Array(int(3)),
      ];
      seen.add(agree(new Uint8Array(pack(wire))));
    }
    expect(seen.has('fast')).toBe(true);
  });

  test('mutations: flipped bits, changed bytes, truncations, insertions — the fast path never accepts what the reference refuses, nor differs', () => {
    const count = { fast: 0, declined: 0, refused: 0 };
    for (let k = 0; k < 600; k++) {
      const b = encodeFrame(frame(), pick([0, 150]));
      for (let m = 0; m < 25; m++) {
        const x = Uint8Array.from(b);
        let input: Uint8Array = x;
        switch (int(4)) {
          case 0:
            x[int(x.length)]! ^= 1 << int(8);
            break;
          case 1:
            x[int(x.length)] = pick([0x00, 0x7f, 0x80, 0x90, 0x9f, 0xa1, 0xc0, 0xc1, 0xc2, 0xc4, 0xc5, 0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xdc, 0xde, 0xff, int(256)]);
            break;
          case 2:
            input = x.subarray(0, int(x.length));
            break;
          default: {
            const at = int(x.length + 1);
            input = Uint8Array.from([...x.subarray(0, at), int(256), ...x.subarray(at)]);
          }
        }
        count[agree(input)]++;
      }
    }
    expect(count.fast).toBeGreaterThan(1000); // many mutations hit only data bytes or padding: still valid
    expect(count.refused).toBeGreaterThan(5000);
  });

  test('bytes that are valid for the reference but unusual go to it: a float timestamp, an array32 header, a float version', () => {
    const float = new Uint8Array(pack([5, 5.5, 1, 2, [], [], null, new Uint8Array(0)]));
    expect(fastDecodeFrame(float)).toBeNull();
    expect(() => decodeFrameGeneric(float)).toThrow('invalid frame: timestamp');
    const plain = encodeFrame({ t: 5, n: 1, i: 2, p: [], c: [] });
    expect(plain[0]).toBe(0x98);
    const array32 = Uint8Array.from([0xdd, 0, 0, 0, 8, ...plain.subarray(1)]);
    expect(fastDecodeFrame(array32)).toBeNull();
    expect(decodeFrameGeneric(array32)).toEqual({ t: 5, n: 1, i: 2, p: [], c: [] });
    const floatVersion = Uint8Array.from([0x98, 0xcb, ...Buffer.from('4014000000000000', 'hex'), ...plain.subarray(2)]); // v = 5.0
    expect(fastDecodeFrame(floatVersion)).toBeNull();
    expect(decodeFrameGeneric(floatVersion).t).toBe(5);
  });

  test('another frame version (a v4 fixmap, a v6 array) goes to the reference, which refuses it as unknownVersion', () => {
    const v4 = new Uint8Array(Buffer.from('87a17604a17401a16e00a16900a17090a16390a167c400', 'hex'));
    const v6 = encodeFrame({ t: 5, n: 1, i: 2, p: [], c: [] });
    v6[1] = 6;
    for (const b of [v4, v6]) {
      expect(fastDecodeFrame(b)).toBeNull();
      expect(() => decodeFrameGeneric(b)).toThrow(expect.objectContaining({ reason: 'unknownVersion' }) as Error);
    }
  });
  test('items are views of the plaintext itself, at their exact offsets, also inside a larger buffer; no controls is one shared frozen list', () => {
    const data = bytes(1024);
    const enc = encodeFrame({ t: 1_800_000_000_000, n: 77, i: 5, p: [{ flags: 0, data }], c: [] }, 1200);
    const host = new Uint8Array(enc.length + 64).fill(0xaa);
    host.set(enc, 40);
    const view = host.subarray(40, 40 + enc.length); // as a received plaintext: a view into a slab
    const f = fastDecodeFrame(view)!;
    expect(f).not.toBeNull();
    const d = f.p[0]!.data;
    expect(d.buffer).toBe(host.buffer);
    expect(Buffer.from(d).equals(Buffer.from(data))).toBe(true);
    expect(d.byteOffset - 40).toBe(Buffer.from(enc).indexOf(Buffer.from(data)));
    expect(f.c).toEqual([]);
    expect(Object.isFrozen(f.c)).toBe(true);
    expect(fastDecodeFrame(view)!.c).toBe(f.c);
    expect(f).toEqual(decodeFrameGeneric(enc));
    // A frame with a control gets its own list.
    const g = fastDecodeFrame(encodeFrame({ t: 1, n: 2, i: 3, p: [], c: [{ type: 'keepalive' }] }))!;
    expect(g.c).toEqual([{ type: 'keepalive' }]);
    expect(Object.isFrozen(g.c)).toBe(false);
  });
});
