import { Arrivals } from '../../../src/net/sim/arrivals';
import { ManualScheduler } from '../../../src/runtime/scheduler';
import { SeededRandom } from '../../../src/runtime/random';

describe('Arrivals', () => {
  test('runs each arrival at its time, ties in add order, one scheduler timer for all of them', async () => {
    const s = new ManualScheduler();
    const q = new Arrivals(s, s.clock);
    const log: string[] = [];
    const r = new SeededRandom(11);
    const expected: Array<[number, number]> = [];
    for (let i = 0; i < 500; i++) {
      const at = r.int(0, 50);
      expected.push([at, i]);
      q.add(at, () => log.push(`${s.clock.monotonic()}:${i}`));
    }
    expect(s.pendingTimers).toBe(1);
    expect(q.size).toBe(500);
    await s.advance(50);
    expected.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    expect(log).toEqual(expected.map(([at, i]) => `${at}:${i}`));
    expect(q.size).toBe(0);
    expect(s.pendingTimers).toBe(0);
  });

  test('an arrival earlier than the armed one re-arms the timer; one added while firing waits its turn', async () => {
    const s = new ManualScheduler();
    const q = new Arrivals(s, s.clock);
    const log: string[] = [];
    q.add(30, () => log.push(`late@${s.clock.monotonic()}`));
    q.add(10, () => {
      log.push(`early@${s.clock.monotonic()}`);
      q.add(10, () => log.push(`same-time@${s.clock.monotonic()}`));
    });
    s.timeout(() => log.push(`timer@${s.clock.monotonic()}`), 10);
    await s.advance(30);
    expect(log).toEqual(['early@10', 'timer@10', 'same-time@10', 'late@30']);
  });

  test('a callback that throws does not stop later arrivals', async () => {
    const s = new ManualScheduler();
    const q = new Arrivals(s, s.clock);
    const log: number[] = [];
    q.add(1, () => {
      throw new Error('x');
    });
    q.add(2, () => log.push(2));
    await s.advance(2);
    expect(log).toEqual([2]);
    expect(s.errors).toHaveLength(1);
  });
});
