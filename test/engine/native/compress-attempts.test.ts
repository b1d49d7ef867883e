/**
 * No zstd attempts on incompressible streams (issue 12), end to end on the simulated network:
 * a peer sending random 1 KiB messages (the bench's payload) pays a handful of attempts, not one
 * per 17 messages; when the stream turns compressible the sender compresses again within 1024
 * messages; every message arrives intact either way. Datagram mode and reliable mode share the
 * per-link backoff (reliable.ts takes body and flags from compressIfSmaller + bodyFlags, rel19).
 */
import { randomBytes } from 'node:crypto';
import * as zstd from '../../../src/wire/compress';
import { SimWorld, messages } from '../../sim/harness';

const A = '127.0.0.2';
const B = '127.0.0.3';

for (const reliable of [false, true]) {
  const mode = reliable ? 'reliable' : 'datagram mode';
  test(`${mode}: random 1 KiB messages: 7 zstd attempts for 2,000 messages (a fixed skip of 16: 118); compressible ones are compressed again within 1024 messages`, async () => {
    const w = new SimWorld(12);
    w.net.link(A, B, { latencyMs: 5 });
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    const spy = jest.spyOn(zstd, 'compress');
    const got = messages(b);
    const sent: Buffer[] = [];
    let resolved = 0;
    const burst = async (n: number, make: (i: number) => Buffer): Promise<void> => {
      for (let i = 0; i < n; i += 50) {
        for (let k = i; k < Math.min(n, i + 50); k++) {
          const m = make(k);
          sent.push(m);
          void a.send('b', m, reliable ? { reliable: true } : undefined).then(() => resolved++, () => undefined);
        }
        await w.scheduler.advance(20);
      }
    };
    await burst(2000, () => randomBytes(1024));
    // attempts at messages 0, 17, 50, 115, 244, 501, 1014 (the next would be 2039)
    expect(spy).toHaveBeenCalledTimes(7);
    const sizes = spy.mock.results.map((r) => (r.value as Uint8Array).length);
    expect(sizes.every((n) => n >= 1024)).toBe(true); // each failed: the payload went as it was
    spy.mockClear();
    await burst(1100, (i) => Buffer.alloc(1024, `compressible ${i} `));
    const firstSuccess = spy.mock.results.findIndex((r) => (r.value as Uint8Array).length < 1024);
    expect(firstSuccess).toBeGreaterThanOrEqual(0);
    expect(firstSuccess).toBeLessThan(1024);
    const calls = spy.mock.calls.length;
    expect(calls).toBeGreaterThan(50); // after the first success, every message is tried again
    await w.scheduler.advance(reliable ? 500 : 200);
    expect(got).toHaveLength(3100);
    expect(got.every((m, i) => Buffer.from(m.data).equals(sent[i]!))).toBe(true); // intact: the COMPRESSED flag travelled with the body
    expect(resolved).toBe(3100);
    spy.mockRestore();
    await w.closeAll();
  });
}
