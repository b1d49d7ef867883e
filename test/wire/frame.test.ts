/** The msgpack frame inside every data datagram (docs/PROTOCOL.md §7): forms, padding, strict decoding. */
import { DropError } from '../../src/errors';
import { FRAME_VERSION } from '../../src/constants';
import {
  binHeaderBytes,
  CONTROL_ACK,
  CONTROL_KEEPALIVE,
  controlBytes,
  decodeFrame,
  encodeFrame,
  FLAG_COMPRESSED,
  FLAG_FRAGMENT,
  FLAG_RELIABLE,
  FRAME_FIXED_OVERHEAD_BYTES,
  FrameVersionError,
  itemOverheadBytes,
  MAX_ACK_RANGES,
  MAX_ITEMS_PER_FRAME,
  paddingLength,
  type ControlItem,
  type Frame,
  type PayloadItem,
} from '../../src/wire/frame';
import { pack, unpack } from '../../src/wire/msgpack';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Decoded frames hold Buffers (msgpack bin); compare as plain Uint8Arrays. */
function norm(f: Frame): Frame {
  const out: Frame = { t: f.t, n: f.n, i: f.i, p: f.p.map((i) => ({ ...i, data: new Uint8Array(i.data) })), c: f.c };
  if (f.r) out.r = f.r;
  return out;
}

/** What decodeFrame throws on `b` (undefined when it decodes). */
function thrownBy(b: Uint8Array): unknown {
  try {
    decodeFrame(b);
  } catch (e) {
    return e;
  }
  return undefined;
}

/** `what` null: any message (the reason must still be 'malformed'). */
function expectMalformed(b: Uint8Array, what: string | null): void {
  const caught = thrownBy(b);
  expect(caught).toBeInstanceOf(DropError);
  expect((caught as DropError).reason).toBe('malformed');
  if (what !== null) expect((caught as DropError).message).toBe(`invalid frame: ${what}`);
}

/** The frame's fields in their array positions (PROTOCOL.md §7.1). */
const FIELDS = ['v', 't', 'n', 'i', 'p', 'c', 'r', 'g'] as const;

/** A valid frame as it appears on the wire ([v, t, n, i, p, c, r, g]), with fields overridden by name; `r` is nil unless given. */
function wire(over: Partial<Record<(typeof FIELDS)[number], unknown>> = {}): Uint8Array {
  const o: Record<string, unknown> = { v: 5, t: 1_800_000_000_000, n: 0, i: 0, p: [], c: [], r: null, g: new Uint8Array(0), ...over };
  return new Uint8Array(pack(FIELDS.map((k) => o[k])));
}

/** The same valid frame without the field at `at` (a 7-element array). */
function wireWithout(field: (typeof FIELDS)[number]): Uint8Array {
  const o: Record<string, unknown> = { v: 5, t: 1_800_000_000_000, n: 0, i: 0, p: [], c: [], r: null, g: new Uint8Array(0) };
  return new Uint8Array(pack(FIELDS.filter((k) => k !== field).map((k) => o[k])));
}

describe('constants', () => {
  test('flags, control types and limits', () => {
    expect([FLAG_COMPRESSED, FLAG_RELIABLE, FLAG_FRAGMENT]).toEqual([1, 2, 4]);
    expect([CONTROL_KEEPALIVE, CONTROL_ACK]).toEqual([0, 1]);
    expect(MAX_ACK_RANGES).toBe(32);
    expect(MAX_ITEMS_PER_FRAME).toBe(4096);
    expect(FRAME_VERSION).toBe(5);
    // array 1, v 1, t 9, n 9, i 5, p and c array16 headers 3 + 3, r [u32, uint64] 15, g bin16 header 3
    expect(FRAME_FIXED_OVERHEAD_BYTES).toBe(49);
  });
});

describe('encodeFrame: exact bytes', () => {
  test('empty frame: fixarray [v, t, n, i, p, c, r = nil, g (bin8, empty)]: 10 bytes', () => {
    expect(hex(encodeFrame({ t: 1, n: 0, i: 0, p: [], c: [] }))).toBe('98' + '05' + '01' + '00' + '00' + '90' + '90' + 'c0' + 'c400');
  });

  test('packet number and instance: smallest uint forms; a packet ack is [2, bin]', () => {
    const ack = Uint8Array.of(0x05, 0x00, 0x00, 0x05);
    const f: Frame = { t: 1, n: 300, i: 0xdeadbeef, p: [], c: [{ type: 'packetAck', ack }] };
    expect(hex(encodeFrame(f))).toBe(
      '98' + '05' + '01' + 'cd012c' + 'cedeadbeef' + '90' + '91' + '9202c40405000005' + 'c0' + 'c400',
    );
    const back = decodeFrame(encodeFrame(f));
    expect([back.n, back.i]).toEqual([300, 0xdeadbeef]);
    expect(back.c.map((c) => (c.type === 'packetAck' ? [...c.ack] : c))).toEqual([[5, 0, 0, 5]]);
    expect(controlBytes(f.c[0]!)).toBeGreaterThanOrEqual(encodeFrame(f).length - encodeFrame({ ...f, c: [] }).length);
  });

  test('r ([stream, base]) goes between c and g; a timestamp ≥ 2^32 is a uint64', () => {
    const f: Frame = { t: 1_800_000_000_000, n: 0, i: 0, p: [{ flags: 2, data: bytes(0xaa), id: 1 }], c: [], r: [7, 1] };
    expect(hex(encodeFrame(f))).toBe(
      '98' + '05' + 'cf000001a3185c5000' + '00' + '00' + '91' + '93' + '02' + 'c401aa' + '01' + '90' + '920701' + 'c400',
    );
  });

  test('every payload item form and control item on the wire', () => {
    const d = bytes(1, 2);
    const f: Frame = {
      t: 5,
      n: 0,
      i: 0,
      p: [
        { flags: 0, data: d },
        { flags: FLAG_COMPRESSED, data: d },
        { flags: FLAG_RELIABLE, data: d, id: 9 },
        { flags: FLAG_FRAGMENT, data: d, id: 100, index: 1, count: 3 },
        { flags: FLAG_RELIABLE | FLAG_FRAGMENT | FLAG_COMPRESSED, data: d, id: 10, index: 0, count: 2 },
      ],
      c: [{ type: 'keepalive' }, { type: 'ack', stream: 7, cum: 3, ranges: [5, 6, 9, 9] }],
      r: [7, 9],
    };
    const o = unpack(encodeFrame(f)) as unknown[];
    expect(o.length).toBe(8);
    expect(o.slice(0, 4)).toEqual([5, 5, 0, 0]);
    const p = (o[4] as unknown[][]).map((it) => it.map((x) => (x instanceof Uint8Array ? [...x] : x)));
    expect(p).toEqual([
      [0, [1, 2]],
      [1, [1, 2]],
      [2, [1, 2], 9],
      [4, [1, 2], 100, 1, 3],
      [7, [1, 2], 10, 0, 2],
    ]);
    expect(o[5]).toEqual([[0], [1, 7, 3, [5, 6, 9, 9]]]);
    expect(o[6]).toEqual([7, 9]);
  });
});

describe('round trip', () => {
  const d = text('payload');
  const items: Array<[string, PayloadItem]> = [
    ['plain', { flags: 0, data: d }],
    ['compressed', { flags: FLAG_COMPRESSED, data: d }],
    ['empty data', { flags: 0, data: new Uint8Array(0) }],
    ['reliable', { flags: FLAG_RELIABLE, data: d, id: 1 }],
    ['reliable compressed', { flags: FLAG_RELIABLE | FLAG_COMPRESSED, data: d, id: Number.MAX_SAFE_INTEGER }],
    ['datagram fragment (id 0)', { flags: FLAG_FRAGMENT, data: d, id: 0, index: 0, count: 1 }],
    ['datagram fragment, last index', { flags: FLAG_FRAGMENT | FLAG_COMPRESSED, data: d, id: 2 ** 31, index: 0xfffffffe, count: 0xffffffff }],
    ['reliable fragment', { flags: FLAG_RELIABLE | FLAG_FRAGMENT, data: d, id: 77, index: 2, count: 3 }],
    ['reliable compressed fragment', { flags: 7, data: new Uint8Array(300).fill(9), id: 2 ** 40, index: 0, count: 2 }],
  ];

  test.each(items)('payload item: %s', (_name, item) => {
    const f: Frame = { t: 1_800_000_000_001, n: 0, i: 0, p: [item], c: [] };
    if (item.flags & FLAG_RELIABLE) f.r = [2 ** 53 - 1, 1]; // the largest stream epoch
    for (const target of [0, 99, 200, 1000]) expect(norm(decodeFrame(encodeFrame(f, target)))).toEqual(f);
  });

  const controls: Array<[string, ControlItem]> = [
    ['keepalive', { type: 'keepalive' }],
    ['ack without ranges', { type: 'ack', stream: 1, cum: 0, ranges: [] }],
    ['ack with ranges', { type: 'ack', stream: 0xffffffff, cum: 2 ** 40, ranges: [2 ** 40 + 2, 2 ** 40 + 2, 2 ** 40 + 4, 2 ** 40 + 9] }],
    ['limits', { type: 'limits', maxMessageBytes: 1024 * 1024 }],
    ['limits, largest', { type: 'limits', maxMessageBytes: 2 ** 53 - 1 }],
    ['ack with 32 ranges', { type: 'ack', stream: 5, cum: 10, ranges: Array.from({ length: 64 }, (_, k) => 12 + 2 * (k >> 1) * 2 + (k & 1)) }],
  ];

  test.each(controls)('control item: %s', (_name, c) => {
    const f: Frame = { t: 0, n: 0, i: 0, p: [], c: [c] };
    expect(decodeFrame(encodeFrame(f, 128))).toEqual(f);
  });

  test('a frame with everything', () => {
    const f: Frame = {
      t: 1_800_000_000_002,
      n: 0,
      i: 0,
      p: items.map(([, i]) => i),
      c: controls.map(([, c]) => c),
      r: [42, 1],
    };
    expect(norm(decodeFrame(encodeFrame(f, 1400)))).toEqual(f);
  });

  test('limits are inclusive: 4096 items, 16 controls', () => {
    const f: Frame = { t: 3, n: 0, i: 0, p: Array.from({ length: 4096 }, () => ({ flags: 0, data: new Uint8Array(0) })), c: Array.from({ length: 16 }, () => ({ type: 'keepalive' as const })) };
    const back = decodeFrame(encodeFrame(f));
    expect(back.p.length).toBe(4096);
    expect(back.c.length).toBe(16);
  });

  test('the decoded frame has no r when none was sent', () => {
    expect('r' in decodeFrame(encodeFrame({ t: 1, n: 0, i: 0, p: [{ flags: 0, data: d }], c: [] }))).toBe(false);
  });
});

describe('padding', () => {
  test('paddingLength edge cases', () => {
    // room = target − base; bin8 covers 0..255 (2-byte header), bin16 256..65535 (3), bin32 above (5).
    expect(paddingLength(100, 0)).toBe(0);
    expect(paddingLength(100, 100)).toBe(0); // room 0: the empty bin8 overshoots by 2
    expect(paddingLength(100, 101)).toBe(0); // room 1: overshoots by 1
    expect(paddingLength(100, 102)).toBe(0); // exact: empty bin8
    expect(paddingLength(100, 103)).toBe(1);
    expect(paddingLength(100, 100 + 2 + 255)).toBe(255); // largest bin8: exact
    expect(paddingLength(100, 100 + 2 + 256)).toBe(255); // 256 needs bin16 (259 bytes): one byte short
    expect(paddingLength(100, 100 + 3 + 256)).toBe(256); // smallest bin16: exact
    expect(paddingLength(100, 100 + 3 + 65535)).toBe(65535); // largest bin16: exact
    expect(paddingLength(100, 100 + 3 + 65536)).toBe(65535); // one short
    expect(paddingLength(100, 100 + 3 + 65537)).toBe(65535); // two short (bin32 needs 65541)
    expect(paddingLength(100, 100 + 5 + 65536)).toBe(65536); // smallest bin32: exact
    expect(paddingLength(0, 1_000_000)).toBe(1_000_000 - 5);
  });

  test('paddingLength never makes the g field overshoot a reachable target', () => {
    const short: Array<[number, number]> = [];
    for (let room = 2; room < 70_000; room++) {
      const n = paddingLength(1000, 1000 + room);
      const total = binHeaderBytes(n) + n;
      if (total !== room) short.push([room, room - total]);
    }
    // Unreachable sizes only: 257 + 1 (bin8 max 257, bin16 min 259), 65538 + 1 and + 2 (bin32 min 65541).
    expect(short).toEqual([
      [258, 1],
      [65539, 1],
      [65540, 2],
    ]);
  });

  const frames: Frame[] = [
    { t: 1, n: 0, i: 0, p: [], c: [] },
    { t: 1_800_000_000_000, n: 0, i: 0, p: [{ flags: 0, data: text('hello') }], c: [{ type: 'keepalive' }] },
    { t: 2 ** 52, n: 0, i: 0, p: [{ flags: 6, data: new Uint8Array(700), id: 3, index: 1, count: 2 }], c: [], r: [9, 2] },
  ];

  test.each(frames.map((f, i) => [i, f] as const))('frame %i: padded length is the target exactly, one short at 258, never above', (_i, f) => {
    const unpadded = encodeFrame(f).length; // with an empty g (2 bytes)
    const base = unpadded - 2;
    expect(encodeFrame(f, 0).length).toBe(unpadded);
    for (let target = 0; target <= unpadded + 600; target++) {
      const out = encodeFrame(f, target);
      const expected = target < unpadded ? unpadded : target - base === 258 ? target - 1 : target;
      expect(out.length).toBe(expected);
      const g = (unpack(out) as unknown[])[7] as Uint8Array;
      expect(g.length).toBe(expected - base - binHeaderBytes(g.length));
      expect(g.every((x) => x === 0)).toBe(true);
      if (target % 37 === 0) expect(norm(decodeFrame(out))).toEqual(f);
    }
    const big = [65536, 65538, 65539, 65540, 65541].map((room) => encodeFrame(f, base + room).length - base);
    expect(big).toEqual([65536, 65538, 65538, 65538, 65541]);
  });

  test('bucket targets: 99 → 128-byte datagram, 1443 → 1472', () => {
    const f: Frame = { t: 1_800_000_000_000, n: 0, i: 0, p: [{ flags: 0, data: text('x') }], c: [] };
    expect(encodeFrame(f, 99).length).toBe(99);
    expect(encodeFrame(f, 1443).length).toBe(1443);
  });

  test('the declared overheads bound the real encoding (send-path budget)', () => {
    const worstItems: PayloadItem[] = [
      { flags: 7, data: new Uint8Array(70_000), id: Number.MAX_SAFE_INTEGER, index: 0xfffffffe, count: 0xffffffff },
      { flags: 3, data: new Uint8Array(300), id: Number.MAX_SAFE_INTEGER },
      { flags: 1, data: new Uint8Array(255) },
      { flags: 0, data: new Uint8Array(0) },
    ];
    const worstControls: ControlItem[] = [
      { type: 'keepalive' },
      { type: 'ack', stream: 0xffffffff, cum: Number.MAX_SAFE_INTEGER, ranges: Array.from({ length: 64 }, () => Number.MAX_SAFE_INTEGER) },
    ];
    for (const it of worstItems) {
      const alone = encodeFrame({ t: 0, n: 0, i: 0, p: [it], c: [] }).length - encodeFrame({ t: 0, n: 0, i: 0, p: [], c: [] }).length;
      expect(alone).toBeLessThanOrEqual(itemOverheadBytes(it) + it.data.length);
    }
    for (const c of worstControls) {
      const alone = encodeFrame({ t: 0, n: 0, i: 0, p: [], c: [c] }).length - encodeFrame({ t: 0, n: 0, i: 0, p: [], c: [] }).length;
      expect(alone).toBeLessThanOrEqual(controlBytes(c));
    }
    const f: Frame = { t: Number.MAX_SAFE_INTEGER, n: Number.MAX_SAFE_INTEGER, i: 0xffffffff, p: worstItems, c: worstControls, r: [0xffffffff, Number.MAX_SAFE_INTEGER] };
    const content = worstItems.reduce((n, i) => n + itemOverheadBytes(i) + i.data.length, 0) + worstControls.reduce((n, c) => n + controlBytes(c), 0);
    expect(encodeFrame(f).length).toBeLessThanOrEqual(FRAME_FIXED_OVERHEAD_BYTES + content);
  });

  test('FRAME_FIXED_OVERHEAD_BYTES is exactly the header at its widest: array16 p and c, u32 stream, uint64 t, n and base, bin16 g', () => {
    const p: PayloadItem[] = Array.from({ length: 16 }, () => ({ flags: 0, data: new Uint8Array(0) }));
    const c: ControlItem[] = Array.from({ length: 16 }, () => ({ type: 'keepalive' as const }));
    const f: Frame = { t: Number.MAX_SAFE_INTEGER, n: Number.MAX_SAFE_INTEGER, i: 0xffffffff, p, c, r: [0xffffffff, Number.MAX_SAFE_INTEGER] };
    const content = p.reduce((n, i) => n + itemOverheadBytes(i) + i.data.length, 0) + c.reduce((n, x) => n + controlBytes(x), 0);
    const target = FRAME_FIXED_OVERHEAD_BYTES + content + 300; // 300 bytes of padding: a bin16 g
    expect(encodeFrame(f, target).length).toBe(target);
    expect((unpack(encodeFrame(f, target)) as unknown[])[7]).toHaveLength(300);
  });
});

describe('decodeFrame refuses (DropError malformed)', () => {
  const d = new Uint8Array([1]);

  test('the valid baseline decodes', () => {
    expect(decodeFrame(wire())).toEqual({ t: 1_800_000_000_000, n: 0, i: 0, p: [], c: [] });
  });

  test('not msgpack: truncated, trailing bytes, empty', () => {
    const ok = encodeFrame({ t: 1, n: 0, i: 0, p: [], c: [] });
    expectMalformed(ok.subarray(0, ok.length - 1), 'not msgpack');
    expectMalformed(Uint8Array.from([...ok, 0x00]), 'not msgpack');
    expectMalformed(new Uint8Array(0), 'not msgpack');
  });

  test('the never-used type byte 0xc1 (msgpackr decodes it to an object) is refused', () => {
    expectMalformed(bytes(0xc1), null);
  });

  test.each([
    ['map', bytes(0x80)],
    ['map with v 5', bytes(0x81, 0xa1, 0x76, 0x05)],
    ['bin', bytes(0xc4, 0x00)],
    ['nil', bytes(0xc0)],
    ['integer', bytes(0x03)],
    ['string', bytes(0xa1, 0x76)],
    ['true', bytes(0xc3)],
  ])('not an array: %s', (_n, b) => expectMalformed(b, 'not an array'));

  test.each([
    ['empty', bytes(0x90)],
    ['7 elements (r left out)', wireWithout('r')],
    ['9 elements', new Uint8Array(pack([5, 1, 0, 0, [], [], null, new Uint8Array(0), 0]))],
  ])('frame length: %s', (_n, b) => expectMalformed(b, 'frame length'));

  test.each(FIELDS.filter((k) => k !== 'r'))('a missing field (%s) is a frame of the wrong length', (k) => expectMalformed(wireWithout(k), 'frame length'));

  test.each([['5'], [null], [5.5], [-5], [2 ** 32]])('version %p (not an unsigned integer of 32 bits)', (v) => expectMalformed(wire({ v }), 'version'));

  test.each([[-1], [1.5], ['1'], [null], [2 ** 53], [[1]]])('timestamp %p', (t) => expectMalformed(wire({ t }), 'timestamp'));

  test.each([[-1], [1.5], ['1'], [null], [2 ** 53]])('packet number %p', (n) => expectMalformed(wire({ n }), 'packet number'));

  test.each([[-1], [2 ** 32], ['1'], [null]])('instance %p', (i) => expectMalformed(wire({ i }), 'instance'));

  test('two packet acks in one frame', () =>
    expectMalformed(wire({ c: [[2, new Uint8Array([0, 0, 0, 0])], [2, new Uint8Array([0, 0, 0, 0])]] }), 'more than one packet ack'));

  test.each([
    ['not bin', [2, 'x']],
    ['empty', [2, new Uint8Array(0)]],
    ['longer than 600 bytes', [2, new Uint8Array(601)]],
    ['extra field', [2, new Uint8Array(4), 1]],
  ])('packet ack %s', (_n, c) => expectMalformed(wire({ c: [c] }), null));

  test.each([['x'], [null], [0], [[]]])('padding %p', (g) => expectMalformed(wire({ g }), 'padding'));

  test('payload channel: missing, not an array, more than 4096 items', () => {
    expectMalformed(wire({ p: null }), 'payload channel');
    expectMalformed(wire({ p: {} }), 'payload channel');
    expectMalformed(wire({ p: d }), 'payload channel');
    expectMalformed(wire({ p: Array.from({ length: 4097 }, () => [0, new Uint8Array(0)]) }), 'payload channel');
  });

  test('control channel: missing, not an array, more than 16 items', () => {
    expectMalformed(wire({ c: null }), 'control channel');
    expectMalformed(wire({ c: 0 }), 'control channel');
    expectMalformed(wire({ c: Array.from({ length: 17 }, () => [0]) }), 'control channel');
  });

  test('payload item not an array', () => {
    expectMalformed(wire({ p: [5] }), 'payload item is not an array');
    expectMalformed(wire({ p: [d] }), 'payload item is not an array');
  });

  test.each([[8], [-1], [1.5], ['0'], [null], [255]])('payload flags %p', (flags) => expectMalformed(wire({ p: [[flags, d]] }), 'payload flags'));

  test('payload data not bin', () => {
    expectMalformed(wire({ p: [[0, 'hi']] }), 'payload data is not bin');
    expectMalformed(wire({ p: [[0]] }), 'payload data is not bin');
    expectMalformed(wire({ p: [[0, [1, 2]]] }), 'payload data is not bin');
    expectMalformed(wire({ p: [[4, 7, d, 0, 1]] }), 'payload data is not bin');
  });

  test.each([
    ['plain with a seq', [0, d, 1]],
    ['compressed with a seq', [1, d, 1]],
    ['plain with fragment fields', [0, d, 1, 0, 1]],
    ['reliable without seq', [2, d]],
    ['reliable with fragment fields but no FRAGMENT flag', [2, d, 1, 0, 1]],
    ['fragment without count', [4, d, 1, 0]],
    ['fragment without index and count', [4, d, 1]],
    ['fragment with an extra field', [4, d, 1, 0, 1, 9]],
    ['reliable fragment without count', [6, d, 1, 0]],
  ])('payload item length: %s', (_n, item) => expectMalformed(wire({ p: [item], r: [1, 1] }), 'payload item length'));

  test.each([
    ['reliable seq 0', [2, d, 0]],
    ['reliable seq negative', [2, d, -1]],
    ['reliable seq fractional', [2, d, 1.5]],
    ['reliable seq string', [2, d, '1']],
    ['reliable seq above 2^53', [2, d, 2 ** 53]],
    ['reliable fragment seq 0', [6, d, 0, 0, 1]],
    ['fragment id negative', [4, d, -1, 0, 1]],
    ['fragment id nil', [4, d, null, 0, 1]],
  ])('payload id: %s', (_n, item) => expectMalformed(wire({ p: [item], r: [1, 1] }), 'payload id'));

  test.each([
    ['index = count', [4, d, 7, 2, 2]],
    ['index > count', [4, d, 7, 3, 2]],
    ['count 0', [4, d, 7, 0, 0]],
    ['count above 2^32 − 1', [4, d, 7, 0, 2 ** 32]],
    ['index negative', [4, d, 7, -1, 2]],
    ['index fractional', [4, d, 7, 0.5, 2]],
    ['reliable fragment index = count', [6, d, 7, 1, 1]],
  ])('fragment index/count: %s', (_n, item) => expectMalformed(wire({ p: [item], r: [1, 1] }), 'fragment index/count'));

  test('a reliable item without r', () => {
    expectMalformed(wire({ p: [[2, d, 1]] }), 'reliable item without stream');
    expectMalformed(wire({ p: [[0, d], [6, d, 1, 0, 2]] }), 'reliable item without stream');
  });

  test.each([[[1]], [[1, 2, 3]], [[2 ** 53, 1]], [[1, -1]], [[-1, 1]], [[1.5, 1]], ['x'], [false], [0], [[1, 2 ** 53]]])('reliable stream r = %p', (r) =>
    expectMalformed(wire({ r }), 'reliable stream'),
  );

  test.each([
    ['empty array', []],
    ['not an array', 5],
    ['bin', d],
  ])('control item: %s', (_n, c) => expectMalformed(wire({ c: [c] }), 'control item'));

  test.each([
    ['unknown type 2', [2]],
    ['keepalive with a field', [0, 1]],
    ['ack with 3 fields', [1, 1, 1]],
    ['ack with 5 fields', [1, 1, 1, [], 0]],
    ['string type', ['0']],
  ])('unknown control item: %s', (_n, c) => expectMalformed(wire({ c: [c] }), 'unknown control item'));

  test.each([
    ['stream epoch above 2^53 − 1', [1, 2 ** 53, 0, []]],
    ['stream negative', [1, -1, 0, []]],
    ['cum negative', [1, 1, -1, []]],
    ['cum fractional', [1, 1, 0.5, []]],
    ['cum nil', [1, 1, null, []]],
  ])('ack fields: %s', (_n, c) => expectMalformed(wire({ c: [c] }), 'ack fields'));

  test.each([
    ['of 0', [3, 0], 'limits'],
    ['fractional', [3, 1.5], 'limits'],
    ['above 2^53 − 1', [3, 2 ** 53], 'limits'],
    ['without a value', [3], 'unknown control item'],
    ['with an extra field', [3, 1, 2], 'unknown control item'],
  ])('limits control item %s', (_n, c, why) => expectMalformed(wire({ c: [c] }), why as string));

  test.each([
    ['odd length', [1, 1, 0, [1]]],
    ['odd length 3', [1, 1, 0, [1, 2, 3]]],
    ['not an array', [1, 1, 0, 'x']],
    ['33 ranges', [1, 1, 0, Array.from({ length: 66 }, (_, k) => k + 2)]],
  ])('ack ranges: %s', (_n, c) => expectMalformed(wire({ c: [c] }), 'ack ranges'));

  test.each([
    ['end < start', [1, 1, 0, [5, 4]]],
    ['non-integer start', [1, 1, 0, ['a', 4]]],
    ['negative end', [1, 1, 0, [0, -1]]],
    ['second range bad', [1, 1, 0, [2, 3, 9, 8]]],
  ])('ack range: %s', (_n, c) => expectMalformed(wire({ c: [c] }), 'ack range'));

  test('a valid ack with exactly 32 ranges is accepted', () => {
    const ranges = Array.from({ length: 64 }, (_, k) => k + 2);
    expect(decodeFrame(wire({ c: [[1, 1, 0, ranges]] })).c).toEqual([{ type: 'ack', stream: 1, cum: 0, ranges }]);
  });
});

describe('a frame of another version is an unknownVersion drop (FrameVersionError), not malformed', () => {
  /** v4's empty frame (fixmap, one-letter keys): what a node before this change sends. */
  const V4_EMPTY = '87a17604a17401a16e00a16900a17090a16390a167c400';

  function versionError(b: Uint8Array): FrameVersionError {
    const caught = thrownBy(b);
    expect(caught).toBeInstanceOf(FrameVersionError);
    return caught as FrameVersionError;
  }

  test('a v4 fixmap frame: reason unknownVersion, version 4, a message naming both versions', () => {
    const e = versionError(new Uint8Array(Buffer.from(V4_EMPTY, 'hex')));
    expect([e.reason, e.version, e.message]).toEqual(['unknownVersion', 4, 'frame version 4; this node speaks 5']);
    expect(e).toBeInstanceOf(DropError);
  });

  test('a v4 frame with items and a reliable stream, and a v3 map', () => {
    const v4 = pack({ v: 4, t: 1_800_000_000_000, n: 7, i: 9, p: [[2, Uint8Array.of(1), 1]], c: [[0]], r: [1, 1], g: new Uint8Array(40) });
    expect(versionError(new Uint8Array(v4)).version).toBe(4);
    expect(versionError(new Uint8Array(pack({ v: 3, t: 1, p: [], c: [], g: new Uint8Array(0) }))).version).toBe(3);
  });

  test('an array frame of another version (a later format): its first element is the version', () => {
    expect(versionError(wire({ v: 6 })).version).toBe(6);
    expect(versionError(wire({ v: 4 })).version).toBe(4);
    expect(versionError(new Uint8Array(pack([7]))).version).toBe(7); // whatever follows
  });

  test('not a version: a non-integer v stays malformed', () => {
    expectMalformed(new Uint8Array(pack({ v: 'x', t: 1 })), 'not an array');
    expectMalformed(new Uint8Array(pack({ t: 1 })), 'not an array');
  });
});
