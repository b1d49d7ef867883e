/**
 * ReliableSender's peeked item: chosen once with the window and credit of then, it is not
 * checked against the credit again while it waits (the packer asks hasWork, peeks and takes per
 * item); a restarted peer's credit (creditRestarted) makes it be chosen again.
 */
import { ManualClock } from '../../src/runtime/clock';
import { ReliableSender, type SenderCredit } from '../../src/delivery/reliable-sender';

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

function creditStub(): SenderCredit & { allow: boolean; asked: number; sent: number[][] } {
  return {
    allow: true,
    asked: 0,
    sent: [],
    blocked: false,
    canSend(): boolean {
      this.asked++;
      return this.allow;
    },
    onSent(bytes: number, messages: number): void {
      this.sent.push([bytes, messages]);
    },
    refund(): void {},
  };
}

describe('ReliableSender peeked item', () => {
  it('is checked against the credit once; creditRestarted() makes it be chosen again', () => {
    const credit = creditStub();
    const s = new ReliableSender({ clock: new ManualClock(), stream: 5, window: 8, packetLoss: true, credit });
    void s.push(b(1, 2, 3), 0, 1e9);
    void s.push(b(4), 0, 1e9);
    expect(s.hasWork()).toBe(true);
    expect(credit.asked).toBe(1);
    const first = s.peekItem();
    expect([first?.id, credit.asked]).toEqual([1, 2]);
    expect([s.hasWork(), s.peekItem(), s.hasWork(), s.peekItem()]).toEqual([true, first, true, first]);
    expect(credit.asked).toBe(2); // the peeked item is not checked again
    expect(s.creditRestarted()).toEqual({ bytes: 0, messages: 0 }); // nothing sent yet
    credit.allow = false;
    expect([s.hasWork(), s.peekItem()]).toEqual([false, null]);
    expect(credit.asked).toBe(4);
    credit.allow = true;
    const again = s.peekItem();
    expect(again).not.toBe(first); // chosen (and built) again
    expect([again?.id, credit.asked]).toEqual([1, 5]);
    expect(s.takePeeked(10)).toBe(again);
    expect(credit.sent).toEqual([[3, 1]]);
    expect(s.hasWork()).toBe(true); // seq 2 not peeked yet: asked
    expect(credit.asked).toBe(6);
  });
});
