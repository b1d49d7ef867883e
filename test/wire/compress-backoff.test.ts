/** No zstd attempts on incompressible streams (issue 12): the per-peer backoff of src/wire/compress-backoff.ts. */
import { BACKOFF_MAX_SKIP, CompressionBackoff } from '../../src/wire/compress-backoff';

/** Which of `n` messages get an attempt, every attempt failing. */
function attemptsAllFailing(b: CompressionBackoff, n: number): number[] {
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!b.shouldTry()) continue;
    at.push(i);
    b.record(false);
  }
  return at;
}

describe('CompressionBackoff', () => {
  test('tries every message while compression pays', () => {
    const b = new CompressionBackoff();
    for (let i = 0; i < 100; i++) {
      expect(b.shouldTry()).toBe(true);
      b.record(true);
    }
    expect(b.skipping).toBe(0);
  });

  test('each failure in a row doubles the messages sent without an attempt: 16, 32, … 1024, then stays at 1024', () => {
    const b = new CompressionBackoff();
    const at = attemptsAllFailing(b, 10_000);
    // gaps between attempts: 17 = 16 skipped + the attempt, 33, 65, … 1025, 1025, …
    const gaps = at.slice(1).map((x, i) => x - at[i]!);
    expect(at[0]).toBe(0);
    expect(gaps.slice(0, 8)).toEqual([17, 33, 65, 129, 257, 513, 1025, 1025]);
    expect(new Set(gaps.slice(6))).toEqual(new Set([BACKOFF_MAX_SKIP + 1]));
    expect(at).toHaveLength(15); // 1 in 667 messages of 10,000 incompressible ones (the old fixed skip of 16: 589)
  });

  test('a success resets the backoff: the next failure skips 16 again', () => {
    const b = new CompressionBackoff();
    attemptsAllFailing(b, 3000);
    while (!b.shouldTry());
    b.record(true);
    expect(b.shouldTry()).toBe(true);
    b.record(false);
    expect(b.skipping).toBe(16);
  });
});
