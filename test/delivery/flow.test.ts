import { ReceiveCredit, SendCredit } from '../../src/delivery/flow';

describe('flow control credit', () => {
  it('receiver grants released + window, refuses what goes past it, and never retracts', () => {
    const rc = new ReceiveCredit({ windowBytes: 10_000, windowMessages: 4 });
    expect(rc.takeLimits()).toEqual({ maxBytes: 10_000, maxMessages: 4 });
    expect(rc.onReceived(6000, 1)).toBe(true);
    expect(rc.onReceived(4000, 1)).toBe(true);
    expect(rc.onReceived(1, 0)).toBe(false); // window full
    expect([rc.violations, rc.bufferedBytes, rc.bufferedMessages]).toEqual([1, 10_000, 2]);
    expect(rc.updateDue()).toBe(false);
    rc.onReleased(6000, 1); // the reader took the first message
    expect(rc.limits()).toEqual({ maxBytes: 16_000, maxMessages: 5 });
    expect(rc.updateDue()).toBe(true); // grew by ≥ half a window (and the sender was blocked)
    expect(rc.takeLimits()).toEqual({ maxBytes: 16_000, maxMessages: 5 });
    expect(rc.updateDue()).toBe(false);
    rc.setWindow({ windowBytes: 1000, windowMessages: 1 }); // budget shrinks: advertised stays
    expect(rc.limits()).toEqual({ maxBytes: 16_000, maxMessages: 5 });
    expect(rc.onReceived(6000, 1)).toBe(true);
    expect(rc.onReceived(1, 0)).toBe(false);
  });

  it('a small release to a blocked sender is a due update; to a busy one it waits for the next ack', () => {
    const rc = new ReceiveCredit({ windowBytes: 10_000, windowMessages: 100 });
    rc.takeLimits();
    rc.onReceived(2000, 1);
    rc.onReleased(2000, 1);
    expect(rc.updateDue()).toBe(false); // +2000 < 5000 and the sender still has room
    rc.onReceived(10_000, 1); // sender used everything advertised (12 000 − 2000 released earlier)
    expect(rc.updateDue()).toBe(true);
  });

  it('sender pauses without loss, resumes on credit, and ignores stale credit', () => {
    const sc = new SendCredit({ maxBytes: 3000, maxMessages: 2 });
    expect(sc.canSend(2000, 1)).toBe(true);
    sc.onSent(2000, 1);
    expect(sc.canSend(1500, 1)).toBe(false);
    expect([sc.blocked, sc.blockedEpisodes, sc.availableBytes]).toEqual([true, 1, 1000]);
    expect(sc.canSend(1500, 1)).toBe(false);
    expect(sc.blockedEpisodes).toBe(1); // one episode, however often it asks
    expect(sc.onCredit({ maxBytes: 2500, maxMessages: 1 })).toBe(false); // stale: nothing shrinks
    expect(sc.limits).toEqual({ maxBytes: 3000, maxMessages: 2 });
    expect(sc.onCredit({ maxBytes: 6000, maxMessages: 3 })).toBe(true);
    expect([sc.blocked, sc.canSend(1500, 1)]).toEqual([false, true]);
    const mp = new SendCredit({ maxBytes: 100_000, maxMessages: 1 });
    mp.onSent(10, 1);
    expect(mp.canSend(10, 0)).toBe(true); // more fragments of a started message
    expect(mp.canSend(10, 1)).toBe(false); // a new message
  });
});
