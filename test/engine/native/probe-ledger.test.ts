/**
 * ProbeLedger (src/engine/native/probe-ledger.ts): one probe send bracketed at a time per family,
 * node-wide; growth inside brackets is attributed to the probe and "explained", so count() shows
 * only fragments from elsewhere.
 */
import { ProbeLedger } from '../../../src/engine/native/probe-ledger';

/** A kernel counter per family that the test bumps. */
function kernel(): { counter: { 4: number; 6: number }; read: (f: 4 | 6) => number } {
  const counter = { 4: 100, 6: 7 };
  return { counter, read: (f) => counter[f] };
}

test('a bracket gives its probe the fragments created across its send; they are explained, not counted again', () => {
  const k = kernel();
  const l = new ProbeLedger(k.read);
  expect(l.open(4, 'p', () => undefined)).toBe(100);
  k.counter[4] += 2; // the kernel fragments the probe inside the send
  expect(l.close(4)).toBe(2);
  expect(l.count(4)).toBe(100); // net of the probe's own fragments
  k.counter[4] += 1; // someone else
  expect(l.count(4)).toBe(101);
  expect(l.open(4, 'p', () => undefined)).toBe(101);
  expect(l.close(4)).toBe(0);
});

test('one bracket open per family, node-wide: a second probe waits and is woken when the first closes; the other family is independent', () => {
  const k = kernel();
  const turnEnd: Array<() => void> = [];
  const l = new ProbeLedger(k.read, (fn) => turnEnd.push(fn));
  const woken: string[] = [];
  expect(l.open(4, 'x', () => woken.push('x'))).toBe(100);
  expect(l.open(4, 'y', () => woken.push('y'))).toBeNull();
  expect(l.open(4, 'y', () => woken.push('y'))).toBeNull(); // the same waiter asking twice is woken once
  expect(l.open(4, 'z', () => woken.push('z'))).toBeNull();
  expect(l.open(4, 'w', () => woken.push('w'))).toBeNull();
  expect(l.open(6, 'v6', () => woken.push('v6'))).toBe(7);
  k.counter[4] += 4;
  expect(woken).toEqual([]);
  expect(l.close(4)).toBe(4);
  // the first waiter only: it takes the bracket in its flush, the others go on waiting
  expect(woken).toEqual(['y']);
  expect(l.open(4, 'y', () => undefined)).toBe(100);
  turnEnd.splice(0).forEach((f) => f());
  expect(woken).toEqual(['y']);
  expect(l.close(4)).toBe(0);
  expect(woken).toEqual(['y', 'z']);
  // z no longer needs a probe (it opens nothing this turn): at the turn's end the next waiter is woken
  turnEnd.splice(0).forEach((f) => f());
  expect(woken).toEqual(['y', 'z', 'w']);
  turnEnd.splice(0).forEach((f) => f());
  expect(woken).toEqual(['y', 'z', 'w']); // nobody left
  expect(l.open(4, 'w', () => undefined)).toBe(100);
  expect(l.close(6)).toBe(0);
});

test('closing with no bracket open reports nothing; an unreadable counter opens no bracket', () => {
  const l = new ProbeLedger(() => undefined);
  expect(l.close(4)).toBeUndefined();
  expect(l.open(4, 'p', () => undefined)).toBeUndefined();
  expect(l.open(4, 'q', () => undefined)).toBeUndefined(); // no bracket was opened: nothing to wait for
  expect(l.count(4)).toBeUndefined();
});

test('while a bracket is open, growth since it opened belongs to its probe, not counted against others acknowledged meanwhile', () => {
  const k = kernel();
  const l = new ProbeLedger(k.read);
  expect(l.open(4, 'p', () => undefined)).toBe(100);
  k.counter[4] += 2;
  expect(l.count(4)).toBe(100);
  expect(l.close(4)).toBe(2);
  expect(l.count(4)).toBe(100);
});

test("the node's one wake-up function is called with each waiter (no closure per waiting probe)", () => {
  const k = kernel();
  const turnEnd: Array<() => void> = [];
  const woken: unknown[] = [];
  const l = new ProbeLedger(k.read, (fn) => turnEnd.push(fn), (w) => woken.push(w));
  const peerA = { name: 'a' };
  const peerB = { name: 'b' };
  expect(l.open(4, peerA, l.wakeWaiter)).toBe(100);
  expect(l.open(4, peerB, l.wakeWaiter)).toBeNull();
  expect(l.open(4, peerB, l.wakeWaiter)).toBeNull();
  expect(l.close(4)).toBe(0);
  expect(woken).toEqual([peerB]);
  expect(woken[0]).toBe(peerB);
});
