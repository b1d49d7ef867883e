import { NewReno } from '../../../src/delivery/congestion/newreno';
import { LossDetector } from '../../../src/delivery/reliable/loss';
import { RttStats } from '../../../src/delivery/reliable/rtt';
import { DropError } from '../../../src/errors';
import type { AckRange } from '../../../src/wire/ack';

const MSS = 1200;
function setup() {
  const rtt = new RttStats();
  const cc = new NewReno({ rtt, maxDatagramBytes: MSS });
  const ld = new LossDetector<string>({ rtt, cc });
  return { rtt, cc, ld };
}
const r = (smallest: number, largest = smallest): AckRange => ({ smallest, largest });
const pns = (ps: readonly { pn: number }[]): number[] => ps.map((p) => p.pn);

describe('LossDetector (RFC 9002 §6)', () => {
  it('declares loss by packet threshold (3) at once and by time threshold (9/8 × RTT) at the loss timer', () => {
    const { rtt, cc, ld } = setup();
    for (let k = 0; k < 5; k++) expect(ld.onPacketSent(0, MSS, true, [`f${k}`])).toBe(k);
    expect(ld.bytesInFlight).toBe(6000);
    const res = ld.onAckReceived([r(4)], 0, 100);
    expect(pns(res.acked)).toEqual([4]);
    expect(pns(res.lost)).toEqual([0, 1]); // 4 ≥ pn + 3
    expect(res.lost.map((p) => p.frames[0])).toEqual(['f0', 'f1']);
    expect([res.rttUpdated, rtt.latestMs, rtt.smoothedMs]).toEqual([true, 100, 100]);
    expect(ld.bytesInFlight).toBe(2400);
    // One congestion event: 12000 → 6000
    expect([cc.windowBytes, cc.ssthreshBytes, cc.inRecovery]).toEqual([6000, 6000, true]);
    // 2 and 3: lost once 9/8 × 100 = 112.5 ms passed since they were sent
    expect(ld.deadline()).toBe(112.5);
    expect(ld.onTimeout(112)).toEqual({ lost: [], probes: 0 });
    const t = ld.onTimeout(112.5);
    expect([pns(t.lost), t.probes]).toEqual([[2, 3], 0]);
    expect(ld.bytesInFlight).toBe(0);
    expect(cc.windowBytes).toBe(6000); // sent before the recovery started: no second reduction
    expect([ld.lostPackets, ld.lostBytes, ld.deadline()]).toEqual([4, 4800, null]);
  });

  it('a loss timer that fires exactly at its deadline finds the packet lost (no float drift)', () => {
    const { ld } = setup();
    ld.onPacketSent(0.1, MSS, true);
    ld.onPacketSent(0.1, MSS, true);
    ld.onAckReceived([r(1)], 0, 1.8); // latest 1.7 → loss delay 9/8 × 1.7
    const due = ld.deadline()!;
    expect(due).toBe(0.1 + (9 / 8) * 1.7);
    expect(due - (9 / 8) * 1.7).toBeLessThan(0.1); // now − delay would miss it
    expect(pns(ld.onTimeout(due).lost)).toEqual([0]);
    expect(ld.deadline()).toBeNull();
  });

  it('an ack that covers nothing new returns at once: no packet visited, no state changed', () => {
    const { rtt, cc, ld } = setup();
    for (let k = 0; k < 1000; k++) ld.onPacketSent(k, MSS, true);
    ld.onAckReceived([r(1, 999)], 0, 1100); // 0 is lost by packet threshold
    const before = [rtt.smoothedMs, rtt.rttvarMs, cc.windowBytes, ld.bytesInFlight, ld.lostPackets];
    ld.history.visits = 0;
    for (let k = 0; k < 100; k++) {
      const res = ld.onAckReceived([r(1, 999)], 0, 1200 + k);
      expect(res).toEqual({ acked: [], lost: [], rttUpdated: false, persistentCongestion: false });
    }
    expect(ld.history.visits).toBe(0);
    expect([rtt.smoothedMs, rtt.rttvarMs, cc.windowBytes, ld.bytesInFlight, ld.lostPackets]).toEqual(before);
  });

  it('refuses an ack for a packet number never sent', () => {
    const { ld } = setup();
    ld.onPacketSent(0, MSS, true);
    expect(() => ld.onAckReceived([r(1)], 0, 10)).toThrow(DropError);
    expect(() => ld.onAckReceived([r(1)], 0, 10)).toThrow('ack for a packet number not sent yet');
  });

  it('takes an RTT sample only when the largest acknowledged is newly acknowledged', () => {
    const { rtt, ld } = setup();
    ld.onPacketSent(0, MSS, true);
    ld.onPacketSent(0, MSS, true);
    expect(ld.onAckReceived([r(1)], 5, 50).rttUpdated).toBe(true);
    expect([rtt.latestMs, ld.deadline()]).toEqual([50, 56.25]); // pn 0: time threshold pending
    const res = ld.onAckReceived([r(0, 1)], 0, 55); // 0 newly acked, largest (1) is not
    expect([pns(res.acked), res.rttUpdated, rtt.latestMs]).toEqual([[0], false, 50]);
  });

  it('does not number-track ack-only datagrams and never arms a timer for them', () => {
    const { ld } = setup();
    expect(ld.onPacketSent(0, 60, false)).toBe(0);
    expect([ld.bytesInFlight, ld.deadline(), ld.history.size, ld.nextPacketNumber]).toEqual([0, null, 0, 1]);
  });

  it('arms the probe timeout from the last ack-eliciting packet and doubles it per PTO', () => {
    const { ld } = setup();
    ld.onPacketSent(0, MSS, true);
    expect(ld.deadline()).toBe(1024); // 333 + 4 × 166.5 + 25
    expect(ld.onTimeout(1023).probes).toBe(0);
    expect(ld.onTimeout(1024)).toEqual({ lost: [], probes: 2 });
    expect([ld.ptoCount, ld.deadline()]).toEqual([1, 2048]);
    ld.onPacketSent(1024, MSS, true); // the probe
    ld.onPacketSent(1024, MSS, true);
    expect(ld.deadline()).toBe(1024 + 2048);
    expect(ld.oldestUnacked()?.pn).toBe(0);
    ld.onAckReceived([r(1, 2)], 0, 1124);
    expect(ld.ptoCount).toBe(0);
  });

  it('caps the backed-off PTO', () => {
    const rtt = new RttStats();
    const ld = new LossDetector<string>({ rtt, cc: new NewReno({ rtt }), maxPtoMs: 5000 });
    ld.onPacketSent(0, MSS, true);
    for (let k = 0; k < 10; k++) ld.onTimeout(ld.deadline()!);
    expect([ld.ptoCount, ld.ptoPeriodMs(), ld.deadline()]).toEqual([10, 5000, 5000]);
  });

  describe('persistent congestion (§7.6)', () => {
    // After the first sample (100 ms): srtt 100, rttvar 50, PTO 100 + 200 + 25 = 325, × 3 = 975 ms.
    function blackout(ackAlsoPn5: boolean) {
      const s = setup();
      s.ld.onPacketSent(0, MSS, true);
      s.ld.onAckReceived([r(0)], 0, 100);
      for (let k = 1; k <= 10; k++) s.ld.onPacketSent(200 * k, MSS, true); // pn 1…10 at 200…2000
      s.ld.onPacketSent(2100, MSS, true); // pn 11
      const ranges = ackAlsoPn5 ? [r(11), r(5)] : [r(11)];
      return { ...s, res: s.ld.onAckReceived(ranges, 0, 2200) };
    }
    it('collapses the window to 2 × MSS when losses span more than 3 × PTO', () => {
      const { cc, ld, res } = blackout(false);
      expect(pns(res.lost)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(res.persistentCongestion).toBe(true);
      // RFC 9002 B.8 order: losses first (window → 2 × 1200, recovery cleared), then the ack of
      // pn 11 grows it in slow start by its 1200 bytes.
      expect([cc.windowBytes, cc.ssthreshBytes, ld.persistentCongestionEvents]).toEqual([3600, 6000, 1]);
    });
    it('does not when a packet between them was acknowledged (two runs of 600 and 800 ms)', () => {
      const { cc, res } = blackout(true);
      expect(pns(res.lost)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
      expect(res.persistentCongestion).toBe(false);
      expect(cc.windowBytes).toBeGreaterThan(2400);
    });
    it('ignores packets sent before the first RTT sample', () => {
      const { cc, ld } = setup();
      for (let k = 0; k <= 10; k++) ld.onPacketSent(200 * k, MSS, true); // no sample before pn 10's ack
      const res = ld.onAckReceived([r(10)], 0, 2100);
      expect([pns(res.lost), res.persistentCongestion]).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], false]);
      expect(cc.windowBytes).toBe(6000); // one halving only; pn 10 was sent before the recovery began: no growth
    });
  });

  it('resetForNewPath: fresh RTT and window; old packets stop counting but keep their frames', () => {
    const { rtt, cc, ld } = setup();
    ld.onPacketSent(0, MSS, true, ['old']);
    ld.onAckReceived([r(0)], 0, 50);
    for (let k = 1; k <= 4; k++) ld.onPacketSent(60, MSS, true, [`o${k}`]);
    expect(ld.bytesInFlight).toBe(4800);
    ld.resetForNewPath();
    expect([ld.bytesInFlight, rtt.hasSample, rtt.smoothedMs, cc.windowBytes]).toEqual([0, false, 333, 12000]);
    ld.onPacketSent(100, MSS, true, ['new']); // pn 5
    expect(ld.bytesInFlight).toBe(1200);
    const res = ld.onAckReceived([r(4)], 0, 400); // an old-path packet: no RTT sample, no window change
    expect([pns(res.acked), res.rttUpdated, rtt.hasSample, ld.bytesInFlight, cc.windowBytes]).toEqual([[4], false, false, 1200, 12000]);
    expect(res.lost.map((p) => p.frames[0])).toEqual(['o1']); // still reported for requeueing
    expect(cc.windowBytes).toBe(12000);
  });
});
