import { LinkV4, markFromStoredMs } from '../../../src/engine/native/link-v4';
import { compareTimestamps } from '../../../src/crypto/noise/payload';
import { ManualClock } from '../../../src/runtime/clock';
import { SeededRandom } from '../../../src/runtime/random';

const ts = (...b: number[]): Uint8Array => Uint8Array.from(b);
/** A link whose peer persisted `storedMs` (null: none). */
const linkV4 = (storedMs: number | null = null): LinkV4 => new LinkV4(new ManualClock(), { lastHandshakeTs: storedMs });

describe('LinkV4.mark: the identity replay mark as four small integers', () => {
  it('starts empty, accepts anything once, then only strictly newer timestamps (bytewise order)', () => {
    const m = linkV4().mark('k');
    expect(m.inMemory).toBeNull();
    const a = ts(0x40, 0, 0, 0, 0x69, 0x12, 0x34, 0x56, 0x10, 0x00, 0x00, 0x00);
    expect(m.isFresh(a)).toBe(true);
    m.accept(a);
    expect(m.inMemory).toEqual(a);
    expect(m.isFresh(a)).toBe(false); // the same timestamp: a replay
    expect(() => m.accept(a)).toThrow(RangeError);
    const nanoLater = a.slice();
    nanoLater[11] = 1;
    expect(m.isFresh(nanoLater)).toBe(true);
    const older = a.slice();
    older[7] = 0x55;
    older[11] = 0xff;
    expect(m.isFresh(older)).toBe(false);
    const high = a.slice();
    high[0] = 0xff; // every byte's full range compares as bytes, not as signed numbers
    expect(m.isFresh(high)).toBe(true);
    m.accept(high);
    expect(m.inMemory).toEqual(high);
    expect(m.isFresh(a)).toBe(false);
  });

  it('starts from the persisted mark (ms, rounded up); the same identity keeps its mark, another starts from the persisted value again', () => {
    const link = linkV4(1_800_000_000_123);
    const m = link.mark('k');
    expect(m.inMemory).toEqual(markFromStoredMs(1_800_000_000_123));
    expect(m.isFresh(markFromStoredMs(1_800_000_000_123)!)).toBe(false);
    expect(m.isFresh(markFromStoredMs(1_800_000_000_122)!)).toBe(false);
    expect(m.isFresh(markFromStoredMs(1_800_000_000_124)!)).toBe(true);
    m.accept(markFromStoredMs(1_800_000_000_500)!);
    expect(link.mark('k').isFresh(markFromStoredMs(1_800_000_000_400)!)).toBe(false);
    expect(link.mark('other').isFresh(markFromStoredMs(1_800_000_000_400)!)).toBe(true);
    expect(linkV4(null).mark('k').inMemory).toBeNull();
  });

  it('orders random timestamps exactly as compareTimestamps does', () => {
    const r = new SeededRandom(7);
    const rand = (): Uint8Array => {
      const b = new Uint8Array(12);
      for (let i = 0; i < 12; i++) b[i] = r.int(0, 3) === 0 ? r.int(0, 255) : 0x40; // many equal prefixes
      return b;
    };
    for (let i = 0; i < 2000; i++) {
      const x = rand();
      const y = rand();
      const m = linkV4().mark('k');
      m.accept(x);
      expect(m.inMemory).toEqual(x);
      expect(m.isFresh(y)).toBe(compareTimestamps(y, x) > 0);
    }
  });

  it('refuses a timestamp of the wrong length', () => {
    expect(() => linkV4().mark('k').isFresh(new Uint8Array(11))).toThrow(RangeError);
    expect(() => linkV4().mark('k').accept(new Uint8Array(13))).toThrow(RangeError);
  });
});
