/**
 * The reassembler charges what it really holds: for floods of fragments from one peer, the
 * bytes it accounts are compared with the heap growth measured after a full GC
 * (process.memoryUsage(): heapUsed — JS objects, and typed arrays of ≤ 64 bytes whose bytes V8
 * keeps on the heap — plus arrayBuffers — the backing stores of larger ones).
 *
 * `gc` is obtained the way jest's own leak detector does it (v8 flag set at run time, then read
 * from a fresh context), so this file needs no `node --expose-gc`. Measurements are of retained
 * memory after GC, not of time: a loaded machine does not change them. The tolerance: the
 * charge is never below the measured growth, and the measured growth is at least 60 % of the
 * charge (the constants are rounded up, and big backing stores cost native bookkeeping that
 * neither heapUsed nor arrayBuffers counts). With the old 64-byte fragment charge and no
 * message charge, a flood of 1-byte first fragments was charged 65 bytes for ~630 held.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { ManualClock } from '../../src/runtime/clock';
import { DEFAULT_COMPLETED_MEMORY, Reassembler, type ReassemblerOptions } from '../../src/delivery/reassembly';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;

const sample = (): number => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/**
 * Retained bytes once they are stable: V8 frees dead ArrayBuffer backing stores on a sweeper
 * that may finish after gc() returns (arrayBuffers then drops later, e.g. the buffers of the
 * test file that ran before in this worker), so GC is repeated, yielding to the event loop,
 * until two readings agree within 64 KiB (a condition, not a delay).
 */
async function retained(): Promise<number> {
  let last = sample();
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    const now = sample();
    if (Math.abs(now - last) < 64 * 1024) return now;
    last = now;
  }
  throw new Error('retained memory did not settle');
}

function make(over: Partial<ReassemblerOptions> = {}): Reassembler {
  return new Reassembler({ clock: new ManualClock(), timeoutMs: 60_000, perPeerBytes: 2 ** 40, totalBytes: 2 ** 40, maxMessageBytes: 2 ** 30, ...over });
}

/** Runs `flood` on a fresh reassembler and returns [charged, measured growth] in bytes. */
async function measure(over: Partial<ReassemblerOptions>, flood: (r: Reassembler) => void): Promise<{ charged: number; grown: number }> {
  const r = make(over);
  const before = await retained();
  flood(r);
  const grown = (await retained()) - before;
  const charged = r.bytesHeld;
  expect(r.messagesHeld).toBeGreaterThan(0); // r is live up to here
  return { charged, grown };
}

describe('reassembly memory charge against measured heap growth', () => {
  const N = 20_000;
  test.each([1, 64, 100, 1100])('a flood of %i-byte first fragments (a new message each) is charged at least what it holds', async (len) => {
    const chunk = new Uint8Array(len).fill(0xa5);
    const { charged, grown } = await measure({}, (r) => {
      for (let i = 0; i < N; i++) expect(r.add('peer', i, 0, 2, chunk)).toEqual({});
    });
    expect(grown).toBeGreaterThan(N * len); // the flood did land in memory
    expect(charged).toBeGreaterThanOrEqual(grown);
    expect(grown).toBeGreaterThanOrEqual(0.6 * charged);
  });

  test.each([1, 1100])('the fragments of one large message (%i bytes each) are charged at least what they hold', async (len) => {
    const chunk = new Uint8Array(len).fill(0x5a);
    const { charged, grown } = await measure({}, (r) => {
      for (let i = 0; i < N; i++) expect(r.add('peer', 1, i, 100_000, chunk)).toEqual({});
    });
    expect(charged).toBeGreaterThanOrEqual(grown);
    expect(grown).toBeGreaterThanOrEqual(0.6 * charged);
  });

  test('a 4 MiB per-peer bound holds about 4 MiB of heap under a flood of 1-byte first fragments (was ~40 MB)', async () => {
    const perPeerBytes = 4 * MiB;
    let evicted = 0;
    const { charged, grown } = await measure({ perPeerBytes }, (r) => {
      const chunk = new Uint8Array(1);
      for (let i = 0; i < 100_000; i++) evicted += r.add('peer', i, 0, 2, chunk).evicted ?? 0;
    });
    expect(evicted).toBeGreaterThan(90_000);
    expect(charged).toBeLessThanOrEqual(perPeerBytes);
    // what is held, plus the bounded memory of abandoned msgIds (DEFAULT_COMPLETED_MEMORY ids)
    expect(grown).toBeLessThanOrEqual(perPeerBytes + DEFAULT_COMPLETED_MEMORY * 100);
  });
});
