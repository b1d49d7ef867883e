/**
 * The receive path's wall clock from its monotonic read (src/engine/native/wall-clock.ts, issue
 * 12): the wall clock is read again only once the monotonic clock moved ≥ 1 ms (or back); any
 * clock but the system clock is read every time (a ManualClock's wall clock steps on its own).
 */
import { WallFromMonotonic, wallAt, WALL_REREAD_MS } from '../../../src/engine/native/wall-clock';
import { ManualClock, systemClock } from '../../../src/runtime/clock';

describe('WallFromMonotonic', () => {
  test('reads the wall clock on first use, again only after ≥ 1 ms of monotonic time or when it went back', () => {
    let wall = 5_000;
    let reads = 0;
    const w = new WallFromMonotonic(() => (reads++, wall));
    expect(WALL_REREAD_MS).toBe(1);
    expect(w.at(100)).toBe(5_000);
    expect(reads).toBe(1);
    wall = 5_001;
    expect(w.at(100.4)).toBe(5_000); // within 1 ms: the last reading
    expect(w.at(100.999)).toBe(5_000);
    expect(reads).toBe(1);
    expect(w.at(101)).toBe(5_001); // 1 ms later: read again
    expect(reads).toBe(2);
    wall = 9_999_999; // a wall-clock step shows at the next read
    expect(w.at(101.5)).toBe(5_001);
    expect(w.at(102.2)).toBe(9_999_999);
    expect(reads).toBe(3);
    wall = 42;
    expect(w.at(50)).toBe(42); // monotonic time behind the last read (another clock's times): read
    expect(reads).toBe(4);
  });
});

describe('wallAt', () => {
  test('a ManualClock is read each time, so a stepped wall clock shows at once', () => {
    const c = new ManualClock(1_000_000, 10);
    expect(wallAt(c, 10)).toBe(1_000_000);
    c.setWall(2_000_000);
    expect(wallAt(c, 10)).toBe(2_000_000);
  });

  test('the system clock: within a millisecond or so of Date.now()', () => {
    const before = Date.now();
    const got = wallAt(systemClock, performance.now());
    const after = Date.now();
    expect(got).toBeGreaterThanOrEqual(before - WALL_REREAD_MS - 1);
    expect(got).toBeLessThanOrEqual(after);
  });
});
