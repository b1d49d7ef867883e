import { TokenBucket, KeyedRateLimiter, EVICTION_SCAN_LIMIT } from '../../src/net/ratelimit';
import { ManualClock } from '../../src/runtime/clock';

function takeAll(bucket: TokenBucket): number {
  let n = 0;
  while (bucket.take()) n++;
  return n;
}

describe('TokenBucket', () => {
  test('rests only when full (mem20): its shared config, from which a bucket behaves as the one that rested', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(10, 5, clock);
    const twin = new TokenBucket(10, 5, clock);
    b.take(2);
    twin.take(2);
    expect(b.rested()).toBeNull(); // 3 of 5 tokens
    clock.advance(199);
    expect(b.rested()).toBeNull(); // 4.99
    clock.advance(1);
    const r = b.rested()!;
    expect(r).not.toBeNull();
    expect(r).toBe(new TokenBucket(10, 5, clock).rested()); // one config shared by every bucket of that rate, burst and clock
    clock.advance(1_234);
    const again = TokenBucket.fromRest(r);
    expect([again.ratePerSecond, again.burst, again.tokens]).toEqual([10, 5, 5]);
    // from here, takes and refills as the bucket that never rested
    const seq = (x: TokenBucket): unknown[] => [x.take(3), x.take(3), (clock.advance(150), x.tokens), x.take(2), x.take(1)];
    expect(seq(again)).toEqual([true, false, 3.5, true, true]);
    expect(twin.tokens).toBe(5); // the twin refilled meanwhile: full, as `again` was made
  });

  test('starts full: exactly `burst` takes succeed, the next fails', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(10, 5, clock);
    expect(b.tokens).toBe(5);
    expect(takeAll(b)).toBe(5);
    expect(b.take()).toBe(false);
    expect(b.tokens).toBe(0);
  });

  test('refills exactly rate × elapsed', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(10, 5, clock); // one token per 100 ms
    takeAll(b);
    clock.advance(99);
    expect(b.take()).toBe(false);
    expect(b.tokens).toBeCloseTo(0.99, 12);
    clock.advance(1);
    expect(b.tokens).toBe(1);
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    clock.advance(350);
    expect(b.tokens).toBe(3.5);
    expect(takeAll(b)).toBe(3);
    expect(b.tokens).toBe(0.5);
  });

  test("take(n, nowMs) refills to the caller's time, not the clock's (one clock read per datagram on the receive path)", () => {
    const clock = new ManualClock(1_800_000_000_000, 1_000);
    const b = new TokenBucket(10, 5, clock); // one token per 100 ms
    takeAll(b);
    // The clock stands still; the caller's time says 250 ms passed: 2.5 tokens.
    expect(b.take(1, 1_250)).toBe(true);
    expect(b.take(1, 1_250)).toBe(true);
    expect(b.take(1, 1_250)).toBe(false);
    // The bucket's own reads continue from the caller's time: the clock at 1_000 is behind it, nothing added.
    expect(b.tokens).toBe(0.5);
    clock.advance(300); // 1_300: 50 ms after the caller's time
    expect(b.tokens).toBe(1);
    expect(b.take(1, 1_300)).toBe(true);
    expect(b.take(1, 1_300)).toBe(false);
  });

  test('refill is capped at burst', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(1000, 20, clock);
    takeAll(b);
    clock.advance(1_000_000);
    expect(b.tokens).toBe(20);
    expect(takeAll(b)).toBe(20);
  });

  test('long idle at full does not bank tokens', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(2, 2, clock);
    clock.advance(60_000);
    expect(takeAll(b)).toBe(2);
    clock.advance(500);
    expect(takeAll(b)).toBe(1);
  });

  test('many small steps add up exactly (integer credit arithmetic)', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(3, 1000, clock);
    takeAll(b);
    for (let i = 0; i < 1000; i++) {
      clock.advance(1);
      b.isFull(); // forces a refill per ms
    }
    expect(b.tokens).toBe(3);
    expect(takeAll(b)).toBe(3);
  });

  test('take(n) is all-or-nothing', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(10, 10, clock);
    expect(b.take(7)).toBe(true);
    expect(b.take(4)).toBe(false);
    expect(b.tokens).toBe(3);
    expect(b.take(3)).toBe(true);
    expect(b.take(11)).toBe(false);
    expect(b.take(0)).toBe(true);
  });

  test('a clock that steps back adds nothing', () => {
    let mono = 1000; // ManualClock never steps back: a bare Clock does
    const clock = { now: () => 0, monotonic: () => mono };
    const b = new TokenBucket(10, 2, clock);
    takeAll(b);
    mono -= 500;
    expect(b.tokens).toBe(0);
    mono += 600; // 100 ms past the last refill point
    expect(b.tokens).toBe(1);
  });

  test('isFull', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(10, 2, clock);
    expect(b.isFull()).toBe(true);
    b.take();
    expect(b.isFull()).toBe(false);
    clock.advance(99);
    expect(b.isFull()).toBe(false);
    clock.advance(1);
    expect(b.isFull()).toBe(true);
  });

  test.each([
    [0, 1],
    [-1, 1],
    [NaN, 1],
    [Infinity, 1],
    [1, 0],
    [1, -1],
    [1, NaN],
  ])('rate %p burst %p is refused', (rate, burst) => {
    expect(() => new TokenBucket(rate, burst, new ManualClock())).toThrow(RangeError);
  });

  test.each([-1, NaN])('take(%p) is refused', (n) => {
    expect(() => new TokenBucket(1, 1, new ManualClock()).take(n)).toThrow(RangeError);
  });
});

describe('KeyedRateLimiter', () => {
  test('each key has its own bucket', () => {
    const clock = new ManualClock();
    const l = new KeyedRateLimiter({ ratePerSecond: 1, burst: 2, maxKeys: 10, clock });
    expect(l.allow('a')).toBe(true);
    expect(l.allow('a')).toBe(true);
    expect(l.allow('a')).toBe(false);
    expect(l.allow('b')).toBe(true);
    expect(l.allow('b')).toBe(true);
    expect(l.allow('b')).toBe(false);
    expect(l.size).toBe(2);
    clock.advance(1000);
    expect(l.allow('a')).toBe(true);
    expect(l.allow('a')).toBe(false);
  });

  test('when full, an idle (refilled) bucket is evicted for a new key', () => {
    const clock = new ManualClock();
    const l = new KeyedRateLimiter({ ratePerSecond: 10, burst: 1, maxKeys: 2, clock });
    expect(l.allow('a')).toBe(true);
    expect(l.allow('b')).toBe(true);
    expect(l.allow('c')).toBe(false); // a and b are empty: nothing may be evicted
    expect(l.size).toBe(2);
    clock.advance(100); // both refilled
    expect(l.allow('c')).toBe(true);
    expect(l.size).toBe(1); // a and b were both full, so both went; c took their place
  });

  test('a bucket still refilling is never evicted (no reset of an attacker bucket)', () => {
    const clock = new ManualClock();
    const l = new KeyedRateLimiter({ ratePerSecond: 1, burst: 3, maxKeys: 2, clock });
    for (let i = 0; i < 3; i++) expect(l.allow('attacker')).toBe(true);
    expect(l.allow('attacker')).toBe(false);
    expect(l.allow('x')).toBe(true); // x now has 2 of 3 tokens
    clock.advance(500);
    expect(l.allow('y')).toBe(false); // neither bucket is full
    expect(l.allow('attacker')).toBe(false); // still empty: not reset to a fresh bucket
    clock.advance(2500); // x: 2.5 + 2.5 → capped at 3 (full); attacker: 0.5 + 2.5 = 3 (full)
    expect(l.allow('y')).toBe(true);
    expect(l.size).toBe(1);
  });

  test('eviction prefers least recently used entries', () => {
    const clock = new ManualClock();
    const l = new KeyedRateLimiter({ ratePerSecond: 10, burst: 1, maxKeys: 3, clock });
    l.allow('a');
    l.allow('b');
    l.allow('c');
    clock.advance(100); // all full again
    expect(l.allow('a')).toBe(true); // a becomes most recent (and empty)
    expect(l.allow('d')).toBe(true); // evicts b and c (full), not a
    expect(l.size).toBe(2);
    expect(l.allow('a')).toBe(false); // a kept its empty bucket
  });

  test('bound holds under 1e5 distinct keys', () => {
    const clock = new ManualClock();
    const maxKeys = 1000;
    const l = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, maxKeys, clock });
    let allowed = 0;
    for (let i = 0; i < 100_000; i++) {
      if (l.allow(`10.0.${i >> 8}.${i & 255}`)) allowed++;
      if (i % 1000 === 999) clock.advance(1); // time passes, but buckets need 1000 ms to refill
    }
    expect(l.size).toBe(maxKeys);
    expect(allowed).toBe(maxKeys);
    // Once the first buckets refilled, new keys get in again, and the size still stays bounded.
    clock.advance(1000);
    for (let i = 0; i < 100_000; i++) l.allow(`fd00::${i.toString(16)}`);
    expect(l.size).toBe(maxKeys);
  });

  test('eviction examines at most EVICTION_SCAN_LIMIT entries per new key', () => {
    const clock = new ManualClock();
    const maxKeys = 100;
    const l = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, maxKeys, clock });
    for (let i = 0; i < maxKeys; i++) l.allow(`k${i}`);
    clock.advance(1000); // every bucket full
    expect(l.allow('new')).toBe(true);
    expect(l.size).toBe(maxKeys - EVICTION_SCAN_LIMIT + 1);
  });

  test('delete and clear', () => {
    const clock = new ManualClock();
    const l = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 5, clock });
    l.allow('a');
    expect(l.allow('a')).toBe(false);
    expect(l.delete('a')).toBe(true);
    expect(l.allow('a')).toBe(true);
    l.clear();
    expect(l.size).toBe(0);
  });

  test.each([0, -1, 1.5, NaN])('maxKeys %p is refused', (maxKeys) => {
    expect(() => new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, maxKeys })).toThrow(RangeError);
  });
});
