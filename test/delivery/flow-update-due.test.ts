import { CREDIT_RECHECK_MS, ReceiveCredit, type CreditWindow } from '../../src/delivery/flow';

/** updateDue(nowMs): the per-datagram question answered without reading the window (issue 12). */
describe('ReceiveCredit.updateDue fast path', () => {
  const counted = (w: CreditWindow): { rc: ReceiveCredit; reads: () => number; window: CreditWindow } => {
    let reads = 0;
    const window = { ...w };
    const rc = new ReceiveCredit(() => {
      reads++;
      return window;
    });
    reads = 0; // the constructor's read of the initial grant
    return { rc, reads: () => reads, window };
  };

  it('reads the window once per step of half a window, and says due at exactly the released total the full check says', () => {
    const { rc, reads } = counted({ windowBytes: 10_240, windowMessages: 10_000 });
    rc.takeLimits(); // advertised: 0 + 10 240 bytes, 10 000 messages
    expect(reads()).toBe(1);
    let dueAt = -1;
    for (let i = 1; i <= 8; i++) {
      expect(rc.onReceived(1024, 1)).toBe(true);
      rc.onReleased(1024, 1);
      if (rc.updateDue(0)) {
        dueAt = i;
        break;
      }
    }
    // Released 5 × 1024 = 5120 = half the byte window: the limits grew by 5120 ≥ 10 240 / 2.
    expect(dueAt).toBe(5);
    // Reads: takeLimits, the first updateDue (sets the quiet thresholds), the one at 5120 (threshold reached).
    expect(reads()).toBe(3);
    expect(rc.updateDue()).toBe(true); // the full check agrees
    expect(rc.takeLimits()).toEqual({ maxBytes: 5120 + 10_240, maxMessages: 10_005 });
  });

  it('matches the full check on every call of a long run with a fixed window', () => {
    const fast = new ReceiveCredit({ windowBytes: 4096, windowMessages: 6 });
    const full = new ReceiveCredit({ windowBytes: 4096, windowMessages: 6 });
    fast.takeLimits();
    full.takeLimits();
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    let dues = 0;
    for (let k = 0; k < 5000; k++) {
      const op = rnd(10);
      const bytes = 1 + rnd(900);
      if (op < 5) {
        const m = rnd(2);
        expect(fast.onReceived(bytes, m)).toBe(full.onReceived(bytes, m));
      } else if (op < 8) {
        fast.onReleased(bytes, 1);
        full.onReleased(bytes, 1);
      } else if (op < 9) {
        expect(fast.takeLimits()).toEqual(full.takeLimits());
      }
      const f = fast.updateDue(k); // ms: 1 per step, so the recheck time also passes
      expect(f).toBe(full.updateDue());
      if (f) dues++;
    }
    expect(dues).toBeGreaterThan(100); // the run exercised due answers, not only quiet ones
  });

  it('a window that grew unannounced is seen within CREDIT_RECHECK_MS; without nowMs at once', () => {
    const { rc, reads, window } = counted({ windowBytes: 1000, windowMessages: 10 });
    rc.takeLimits();
    expect(rc.updateDue(100)).toBe(false);
    window.windowBytes = 100_000; // another peer stopped waiting: our share grew, nobody said so
    expect(rc.updateDue(100 + CREDIT_RECHECK_MS - 1)).toBe(false); // quiet: no read
    expect(reads()).toBe(2);
    expect(rc.updateDue(100 + CREDIT_RECHECK_MS)).toBe(true);
    expect(reads()).toBe(3);
    expect(rc.takeLimits()).toEqual({ maxBytes: 100_000, maxMessages: 10 });
    expect(rc.updateDue(200)).toBe(false);
    window.windowBytes = 100_001;
    expect(rc.updateDue()).toBe(false); // read at once: grew by 1 < 50 000, the sender has room
    expect(reads()).toBe(6);
  });

  it('an exhausted sender is due as soon as any room exists, without waiting for the recheck', () => {
    const { rc } = counted({ windowBytes: 10_000, windowMessages: 100 });
    rc.takeLimits();
    rc.onReceived(2000, 1);
    rc.onReleased(2000, 1);
    expect(rc.updateDue(0)).toBe(false);
    expect(rc.onReceived(8000, 1)).toBe(true); // received = advertised 10 000
    expect(rc.updateDue(1)).toBe(true);
  });
});
