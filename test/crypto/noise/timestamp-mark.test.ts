/** The per-identity replay mark (src/crypto/noise/timestamp-mark.ts). */
import { tai64nFromMs } from '../../../src/crypto/noise/payload';
import { TimestampMark } from '../../../src/crypto/noise/timestamp-mark';

const ts = (ms: number): Uint8Array => tai64nFromMs(ms);

test('raised in memory on accept (replays refused at once); persisted only on confirmation', () => {
  const m = new TimestampMark();
  expect(m.isFresh(ts(1000))).toBe(true);
  m.accept(ts(1000));
  expect(m.isFresh(ts(1000))).toBe(false); // the same init again
  expect(m.isFresh(ts(900))).toBe(false);
  expect(() => m.accept(ts(1000))).toThrow(RangeError);
  expect(m.persisted).toBeNull(); // nothing for the journal before confirmation
  m.accept(ts(2000));
  expect(m.confirm(ts(1000))).toEqual(ts(1000)); // the first session confirmed late
  expect(m.confirm(ts(2000))).toEqual(ts(2000));
  expect(m.confirm(ts(1000))).toBeNull(); // never moves backwards
});

test('after a restart only the persisted value counts: an accepted, unconfirmed init can be replayed but has no trust effect', () => {
  const before = new TimestampMark();
  before.accept(ts(5000));
  before.confirm(ts(5000));
  before.accept(ts(6000)); // accepted, never confirmed (killed here)
  const after = new TimestampMark(before.persisted);
  expect(after.isFresh(ts(5000))).toBe(false);
  expect(after.isFresh(ts(6000))).toBe(true); // the replayer gets a response, never a confirmed session
  expect(after.inMemory).toEqual(ts(5000));
});

test('clocks far apart do not matter: only the identity’s own sequence does', () => {
  const m = new TimestampMark();
  m.accept(ts(1)); // a peer whose clock is at 1970
  expect(m.isFresh(ts(1000))).toBe(true);
  m.accept(tai64nFromMs(4_000_000_000_000)); // then jumps to 2096
  // A stamp from before the mark is refused; a sender never produces one, because its
  // TimestampSource only increases (payload.test.ts), across restarts too (seeded from the journal).
  expect(m.isFresh(ts(1_800_000_000_000))).toBe(false);
});
