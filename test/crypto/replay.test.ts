import { ReplayWindow, MAX_REPLAY_WINDOW_PACKETS, MAX_MISSING } from '../../src/crypto/replay';
import { REPLAY_WINDOW_PACKETS } from '../../src/constants';

/** accept() and a wouldAccept() taken just before it must always agree. */
function acceptChecked(w: ReplayWindow, counter: number): boolean {
  const predicted = w.wouldAccept(counter);
  const accepted = w.accept(counter);
  expect(accepted).toBe(predicted);
  return accepted;
}

describe('ReplayWindow', () => {
  test('defaults to REPLAY_WINDOW_PACKETS (2048)', () => {
    const w = new ReplayWindow();
    expect(REPLAY_WINDOW_PACKETS).toBe(2048);
    expect(w.windowPackets).toBe(2048);
    expect(w.highestCounter).toBe(-1);
  });

  test('counter 0 is accepted exactly once', () => {
    const w = new ReplayWindow();
    expect(w.wouldAccept(0)).toBe(true);
    expect(w.accept(0)).toBe(true);
    expect(w.highestCounter).toBe(0);
    expect(w.wouldAccept(0)).toBe(false);
    expect(w.accept(0)).toBe(false);
  });

  test('in-order counters are each accepted once', () => {
    const w = new ReplayWindow();
    for (let c = 0; c < 10_000; c++) expect(acceptChecked(w, c)).toBe(true);
    expect(w.highestCounter).toBe(9_999);
    for (let c = 9_999 - 2047; c < 10_000; c++) expect(acceptChecked(w, c)).toBe(false);
  });

  test('wouldAccept does not modify the window', () => {
    const w = new ReplayWindow();
    expect(w.wouldAccept(5)).toBe(true);
    expect(w.wouldAccept(5)).toBe(true);
    expect(w.highestCounter).toBe(-1);
    expect(w.accept(5)).toBe(true);
    expect(w.wouldAccept(100_000)).toBe(true);
    expect(w.highestCounter).toBe(5);
    expect(w.accept(4)).toBe(true); // 100_000 was only checked, so 4 is still inside the window
  });

  test('reordering within the window: every counter accepted exactly once', () => {
    const w = new ReplayWindow();
    // Deterministic shuffle of 0..4095 in groups of 1024, then everything replayed.
    const order: number[] = [];
    for (let g = 0; g < 4; g++) {
      const group = Array.from({ length: 1024 }, (_, i) => g * 1024 + i);
      let seed = 12345 + g;
      for (let i = group.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const j = seed % (i + 1);
        [group[i], group[j]] = [group[j]!, group[i]!];
      }
      order.push(...group);
    }
    for (const c of order) expect(acceptChecked(w, c)).toBe(true);
    for (const c of order) expect(acceptChecked(w, c)).toBe(false);
    expect(w.highestCounter).toBe(4095);
  });

  test('a late packet inside the window is accepted once, then refused', () => {
    const w = new ReplayWindow();
    expect(w.accept(0)).toBe(true);
    expect(w.accept(2)).toBe(true);
    expect(w.accept(1)).toBe(true);
    expect(w.accept(1)).toBe(false);
    expect(w.accept(2)).toBe(false);
    expect(w.accept(3)).toBe(true);
  });

  test.each([
    [2048, 10_000],
    [2048, 2048],
    [2048, 2047],
    [2048, 2049],
    [100, 5_000],
    [1, 7],
    [32, 64],
    [33, 1_000],
  ])('boundary: window %i, highest %i — size−1 behind accepted, size and size+1 refused', (size, highest) => {
    const w = new ReplayWindow(size);
    expect(w.accept(highest)).toBe(true);
    const atSize = highest - size;
    const sizeMinus1 = highest - (size - 1);
    const sizePlus1 = highest - (size + 1);
    if (sizePlus1 >= 0) expect(acceptChecked(w, sizePlus1)).toBe(false);
    if (atSize >= 0) expect(acceptChecked(w, atSize)).toBe(false);
    expect(acceptChecked(w, sizeMinus1)).toBe(size === 1 ? false : true); // size 1: sizeMinus1 is highest itself
    expect(acceptChecked(w, sizeMinus1)).toBe(false);
    // The refused ones stay refused; nothing else moved.
    if (atSize >= 0) expect(w.wouldAccept(atSize)).toBe(false);
    expect(w.highestCounter).toBe(highest);
  });

  test('every offset behind the highest: accepted iff offset < window', () => {
    const size = 2048;
    const highest = 1_000_003;
    const w = new ReplayWindow(size);
    w.accept(highest);
    for (let behind = 1; behind <= size + 64; behind++) {
      expect(w.wouldAccept(highest - behind)).toBe(behind < size);
    }
  });

  test('a jump forward by more than the window clears old marks', () => {
    const w = new ReplayWindow();
    for (let c = 0; c < 3000; c++) w.accept(c);
    const jump = 2999 + 2048 + 1000; // the whole ring slides out
    expect(acceptChecked(w, jump)).toBe(true);
    // Counters 2999-… are now more than a window behind.
    expect(w.wouldAccept(2999)).toBe(false);
    // Everything in the new window except `jump` is fresh: no stale bits survived the wrap.
    for (let c = jump - 2047; c < jump; c++) expect(w.wouldAccept(c)).toBe(true);
    expect(w.wouldAccept(jump)).toBe(false);
  });

  test('a jump forward by less than the window keeps marks still inside it', () => {
    const w = new ReplayWindow();
    for (let c = 0; c < 3000; c++) w.accept(c);
    expect(w.accept(3000 + 1000)).toBe(true); // highest 4000, window 1953..4000
    for (let c = 1953; c < 3000; c++) expect(w.wouldAccept(c)).toBe(false); // seen
    expect(w.wouldAccept(1952)).toBe(false); // outside
    for (let c = 3000; c < 4000; c++) expect(w.wouldAccept(c)).toBe(true); // skipped, fresh
  });

  test('jumps by exactly the ring size in blocks reuse the same ring slots correctly', () => {
    const w = new ReplayWindow(2048); // 65 blocks of 32
    w.accept(0);
    w.accept(65 * 32); // same ring slot as counter 0
    expect(w.wouldAccept(65 * 32)).toBe(false);
    expect(w.wouldAccept(65 * 32 - 1)).toBe(true);
    expect(w.wouldAccept(65 * 32 - 2047)).toBe(true);
    expect(w.wouldAccept(65 * 32 - 2048)).toBe(false);
  });

  test('counters beyond 2^32 and up to 2^53 − 1', () => {
    const w = new ReplayWindow();
    expect(w.accept(5)).toBe(true);
    const big = 2 ** 32 + 17;
    expect(acceptChecked(w, big)).toBe(true);
    expect(acceptChecked(w, big)).toBe(false);
    expect(acceptChecked(w, 2 ** 32 + 16)).toBe(true);
    expect(acceptChecked(w, 17)).toBe(false); // same low 32 bits as `big`, but far behind
    expect(acceptChecked(w, 5)).toBe(false);
    expect(acceptChecked(w, big - 2047)).toBe(true);
    expect(acceptChecked(w, big - 2048)).toBe(false);

    const max = Number.MAX_SAFE_INTEGER;
    expect(acceptChecked(w, max - 1)).toBe(true);
    expect(acceptChecked(w, max)).toBe(true);
    expect(acceptChecked(w, max)).toBe(false);
    expect(acceptChecked(w, max - 1)).toBe(false);
    expect(acceptChecked(w, max - 2)).toBe(true);
    expect(acceptChecked(w, max - 2047)).toBe(true);
    expect(acceptChecked(w, max - 2048)).toBe(false);
    expect(w.highestCounter).toBe(max);
  });

  test('bit 31 of a block (sign bit) works', () => {
    const w = new ReplayWindow();
    expect(w.accept(31)).toBe(true);
    expect(w.accept(31)).toBe(false);
    expect(w.accept(63)).toBe(true);
    expect(w.accept(30)).toBe(true);
    expect(w.accept(2 ** 40 + 31)).toBe(true);
    expect(w.accept(2 ** 40 + 31)).toBe(false);
    expect(w.accept(2 ** 40 + 30)).toBe(true);
  });

  test.each([-1, 1.5, NaN, Infinity, 2 ** 53, 2 ** 60])('invalid counter %p is refused and changes nothing', (c) => {
    const w = new ReplayWindow();
    w.accept(10);
    expect(w.wouldAccept(c)).toBe(false);
    expect(w.accept(c)).toBe(false);
    expect(w.highestCounter).toBe(10);
    expect(w.accept(9)).toBe(true);
  });

  test('reset forgets everything', () => {
    const w = new ReplayWindow();
    w.accept(0);
    w.accept(100_000);
    w.reset();
    expect(w.highestCounter).toBe(-1);
    expect(w.accept(0)).toBe(true);
    expect(w.accept(1)).toBe(true);
  });

  test.each([0, -5, 1.5, NaN, MAX_REPLAY_WINDOW_PACKETS + 1])('window size %p is refused', (size) => {
    expect(() => new ReplayWindow(size)).toThrow(RangeError);
  });

  test('randomized against a reference model (Set of seen counters)', () => {
    const size = 96;
    const w = new ReplayWindow(size);
    const seen = new Set<number>();
    let highest = -1;
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let base = 0;
    let accepted = 0;
    const mismatches: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const r = rand(100);
      if (r < 2) base += rand(500); // occasional jumps, sometimes beyond the window
      const c = Math.max(0, base + rand(200) - 150);
      const expected = !seen.has(c) && (highest < 0 || c > highest || highest - c < size);
      if (w.wouldAccept(c) !== expected || w.accept(c) !== expected) mismatches.push(c);
      if (expected) {
        seen.add(c);
        highest = Math.max(highest, c);
        accepted++;
      }
    }
    expect(mismatches).toEqual([]);
    expect(w.highestCounter).toBe(highest);
    // The walk must exercise both outcomes substantially, or the comparison proves little.
    expect(accepted).toBeGreaterThan(5_000);
    expect(50_000 - accepted).toBeGreaterThan(5_000);
  });

  test('in-order counters need no ring; a first gap keeps the few counters skipped (the third form), a larger one builds the ring with the window marked', () => {
    const w = new ReplayWindow(64);
    for (let c = 0; c < 1000; c++) expect(acceptChecked(w, c)).toBe(true);
    expect(w.form).toBe('in-order');
    expect(acceptChecked(w, 999)).toBe(false); // a replay in the in-order form
    expect(acceptChecked(w, 500)).toBe(false);
    expect(w.form).toBe('in-order');
    expect(acceptChecked(w, 1002)).toBe(true); // 1000 and 1001 skipped: kept as missing, no ring
    expect(w.form).toBe('missing');
    expect(w.hasRing).toBe(false);
    for (let c = 1002 - 63; c < 1000; c++) expect(acceptChecked(w, c)).toBe(false);
    expect(acceptChecked(w, 1001)).toBe(true);
    expect(w.form).toBe('missing');
    expect(acceptChecked(w, 1000)).toBe(true);
    expect(w.form).toBe('in-order'); // nothing missing
    expect(acceptChecked(w, 1000)).toBe(false);
    expect(acceptChecked(w, 1002 - 64)).toBe(false); // out of the window
    expect(acceptChecked(w, 1004 + MAX_MISSING)).toBe(true); // MAX_MISSING + 1 skipped: the ring
    expect(w.form).toBe('ring');
    for (let c = 1004 + MAX_MISSING - 63; c <= 1002; c++) expect(acceptChecked(w, c)).toBe(false); // marked when built
    expect(acceptChecked(w, 1003)).toBe(true); // a late one: MAX_MISSING left, the ring goes
    expect(w.form).toBe('missing');
    for (let c = 1004; c < 1004 + MAX_MISSING; c++) expect(acceptChecked(w, c)).toBe(true);
    expect(w.form).toBe('in-order');
    w.reset();
    expect(w.form).toBe('in-order');
    expect(w.highestCounter).toBe(-1);
    expect(acceptChecked(w, 3)).toBe(true); // a first counter other than 0: 0, 1, 2 missing
    expect(w.form).toBe('missing');
    expect(acceptChecked(w, 0)).toBe(true);
    expect(acceptChecked(w, 3)).toBe(false);
    w.reset();
    expect(acceptChecked(w, 1000)).toBe(true); // 64 counters of the window skipped: the ring
    expect(w.form).toBe('ring');
  });

  test('the ring-less forms go back to in order once the window up to the highest is complete: a filled gap, or a gap that left the window', () => {
    const w = new ReplayWindow(64);
    for (let c = 0; c < 100; c++) acceptChecked(w, c);
    expect(acceptChecked(w, 101)).toBe(true); // 100 late
    expect(w.form).toBe('missing');
    expect(acceptChecked(w, 100)).toBe(true); // the gap filled: in order again
    expect(w.form).toBe('in-order');
    expect([w.wouldAccept(100), w.wouldAccept(101), w.wouldAccept(40), w.wouldAccept(102)]).toEqual([false, false, false, true]);
    expect(acceptChecked(w, 103)).toBe(true); // 102 lost for good
    for (let c = 104; c < 102 + 64; c++) {
      expect(acceptChecked(w, c)).toBe(true);
      expect(w.form).toBe('missing'); // 102 is still in the window: still acceptable
    }
    expect(w.wouldAccept(102)).toBe(true);
    expect(acceptChecked(w, 102 + 64)).toBe(true);
    expect(w.form).toBe('in-order'); // 102 left the window
    expect([w.wouldAccept(102), w.wouldAccept(166), w.wouldAccept(167)]).toEqual([false, false, true]);
    // the ring's own way back: a gap too large, filled but one, which then leaves the window
    for (let c = 167; c < 200; c++) acceptChecked(w, c);
    expect(acceptChecked(w, 220)).toBe(true);
    expect(w.form).toBe('ring');
    for (let c = 201; c < 220; c++) acceptChecked(w, c); // 200 lost: one missing, looked at on each late counter
    expect(w.form).toBe('missing');
    for (let c = 221; c <= 200 + 64; c++) acceptChecked(w, c);
    expect(w.form).toBe('in-order');
    expect(w.highestCounter).toBe(264);
  });

  test('agrees with a model (a set of accepted counters) over runs of in-order, gaps, replays and late counters', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const size of [1, 31, 32, 33, 64, 100, 2048]) {
      for (let run = 0; run < 20; run++) {
        const w = new ReplayWindow(size);
        const seen = new Set<number>();
        let highest = -1;
        let next = rnd(3) === 0 ? rnd(5) : 0;
        for (let i = 0; i < 400; i++) {
          const r = rnd(10);
          const c = r < 6 ? next++ : r < 7 ? (next += rnd(3 * size + 2)) : r < 9 ? Math.max(0, highest - rnd(size + 3)) : highest;
          const want = c >= 0 && !seen.has(c) && (highest < 0 || c > highest || highest - c < size);
          expect(w.wouldAccept(c)).toBe(want);
          expect(w.accept(c)).toBe(want);
          if (want) {
            seen.add(c);
            highest = Math.max(highest, c);
          }
          expect(w.highestCounter).toBe(highest);
        }
      }
    }
  });
});
