import { ManualClock, systemClock } from '../../src/runtime/clock';

describe('ManualClock', () => {
  test('starts at the given wall and monotonic times (defaults: 1.8e12 and 0)', () => {
    const d = new ManualClock();
    expect([d.now(), d.monotonic()]).toEqual([1_800_000_000_000, 0]);
    const c = new ManualClock(5000, 7);
    expect([c.now(), c.monotonic()]).toEqual([5000, 7]);
  });

  test('advance moves both clocks by exactly ms; 0 is allowed', () => {
    const c = new ManualClock(1000, 0);
    c.advance(250);
    c.advance(0);
    c.advance(0.5);
    expect([c.now(), c.monotonic()]).toEqual([1250.5, 250.5]);
  });

  test('advance refuses negative and NaN without moving', () => {
    const c = new ManualClock(1000, 10);
    expect(() => c.advance(-1)).toThrow(new RangeError('ManualClock.advance: ms must be >= 0, got -1'));
    expect(() => c.advance(Number.NaN)).toThrow(RangeError);
    expect([c.now(), c.monotonic()]).toEqual([1000, 10]);
  });

  test('setWall steps the wall clock either way, monotonic time is untouched; advance then moves both from there', () => {
    const c = new ManualClock(100_000, 40);
    c.setWall(10_000);
    expect([c.now(), c.monotonic()]).toEqual([10_000, 40]);
    c.setWall(190_000);
    c.advance(10);
    expect([c.now(), c.monotonic()]).toEqual([190_010, 50]);
  });
});

describe('systemClock', () => {
  test('wall time is the epoch time; monotonic time never goes back', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
    const m1 = systemClock.monotonic();
    const m2 = systemClock.monotonic();
    expect(m2).toBeGreaterThanOrEqual(m1);
  });
});
