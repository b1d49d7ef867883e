import { paddedSize, PADDING_BUCKETS_BYTES } from '../../src/wire/padding';
import type { PaddingPolicy } from '../../src/settings';

describe('paddedSize', () => {
  test('bucket sizes are 128, 256, 512, 1024', () => {
    expect(PADDING_BUCKETS_BYTES).toEqual([128, 256, 512, 1024]);
    expect(Object.isFrozen(PADDING_BUCKETS_BYTES)).toBe(true);
  });

  test.each([0, 1, 100, 1471, 1472])("'none' keeps the length (%i)", (len) => {
    expect(paddedSize(len, 1472, 'none')).toBe(len);
  });

  test.each([0, 1, 128, 1024, 1471, 1472])("'mtu' pads to the maximum (%i)", (len) => {
    expect(paddedSize(len, 1472, 'mtu')).toBe(1472);
    expect(paddedSize(Math.min(len, 1452), 1452, 'mtu')).toBe(1452);
  });

  test.each([
    [0, 128],
    [1, 128],
    [127, 128],
    [128, 128],
    [129, 256],
    [255, 256],
    [256, 256],
    [257, 512],
    [511, 512],
    [512, 512],
    [513, 1024],
    [1023, 1024],
    [1024, 1024],
    [1025, 1472],
    [1471, 1472],
    [1472, 1472],
  ])("'bucket' with max 1472: %i → %i", (len, expected) => {
    expect(paddedSize(len, 1472, 'bucket')).toBe(expected);
  });

  test.each([
    // max below some buckets: never above max
    [0, 100, 100],
    [100, 100, 100],
    [100, 200, 128],
    [129, 200, 200],
    [200, 200, 200],
    [300, 512, 512],
    [513, 600, 600],
    [1024, 1024, 1024],
    [1000, 1024, 1024],
    [1025, 1025, 1025],
    [0, 0, 0],
    // large max (loopback-sized): buckets, then the max
    [1025, 65507, 65507],
    [2000, 65507, 65507],
    [50, 65507, 128],
  ])("'bucket': len %i, max %i → %i", (len, max, expected) => {
    expect(paddedSize(len, max, 'bucket')).toBe(expected);
  });

  test.each(['none', 'mtu', 'bucket'] as PaddingPolicy[])("'%s': length above the maximum throws RangeError", (policy) => {
    expect(() => paddedSize(1473, 1472, policy)).toThrow(RangeError);
    expect(() => paddedSize(1, 0, policy)).toThrow(RangeError);
  });

  test.each([
    [-1, 100],
    [1.5, 100],
    [NaN, 100],
    [1, -1],
    [1, Infinity],
    [1, 100.5],
  ])('invalid arguments len %p max %p throw RangeError', (len, max) => {
    expect(() => paddedSize(len, max, 'bucket')).toThrow(RangeError);
  });

  test('an unknown policy throws RangeError', () => {
    expect(() => paddedSize(1, 100, 'random' as PaddingPolicy)).toThrow(RangeError);
  });

  test('result is always ≥ len and ≤ max, for every policy and every len', () => {
    for (const max of [64, 200, 576, 1452, 1472]) {
      for (const policy of ['none', 'mtu', 'bucket'] as PaddingPolicy[]) {
        for (let len = 0; len <= max; len++) {
          const size = paddedSize(len, max, policy);
          if (size < len || size > max) throw new Error(`${policy} len ${len} max ${max} → ${size}`);
        }
      }
    }
  });
});
