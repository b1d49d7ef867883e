/**
 * The padding policy is applied to a frame's exact encoded length (send.ts paddingTarget):
 * encodedFrameBytes(f, 0) must be what encodeFrame writes, for every shape of frame.
 */
import { encodeFrame, encodedFrameBytes, type ControlItem, type Frame, type PayloadItem } from '../../src/wire/frame';

const unpaddedFrameBytes = (f: Frame): number => encodedFrameBytes(f, 0);

const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(7);

describe('encodedFrameBytes(f, 0): the exact length bucket padding starts from', () => {
  test('a 1 KiB datagram-mode message at today’s timestamps: 1055 bytes (v4’s fixmap: 1068), exactly what encodeFrame writes', () => {
    const f: Frame = { t: 1_800_000_000_000, n: 70_000, i: 0xdeadbeef, p: [{ flags: 0, data: bytes(1024) }], c: [] };
    expect(unpaddedFrameBytes(f)).toBe(1055);
    expect(encodeFrame(f, 0).length).toBe(1055);
  });

  test('equals the encoder\'s length for every shape of frame: items, fragments, controls, reliable base, value widths', () => {
    const items: PayloadItem[][] = [
      [],
      [{ flags: 0, data: bytes(0) }],
      [{ flags: 4, data: bytes(300), id: 70_000 }],
      [{ flags: 6, data: bytes(1345), id: 2 ** 33, index: 200, count: 70_000 }],
      Array.from({ length: 20 }, (_, k) => ({ flags: 0, data: bytes(k * 13) })),
    ];
    const controls: ControlItem[][] = [
      [],
      [{ type: 'keepalive' }],
      [{ type: 'packetAck', ack: bytes(17) }, { type: 'limits', maxMessageBytes: 1 << 20 }],
      [{ type: 'ack', stream: 0xffffffff, cum: 300, ranges: [302, 310, 70_000, 70_001] }],
      [{ type: 'packetAck', ack: bytes(300) }],
    ];
    let checked = 0;
    for (const p of items) {
      for (const c of controls) {
        for (const [t, n, i] of [[0, 0, 0], [127, 128, 255], [1_800_000_000_000, 2 ** 32, 2 ** 32 - 1], [2 ** 53 - 1, 65_535, 65_536]] as const) {
          for (const r of [undefined, [5, 0], [0xffffffff, 2 ** 40]] as const) {
            const f: Frame = { t, n, i, p, c, ...(r ? { r: [r[0], r[1]] as [number, number] } : {}) };
            expect([p.length, c.length, t, r, unpaddedFrameBytes(f)]).toEqual([p.length, c.length, t, r, encodeFrame(f, 0).length]);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(5 * 5 * 4 * 3);
  });

  test('padding a frame to a target at or above its unpadded length gives exactly the target (or ≤ 2 bytes short)', () => {
    const f: Frame = { t: 1_800_000_000_000, n: 9, i: 1, p: [{ flags: 0, data: bytes(1024) }], c: [] };
    const base = unpaddedFrameBytes(f);
    for (const target of [base, base + 1, base + 2, base + 3, base + 52, base + 300]) {
      const len = encodeFrame(f, target).length;
      expect(len <= Math.max(target, base) && len >= target - 2).toBe(true);
    }
  });
});
