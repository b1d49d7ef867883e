import { HeapSettler, optimizesForSize, acquireHeapSettler, heapSettlerHolders, v8Gauge, type HeapGauge } from '../../src/runtime/heap-settle';
import { createNode } from '../../src/node/create';
import { ManualScheduler } from '../../src/runtime/scheduler';

const MB = 1024 * 1024;

/** A gauge whose heap and busy share the test sets; it records every flag change with its time. */
class FakeGauge implements HeapGauge {
  committed = 114 * MB;
  used = 50 * MB;
  load = 0.1;
  busyCalls = 0;
  readonly flags: Array<[number, boolean]> = [];
  constructor(readonly s: ManualScheduler) {}
  heap(): { committed: number; used: number } {
    return { committed: this.committed, used: this.used };
  }
  busy(): number {
    this.busyCalls++;
    return this.load;
  }
  optimizeForMemory(on: boolean): void {
    this.flags.push([this.s.clock.monotonic(), on]);
  }
}

function setup(): { s: ManualScheduler; g: FakeGauge; h: HeapSettler } {
  const s = new ManualScheduler();
  const g = new FakeGauge(s);
  const h = new HeapSettler(s, g);
  return { s, g, h };
}

describe('HeapSettler', () => {
  test('a large slack on a mostly idle loop: the flag is set at the next check for at most 45 s, then not again for the 60 s cooldown', async () => {
    const { s, g, h } = setup();
    h.start();
    expect(g.busyCalls).toBe(1); // the first window starts at start()
    await s.advance(9_999);
    expect(g.flags).toEqual([]);
    await s.advance(1);
    expect(g.flags).toEqual([[10_000, true]]);
    expect(h.pulsing).toBe(true);
    await s.advance(44_999);
    expect(h.pulsing).toBe(true);
    await s.advance(1);
    expect(g.flags).toEqual([[10_000, true], [55_000, false]]);
    expect(h.pulsing).toBe(false);
    // the slack is still there (the fake never shrinks), but the cooldown runs until 115 s
    await s.advance(59_999);
    expect(g.flags).toHaveLength(2);
    await s.advance(1); // the check at 115 s
    expect(g.flags).toEqual([[10_000, true], [55_000, false], [115_000, true]]);
    expect(h.pulses).toBe(2);
    await s.advance(5_000);
    h.stop();
    expect(g.flags.at(-1)).toEqual([120_000, false]); // stop ends the pulse under way
    await s.advance(1_000_000);
    expect(g.flags).toHaveLength(4);
    expect(s.errors).toEqual([]);
  });

  test('a pulse ends at the first second the loop was more than half busy', async () => {
    const { s, g, h } = setup();
    h.start();
    await s.advance(10_000);
    expect(g.flags).toEqual([[10_000, true]]);
    g.load = 0.5;
    await s.advance(3_000);
    expect(h.pulsing).toBe(true);
    g.load = 0.51;
    await s.advance(999);
    expect(h.pulsing).toBe(true);
    await s.advance(1);
    expect(g.flags).toEqual([[10_000, true], [14_000, false]]);
    g.load = 0;
    await s.advance(59_999); // cooling: looks at 24, 34, …, 74 s (60 s after the end)
    expect(g.flags).toHaveLength(2);
    await s.advance(1);
    expect(g.flags.at(-1)).toEqual([74_000, true]);
    h.stop();
  });

  test('a pulse ends at the first look after V8 gave the slack back (Node 20 reduces ~8 s after the flag, Node 26 ~30 s)', async () => {
    const { s, g, h } = setup();
    h.start();
    await s.advance(10_000);
    expect(g.flags).toEqual([[10_000, true]]);
    await s.advance(7_000);
    g.committed = g.used + 16 * MB - 1; // reduced: one byte under the slack that starts a pulse
    await s.advance(999);
    expect(h.pulsing).toBe(true);
    await s.advance(1);
    expect(g.flags).toEqual([[10_000, true], [18_000, false]]);
    g.committed = 114 * MB; // a new burst: the next pulse after the 60 s cooldown (looks at 28, …, 78 s)
    await s.advance(59_999);
    expect(g.flags).toHaveLength(2);
    await s.advance(1);
    expect(g.flags.at(-1)).toEqual([78_000, true]);
    h.stop();
    expect(s.errors).toEqual([]);
  });

  test('no pulse while the loop is busy; the first check with it at most half busy pulses', async () => {
    const { s, g, h } = setup();
    g.load = 0.51;
    h.start();
    await s.advance(50_000);
    expect(g.flags).toEqual([]);
    g.load = 0.5;
    await s.advance(10_000);
    expect(g.flags).toEqual([[60_000, true]]);
    h.stop();
  });

  test('no pulse below 16 MiB of slack or below a quarter of the bytes used', async () => {
    const { s, g, h } = setup();
    g.committed = 50 * MB + 16 * MB - 1; // one byte short of 16 MiB
    h.start();
    await s.advance(30_000);
    expect(g.flags).toEqual([]);
    g.used = 200 * MB;
    g.committed = 249 * MB; // 49 MiB of slack: ≥ 16 MiB but < 200/4
    await s.advance(10_000);
    expect(g.flags).toEqual([]);
    g.committed = 250 * MB; // exactly a quarter
    await s.advance(10_000);
    expect(g.flags).toEqual([[50_000, true]]);
    h.stop();
    expect(h.pulses).toBe(1);
  });

  test('stop() outside a pulse leaves the flag alone, and start() again resumes checking', async () => {
    const { s, g, h } = setup();
    g.load = 0.9;
    h.start();
    await s.advance(10_000);
    h.stop();
    expect(g.flags).toEqual([]);
    g.load = 0;
    h.start();
    await s.advance(10_000);
    expect(g.flags).toEqual([[20_000, true]]);
    h.stop();
  });
});

describe('optimizesForSize', () => {
  test('reads the flag in either spelling from execArgv or NODE_OPTIONS', () => {
    expect(optimizesForSize(['--expose-gc'], '')).toBe(false);
    expect(optimizesForSize(['--optimize-for-size'], '')).toBe(true);
    expect(optimizesForSize([], '--max-old-space-size=100 --optimize_for_size')).toBe(true);
    expect(optimizesForSize([], '--optimize-for-sizes')).toBe(false);
  });
});

describe('the process-wide settler', () => {
  test('acquire/release: one settler shared by its holders; releasing twice counts once', () => {
    const before = heapSettlerHolders();
    const a = acquireHeapSettler();
    const b = acquireHeapSettler();
    expect(heapSettlerHolders()).toBe(before + 2);
    a!();
    a!();
    expect(heapSettlerHolders()).toBe(before + 1);
    b!();
    expect(heapSettlerHolders()).toBe(before);
  });

  test('createNode holds it on the system scheduler until close, not with heapSettle: false, an injected scheduler or UDPVAULT_HEAP_SETTLE=0', async () => {
    const env = process.env['UDPVAULT_HEAP_SETTLE'];
    const before = heapSettlerHolders();
    process.env['UDPVAULT_HEAP_SETTLE'] = '0'; // as the jest config sets it
    const quiet = await createNode({ host: '127.0.0.1', port: 0 });
    const asked = await createNode({ host: '127.0.0.1', port: 0, heapSettle: true });
    expect(heapSettlerHolders()).toBe(before + 1);
    await Promise.all([quiet.close(), asked.close()]);
    expect(heapSettlerHolders()).toBe(before);
    delete process.env['UDPVAULT_HEAP_SETTLE'];
    const n = await createNode({ host: '127.0.0.1', port: 0 });
    if (env !== undefined) process.env['UDPVAULT_HEAP_SETTLE'] = env;
    expect(heapSettlerHolders()).toBe(before + 1);
    const off = await createNode({ host: '127.0.0.1', port: 0, heapSettle: false });
    const sim = await createNode({ host: '127.0.0.1', port: 0, runtime: { scheduler: new ManualScheduler() } });
    expect(heapSettlerHolders()).toBe(before + 1);
    await Promise.all([off.close(), sim.close()]);
    expect(heapSettlerHolders()).toBe(before + 1);
    await n.close();
    expect(heapSettlerHolders()).toBe(before);
  });

  test("v8Gauge reads this process's heap and a busy share in [0, 1]", () => {
    const g = v8Gauge();
    const h = g.heap();
    expect(h.committed).toBeGreaterThanOrEqual(h.used);
    expect(h.used).toBeGreaterThan(0);
    const b = g.busy();
    expect(b).toBeGreaterThanOrEqual(0);
    expect(b).toBeLessThanOrEqual(1);
  });
});
