/** observeHandshake reaches every registered sink while registered, and only valid durations. */
import { observeHandshake, onHandshake } from '../../src/metrics/hooks';

test('sinks receive valid durations until removed; the same function registered twice counts twice', () => {
  const seen: number[] = [];
  const sink = (ms: number): void => void seen.push(ms);
  const off1 = onHandshake(sink);
  const off2 = onHandshake(sink);
  observeHandshake(12);
  observeHandshake(-1);
  observeHandshake(Number.POSITIVE_INFINITY);
  observeHandshake(Number.NaN);
  expect(seen).toEqual([12, 12]);
  off1();
  observeHandshake(0);
  expect(seen).toEqual([12, 12, 0]);
  off2();
  observeHandshake(7);
  expect(seen).toEqual([12, 12, 0]);
});
