import { BUCKET_STEPS_PER_DOUBLING, FINE_BUCKETS_FROM_BYTES, paddedSize, paddingBuckets, SMALLEST_BUCKET_BYTES } from '../../src/wire/padding';
import type { PaddingPolicy } from '../../src/config/schema';

describe('paddedSize', () => {
  test('bucket sizes double from 128 to 1024, then go in 32 steps per doubling, and end at the maximum datagram', () => {
    expect(SMALLEST_BUCKET_BYTES).toBe(128);
    expect(FINE_BUCKETS_FROM_BYTES).toBe(1024);
    expect(BUCKET_STEPS_PER_DOUBLING).toBe(32);
    expect(paddingBuckets(1472)).toEqual([128, 256, 512, 1024, 1056, 1088, 1120, 1152, 1184, 1216, 1248, 1280, 1312, 1344, 1376, 1408, 1440, 1472]);
    expect(paddingBuckets(1452)).toEqual([128, 256, 512, 1024, 1056, 1088, 1120, 1152, 1184, 1216, 1248, 1280, 1312, 1344, 1376, 1408, 1440, 1452]);
    expect(paddingBuckets(1024)).toEqual([128, 256, 512, 1024]);
    expect(paddingBuckets(1200)).toEqual([128, 256, 512, 1024, 1056, 1088, 1120, 1152, 1184, 1200]);
    const jumbo = paddingBuckets(8972);
    // 128, 256, 512; 32 sizes in each of [1024, 2048), [2048, 4096), [4096, 8192); 8192 + 256·k below 8972; the maximum
    expect(jumbo).toHaveLength(3 + 32 + 32 + 32 + 4 + 1);
    expect(jumbo.slice(0, 6)).toEqual([128, 256, 512, 1024, 1056, 1088]);
    expect(jumbo.slice(35, 39)).toEqual([2048, 2112, 2176, 2240]);
    expect(jumbo.slice(67, 71)).toEqual([4096, 4224, 4352, 4480]);
    expect(jumbo.slice(-5)).toEqual([8192, 8448, 8704, 8960, 8972]);
  });

  test('above 1024 bytes, bucket padding adds less than 1/32 of the length (a 1 KiB message pays ≤ 3.1%)', () => {
    for (const max of [1452, 1472, 8972, 65507]) {
      for (let len = FINE_BUCKETS_FROM_BYTES + 1; len <= max; len++) {
        const padded = paddedSize(len, max, 'bucket');
        if (padded < len || (padded - len) * 32 >= len) throw new Error(`len ${len} max ${max} → ${padded}`);
      }
    }
  });

  test.each([
    [1000, 8972, 1024],
    [1025, 8972, 1056],
    [1097, 8972, 1120], // a 1 KiB datagram-mode message in a v4 frame: 29 B seal + 39 B frame + 5 B item + 1024 B
    [1084, 8972, 1088], // the same in a v5 frame (16 B of keys fewer, 1 B of nil r more)
    [1116, 1472, 1120],
    [2049, 8972, 2112],
    [3000, 8972, 3008],
    [4097, 8972, 4224],
    [8193, 8972, 8448],
    [8961, 8972, 8972],
    [9000 - 28, 8972, 8972],
    [20000, 65507, 20480],
    [40000, 65507, 40960],
    [65500, 65507, 65507],
  ])("'bucket' grows with the MTU: len %i, max %i → %i", (len, max, expected) => {
    expect(paddedSize(len, max, 'bucket')).toBe(expected);
  });

  test('above the smallest bucket, bucket padding never doubles a datagram (every length, three MTUs)', () => {
    for (const max of [1452, 1472, 8972, 65507]) {
      for (let len = SMALLEST_BUCKET_BYTES + 1; len <= max; len++) {
        const padded = paddedSize(len, max, 'bucket');
        expect(padded >= len && padded < 2 * len).toBe(true);
      }
    }
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
    [1025, 1056],
    [1056, 1056],
    [1057, 1088],
    [1448, 1472],
    [1440, 1440],
    [1441, 1472],
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
    [1025, 65507, 1056],
    [2000, 65507, 2016],
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
