/** Handshaker: attempts bounded, every exit path destroys the attempt, seeded ids and jitter. */
import { Handshaker, MAX_OLDER_ATTEMPTS, type AttemptIndex } from '../../src/peer/handshaker';
import { SeededRandom } from '../../src/runtime/random';

class FakeAttempt {
  destroyed = false;
  constructor(readonly localSid: number) {}
  destroy(): void {
    this.destroyed = true;
  }
}

class Index implements AttemptIndex<string> {
  readonly bound = new Map<number, string>();
  bindPending(peer: string, sid: number): void {
    this.bound.set(sid, peer);
  }
  unbindPending(sid: number): void {
    this.bound.delete(sid);
  }
  sidInUse(sid: number): boolean {
    return this.bound.has(sid);
  }
}

const build = (localSid: number): FakeAttempt => new FakeAttempt(localSid);

describe('Handshaker', () => {
  test('older attempts stay answerable up to the bound; the ones dropped and all on cancel are wiped and unbound', () => {
    const index = new Index();
    const h = new Handshaker<string, FakeAttempt>('p', index, new SeededRandom(1));
    const made: FakeAttempt[] = [];
    for (let i = 0; i < MAX_OLDER_ATTEMPTS + 3; i++) made.push(h.start(i * 1000, build).pending);
    expect(h.attempts).toBe(MAX_OLDER_ATTEMPTS + 3);
    expect(h.outstanding()).toEqual([...made].reverse().slice(0, MAX_OLDER_ATTEMPTS + 1));
    expect(made.slice(0, 2).map((p) => p.destroyed)).toEqual([true, true]);
    expect(made.slice(2).map((p) => p.destroyed)).toEqual(made.slice(2).map(() => false));
    expect([...index.bound.keys()].sort()).toEqual(made.slice(2).map((p) => p.localSid).sort());
    expect(h.find(made[3]!.localSid)).toBe(made[3]);
    expect(h.find(made[0]!.localSid)).toBeUndefined();
    h.cancel();
    expect(made.every((p) => p.destroyed)).toBe(true);
    expect(index.bound.size).toBe(0);
    expect([h.pending, h.attempts]).toEqual([null, 0]);
  });

  test('a failure while building the attempt leaves nothing pending or bound', () => {
    const index = new Index();
    const h = new Handshaker<string, FakeAttempt>('p', index, new SeededRandom(2));
    expect(() => h.start(0, () => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(h.pending).toBeNull();
    expect(index.bound.size).toBe(0);
    expect(h.attempts).toBe(0);
  });

  test('the same seed gives the same session ids, keys and retry times; backoff doubles with ±20% jitter', () => {
    const run = (seed: number) => {
      const h = new Handshaker('p', new Index(), new SeededRandom(seed));
      return Array.from({ length: 4 }, (_, i) => {
        const { pending, retryInMs } = h.start(i, build);
        return [pending.localSid, h.newSessionId(), retryInMs] as const;
      });
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8)).not.toEqual(a);
    a.forEach(([, , retry], i) => {
      const base = 400 * 2 ** i; // HANDSHAKE_FIRST_RETRY_MS: a lost init costs well under a second
      expect(retry).toBeGreaterThanOrEqual(base * 0.8);
      expect(retry).toBeLessThan(base * 1.2);
    });
  });
});
