/**
 * The zstd backoff holds for reliable sends too (issue 12: no zstd attempts on incompressible
 * streams): reliable.ts takes its body and flags from the same per-link backoff as datagram mode
 * (compressIfSmaller + bodyFlags, no tuple per message). Random 1 KiB reliable messages pay 7
 * attempts for 2,000 messages; compressible ones are compressed again within 1024 messages and
 * arrive intact (the COMPRESSED flag travels with the body); every send resolves.
 */
import { randomBytes } from 'node:crypto';
import * as zstd from '../../../src/wire/compress';
import { SimWorld, messages } from '../../sim/harness';

const A = '127.0.0.2';
const B = '127.0.0.3';

test('reliable: random 1 KiB messages cost 7 zstd attempts for 2,000; compressible ones are compressed and delivered intact, in order, each send resolved', async () => {
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
        void a.send('b', m, { reliable: true }).then(() => resolved++);
      }
      await w.scheduler.advance(20);
    }
  };
  await burst(2000, () => randomBytes(1024));
  // attempts at messages 0, 17, 50, 115, 244, 501, 1014 (the next would be 2039)
  expect(spy).toHaveBeenCalledTimes(7);
  expect(spy.mock.results.every((r) => (r.value as Uint8Array).length >= 1024)).toBe(true);
  spy.mockClear();
  await burst(1100, (i) => Buffer.alloc(1024, `compressible ${i} `));
  const firstSuccess = spy.mock.results.findIndex((r) => (r.value as Uint8Array).length < 1024);
  expect(firstSuccess).toBeGreaterThanOrEqual(0);
  expect(firstSuccess).toBeLessThan(1024);
  expect(spy.mock.calls.length).toBeGreaterThan(50); // after the first success, every message is tried again
  await w.scheduler.advance(500);
  expect(got).toHaveLength(3100);
  expect(got.every((m, i) => Buffer.from(m.data).equals(sent[i]!))).toBe(true);
  expect(resolved).toBe(3100);
  spy.mockRestore();
  await w.closeAll();
});
