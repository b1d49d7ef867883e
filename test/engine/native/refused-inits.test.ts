/** The refused-init cache of first contact (PROTOCOL §5.5): bounded, short-lived, taken once, a copy. */
import { RefusedInits, REFUSED_INITS_MAX, REFUSED_INIT_TTL_MS } from '../../../src/engine/native/refused-inits';

const dgram = (b: number): { data: Buffer; address: string; port: number } => ({ data: Buffer.alloc(8, b), address: '127.0.0.9', port: 4000 + b });

describe('RefusedInits', () => {
  test('keeps a copy (the receive buffer may be reused), hands it over once, within the TTL only', () => {
    const r = new RefusedInits();
    const d = dgram(1);
    r.remember('k', d, 1000);
    d.data.fill(9); // the receive path reuses its buffer
    expect(r.take('k', 1000 + REFUSED_INIT_TTL_MS)).toEqual({ data: Buffer.alloc(8, 1), address: '127.0.0.9', port: 4001 });
    expect(r.take('k', 1000)).toBeNull(); // taken: answered at most once
    r.remember('k', dgram(2), 1000);
    expect(r.take('k', 1001 + REFUSED_INIT_TTL_MS)).toBeNull(); // too old
    expect(r.size).toBe(0);
  });

  test('the newest init per static replaces an older one; beyond the bound the oldest goes', () => {
    const r = new RefusedInits();
    r.remember('a', dgram(1), 0);
    r.remember('a', dgram(2), 1);
    expect(r.size).toBe(1);
    for (let i = 0; i < REFUSED_INITS_MAX; i++) r.remember(`s${i}`, dgram(3), 2);
    expect(r.size).toBe(REFUSED_INITS_MAX);
    expect(r.take('a', 2)).toBeNull(); // the oldest, evicted
    expect(r.take('s0', 2)?.port).toBe(4003);
    expect(r.take(`s${REFUSED_INITS_MAX - 1}`, 2)?.port).toBe(4003);
    r.clear();
    expect(r.size).toBe(0);
  });
});
