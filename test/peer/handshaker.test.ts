/** Handshaker: attempts bounded, ephemeral secrets wiped on every exit path, seeded ids and jitter. */
import { Handshaker, MAX_OLDER_ATTEMPTS, type AttemptIndex } from '../../src/peer/handshaker';
import { SeededRandom } from '../../src/runtime/random';
import { sodiumReady } from '../../src/crypto/sodium';
import type { PendingInit } from '../../src/crypto/handshake';
import type { KeyPair } from '../../src/crypto/sodium';

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

const build = (localSid: number, ephemeral: KeyPair): PendingInit => ({ localSid, ephemeral, init: new Uint8Array(1), responderStatic: new Uint8Array(32), timestampMs: 0 });
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

describe('Handshaker', () => {
  beforeAll(sodiumReady);

  test('older attempts stay answerable up to the bound; the ones dropped and all on cancel are wiped and unbound', () => {
    const index = new Index();
    const h = new Handshaker('p', index, new SeededRandom(1));
    const made: PendingInit[] = [];
    for (let i = 0; i < MAX_OLDER_ATTEMPTS + 3; i++) made.push(h.start(i * 1000, build).pending);
    expect(h.attempts).toBe(MAX_OLDER_ATTEMPTS + 3);
    expect(h.outstanding()).toEqual([...made].reverse().slice(0, MAX_OLDER_ATTEMPTS + 1));
    expect(made.slice(0, 2).map((p) => isZero(p.ephemeral.privateKey))).toEqual([true, true]);
    expect(made.slice(2).map((p) => isZero(p.ephemeral.privateKey))).toEqual(made.slice(2).map(() => false));
    expect([...index.bound.keys()].sort()).toEqual(made.slice(2).map((p) => p.localSid).sort());
    expect(h.find(made[3]!.localSid)).toBe(made[3]);
    expect(h.find(made[0]!.localSid)).toBeUndefined();
    h.cancel();
    expect(made.every((p) => isZero(p.ephemeral.privateKey))).toBe(true);
    expect(index.bound.size).toBe(0);
    expect([h.pending, h.attempts]).toEqual([null, 0]);
  });

  test('a failure while building the init or the response wipes the fresh ephemeral secret', () => {
    const h = new Handshaker('p', new Index(), new SeededRandom(2));
    let seen: KeyPair | null = null;
    expect(() => h.start(0, (_sid, e) => {
      seen = e;
      throw new Error('boom');
    })).toThrow('boom');
    expect(isZero(seen!.privateKey)).toBe(true);
    expect(h.pending).toBeNull();
    let answered: KeyPair | null = null;
    h.respond((_sid, e) => void (answered = e));
    expect(isZero(answered!.privateKey)).toBe(true);
  });

  test('the same seed gives the same session ids, keys and retry times; backoff doubles with ±20% jitter', () => {
    const run = (seed: number) => {
      const h = new Handshaker('p', new Index(), new SeededRandom(seed));
      return Array.from({ length: 4 }, (_, i) => {
        const { pending, retryInMs } = h.start(i, build);
        return [pending.localSid, Buffer.from(pending.ephemeral.publicKey).toString('hex'), retryInMs] as const;
      });
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8)).not.toEqual(a);
    a.forEach(([, , retry], i) => {
      const base = 1500 * 2 ** i;
      expect(retry).toBeGreaterThanOrEqual(base * 0.8);
      expect(retry).toBeLessThan(base * 1.2);
    });
  });
});
