/**
 * The idle form of a PacketSpace (packet-space-idle.ts, issue 12): rest() drops the controller,
 * loss detector, pacer and ack ranges of an idle space, and the next use makes them again.
 * Twin runs: the same exchange with and without rests must give the same trace, step by step
 * (packet numbers, send delays, ack bytes, acked/lost packets, window, threshold, RTT).
 */
import { PacketSpace, type PacketSpaceOptions } from '../../../src/delivery/reliable/packet-space';
import { controllerFactory, type CongestionControlName } from '../../../src/delivery/congestion/select';
import { initialWindowBytes } from '../../../src/delivery/congestion/newreno';
import { IdleSpace, REST_AFTER_MS, restable } from '../../../src/delivery/reliable/packet-space-idle';
import { DEFAULT_ACK_POLICY, type AckResume } from '../../../src/delivery/reliable/ack-tracker';
import type { CongestionController } from '../../../src/delivery/congestion/controller';
import { decodeAck, MAX_ACK_BYTES } from '../../../src/wire/ack';
import { IDLE_AT, OWN_CONTROLLER_SLOTS, RECORD_SLOTS, newRecord, newRecordWithTail } from '../../../src/delivery/reliable/packet-space-record';

const MSS = 1472;

/** The receive window, as a provider (a folded space is made again with the same source: PacketSpace.fold). */
const WINDOW = { creditWindow: () => ({ windowBytes: 1_000_000, windowMessages: 1_000 }) };

const options = (cc: CongestionControlName): PacketSpaceOptions => ({
  maxDatagramBytes: MSS,
  receiveWindow: WINDOW,
  initialSendCredit: { maxBytes: 1_000_000, maxMessages: 1_000 },
  controller: controllerFactory(cc, MSS),
});
const make = (cc: CongestionControlName): PacketSpace<number> => new PacketSpace<number>(options(cc));

interface InFlight {
  at: number;
  pn: number;
  ack: Uint8Array | null;
}

/**
 * a sends to b over a 10 ms path; b acks with ack-only datagrams. `phases`: datagrams a sends
 * (dropping the packet numbers in `lose`), then an idle gap of `gapMs`; with `rest`, both sides
 * are asked to rest in each gap. Returns the trace and how often each side rested.
 */
function run(cc: CongestionControlName, rest: boolean | 'fold', phases: { send: number; lose?: number[]; gapMs: number }[], ONE_WAY_MS = 10) {
  let a = make(cc);
  let b = make(cc);
  const trace: unknown[] = [];
  const rested = { a: 0, b: 0, light: 0 };
  const folded = { a: 0, b: 0 };
  /** Folds whose controller record was the space's own (index slot −1, fold21), and a's recovery starts in them. */
  const own = { a: 0, b: 0, recoveryStarts: [] as number[] };
  /** `fold`: a resting space is folded into its record and made again from it (pack19), as PacketPath does between ticks. */
  const refold = (s: PacketSpace<number>, side: 'a' | 'b'): PacketSpace<number> => {
    const r = s.fold(t, WINDOW);
    if (r === null) return s;
    folded[side]++;
    if (r[IDLE_AT] === -1) {
      own[side]++;
      if (side === 'a') own.recoveryStarts.push(r[RECORD_SLOTS + 6]!);
    }
    // a folded space's window without making it again (PacketPath.stats), shared record or own
    expect(PacketSpace.recordFigures(r).windowBytes).toBe(s.windowBytes);
    const written = r.slice();
    const again = new PacketSpace<number>({ ...options(cc), maxDatagramBytes: PacketSpace.recordDatagramBytes(r) }, r);
    r.fill(-7); // made again: the space reads nothing more from its record (mem20: it is only the next fold's array)
    const back = again.fold(t, WINDOW);
    expect(back).toEqual(written); // every field as it was
    // folded again into the array it was made from (mem20: no new array per rest), also with a
    // controller state of its own or ranges after the slots (fold21)
    expect(back).toBe(r);
    return again;
  };
  let t = 0;
  let toB: InFlight[] = [];
  let toA: InFlight[] = [];
  const hex = (u: Uint8Array | null): string | null => (u ? Buffer.from(u).toString('hex') : null);
  const step = (lose: Set<number>, want: number): number => {
    for (const d of toB.filter((x) => x.at <= t)) trace.push(['b.recv', d.pn, b.onPacketReceived(d.pn, true, t)]);
    toB = toB.filter((x) => x.at > t);
    const ack = b.ackToSend(t);
    if (ack) trace.push(['b.ack', t, hex(ack)]);
    if (ack) toA.push({ at: t + ONE_WAY_MS, pn: b.onDatagramSent(t, 60, false), ack });
    for (const d of toA.filter((x) => x.at <= t)) {
      trace.push(['a.recv', d.pn, a.onPacketReceived(d.pn, false, t)]);
      const r = a.onAckFrame(d.ack!, t);
      trace.push(['a.ack', t, r.acked.map((p) => p.pn), r.lost.map((p) => p.pn), r.rttUpdated, a.windowBytes, a.ssthreshBytes, a.rtt.smoothedMs, a.rtt.minMs]);
    }
    toA = toA.filter((x) => x.at > t);
    const due = a.deadline();
    if (due !== null && due <= t) {
      const r = a.onTimeout(t);
      trace.push(['a.timeout', t, r.lost.map((p) => p.pn), r.probes]);
    }
    let sent = 0;
    while (sent < want) {
      const delay = a.sendDelay(t, MSS);
      if (delay !== 0) {
        trace.push(['a.delay', t, delay]);
        break;
      }
      const piggy = a.ackToSend(t, true);
      const pn = a.onDatagramSent(t, MSS, true, [sent]);
      trace.push(['a.sent', t, pn, hex(piggy), a.bytesInFlight]);
      if (a.resting) rested.light++; // sent on the light path (packet-space-idle.ts): still in the idle form
      if (!lose.has(pn)) toB.push({ at: t + ONE_WAY_MS, pn, ack: null });
      sent++;
    }
    return sent;
  };
  for (const ph of phases) {
    const lose = new Set(ph.lose ?? []);
    let left = ph.send;
    while (left > 0 || toA.length > 0 || toB.length > 0 || a.deadline() !== null) {
      left -= step(lose, left);
      t++;
      if (t > 1e6) throw new Error('no progress');
    }
    t += ph.gapMs;
    if (rest) {
      if (a.rest(t)) rested.a++;
      if (b.rest(t)) rested.b++;
    }
    if (rest === 'fold') {
      a = refold(a, 'a');
      b = refold(b, 'b');
    }
    trace.push(['gap', t, a.windowBytes, a.bytesInFlight, a.lostPackets, b.windowBytes]);
  }
  return { trace, rested, folded, own, a, b };
}

describe('PacketSpace idle form', () => {
  const phases = [
    { send: 60, gapMs: 3_000 }, // slow start well past the initial window: a cannot rest yet
    { send: 1, gapMs: 3_000 }, // a keepalive restarts the window (idle-restart.ts): now it rests
    { send: 80, lose: [70, 71, 90], gapMs: 3_000 }, // losses: a finite slow-start threshold
    { send: 1, gapMs: 3_000 },
    { send: 120, gapMs: 2_000 }, // slow start to the threshold, then congestion avoidance
    { send: 1, lose: [263], gapMs: 5_000 }, // a lost keepalive: its probe timeouts run first
    { send: 3, gapMs: 3_000 },
  ];

  it.each(['cubic', 'newreno'] as const)('%s: rests between exchanges and behaves exactly as a space that never rested (losses, slow start, avoidance, probe timeouts)', (cc) => {
    const plain = run(cc, false, phases);
    const resting = run(cc, true, phases);
    expect(resting.trace).toEqual(plain.trace);
    // a rests in every gap but those after bulk phases whose window ended above the initial one
    // (NewReno's halving on the losses took it below); b rests in every gap, also once the losses
    // left gaps in its ack ranges (here nothing prunes them: b sends only pure acks; memheap17 —
    // it stayed awake from then on, 2 rests), and acks the same bytes.
    // The first packet after each rest went on the light path (the lost keepalive's probe timeout
    // woke it; the second of the last phase's three woke it, the first replayed) but for CUBIC's
    // keepalive in congestion avoidance below 10 datagrams, where a fresh queue-delay signal could cut.
    expect(resting.rested).toEqual(cc === 'cubic' ? { a: 4, b: 7, light: 3 } : { a: 5, b: 7, light: 4 });
    expect(plain.rested).toEqual({ a: 0, b: 0, light: 0 });
    // What an idle peer keeps: the RTT estimate, the window and threshold, the loss count.
    expect(resting.a.resting).toBe(true);
    expect([resting.a.rtt.smoothedMs, resting.a.rtt.minMs, resting.a.windowBytes, resting.a.lostPackets]).toEqual([plain.a.rtt.smoothedMs, plain.a.rtt.minMs, plain.a.windowBytes, plain.a.lostPackets]);
    expect(resting.a.lostPackets).toBeGreaterThanOrEqual(3);
    expect(resting.a.cc.ssthreshBytes).toBe(plain.a.cc.ssthreshBytes);
    expect(resting.a.cc.ssthreshBytes).toBeLessThan(Infinity);
  });

  it.each(['cubic', 'newreno'] as const)('%s: folded into one record in each gap where it rests and made again from it (pack19): the same trace as a space that never rested', (cc) => {
    const plain = run(cc, false, phases);
    const resting = run(cc, true, phases);
    const folding = run(cc, 'fold', phases);
    expect(folding.trace).toEqual(plain.trace);
    expect(folding.rested).toEqual(resting.rested);
    // every rest of a and b was a fold too: the gaps b kept after the losses ride in the record
    expect(folding.folded).toEqual({ a: resting.rested.a, b: resting.rested.b });
    expect([folding.a.rtt.smoothedMs, folding.a.windowBytes, folding.a.lostPackets, folding.a.cc.ssthreshBytes]).toEqual([plain.a.rtt.smoothedMs, plain.a.windowBytes, plain.a.lostPackets, plain.a.cc.ssthreshBytes]);
  });

  it('a long path folded in every gap: the same trace', () => {
    const slow = [{ send: 60, lose: [20], gapMs: 1_500 }, { send: 1, gapMs: 1_500 }, { send: 8, gapMs: 1_200 }, { send: 30, gapMs: 4_000 }, { send: 2, gapMs: 1_100 }];
    const plain = run('cubic', false, slow, 1_500);
    const folding = run('cubic', 'fold', slow, 1_500);
    expect(folding.trace).toEqual(plain.trace);
    expect(folding.folded.a).toBeGreaterThanOrEqual(2);
  });

  it('folds only a resting space with nothing out or owed, and with the window source it is given (pack19)', () => {
    const s = make('newreno');
    expect(s.fold(0, WINDOW)).toBeNull(); // awake
    expect(s.rest(0)).toBe(true);
    expect(s.fold(0, { creditWindow: WINDOW.creditWindow })).toBeNull(); // another window source: it would read another
    const r = s.fold(0, WINDOW)!;
    expect(r).toHaveLength(RECORD_SLOTS);
    expect(newRecord()).toHaveLength(RECORD_SLOTS);
    s.onDatagramSent(0, 100, true, [1]); // the light path: a packet out
    expect(s.fold(1, WINDOW)).toBeNull();
    const b = make('newreno');
    b.onPacketReceived(0, true, 0);
    b.onPacketReceived(1, true, 0);
    b.ackToSend(0);
    expect(b.rest(2_000)).toBe(true);
    b.onPacketReceived(2, true, 2_010); // an ack owed (recorded at rest)
    expect([b.resting, b.fold(2_010, WINDOW)]).toEqual([true, null]);
    expect(b.ackToSend(2_040)).not.toBeNull();
    expect(b.fold(2_040, WINDOW)).not.toBeNull();
  });

  it('a long path (RTT 3 s, idle periods shorter than the RTT): behaves exactly the same', () => {
    const slow = [{ send: 60, lose: [20], gapMs: 1_500 }, { send: 1, gapMs: 1_500 }, { send: 8, gapMs: 1_200 }, { send: 30, gapMs: 4_000 }, { send: 2, gapMs: 1_100 }];
    const plain = run('cubic', false, slow, 1_500);
    const resting = run('cubic', true, slow, 1_500);
    expect(resting.trace).toEqual(plain.trace);
    expect(resting.rested.a).toBeGreaterThanOrEqual(2);
  });

  it('does not rest while anything is in flight or owed, before an idle period, or with a window above the initial one', () => {
    const a = make('cubic');
    const b = make('cubic');
    expect(a.rest(0)).toBe(true); // a new space holds nothing: rests at once
    expect(a.resting).toBe(true);
    a.onDatagramSent(0, MSS, true, [0]); // the light path: sent from the record, which keeps it in flight
    expect([a.resting, a.bytesInFlight]).toEqual([true, MSS]);
    const pto = a.deadline();
    expect(pto).toBe(a.rtt.ptoMs());
    expect(a.loss.deadline()).toBe(pto); // anything that needs the parts wakes it, the packet replayed
    expect([a.resting, a.bytesInFlight, a.loss.history.size]).toEqual([false, MSS, 1]);
    expect(a.rest(5_000)).toBe(false); // in flight
    b.onPacketReceived(0, true, 10);
    expect(b.rest(5_000)).toBe(false); // an ack is owed
    const ack = b.ackToSend(35)!;
    expect(b.rest(35)).toBe(false); // nothing owed, but something arrived less than an idle period ago
    expect(b.restAtMs()).toBe(10 + REST_AFTER_MS);
    expect(b.rest(10 + REST_AFTER_MS - 1)).toBe(false);
    expect(b.rest(10 + REST_AFTER_MS)).toBe(true);
    a.onAckFrame(ack, 40);
    expect(a.rest(REST_AFTER_MS - 1)).toBe(false); // less than an idle period since the send (at 0)
    expect(a.rest(REST_AFTER_MS)).toBe(true);
    expect([a.windowBytes, a.bytesInFlight, a.deadline(), a.ackToSend(REST_AFTER_MS)]).toEqual([initialWindowBytes(MSS), 0, null, null]);
    expect(a.resting).toBe(true); // none of those woke it
    // b rested with an ack range: a replayed old packet is still a duplicate, a new one is acknowledged
    expect(b.onPacketReceived(0, true, 2_000)).toBe(false);
    expect(b.onPacketReceived(1, true, 2_000)).toBe(true);
    expect(b.rest(3_100)).toBe(false); // an ack is owed
    expect(b.ackToSend(3_100)).not.toBeNull();
    expect(b.rest(2_000 + REST_AFTER_MS - 1)).toBe(false); // received at 2 000
    expect(b.rest(2_000 + REST_AFTER_MS)).toBe(true);
  });

  it('rests only once the pacer has refilled to its burst (what a new pacer would hold)', () => {
    const s = make('newreno');
    s.pacer.onPacketSent(0, 14_720); // the whole initial bucket went at 0 (the pacer alone: nothing in flight)
    // refill at 1.25 × 14 720 B / 333 ms ≈ 55 B/ms up to the burst of 2 datagrams (2 944 B): ~53 ms
    expect(restable(s.cc, s.loss, s.pacer, s.acks, 0, 50)).toBeNull();
    expect(restable(s.cc, s.loss, s.pacer, s.acks, 0, 54)?.pacerBudgetBytes).toBe(0);
  });

  it('a rested receiver piggybacks the same ack as one that did not rest (pure acks arrived since its last ack: no news, ack16)', () => {
    const spaces = [make('newreno'), make('newreno')];
    const acks = spaces.map((s, i) => {
      s.onPacketReceived(0, true, 0);
      s.onPacketReceived(1, true, 0);
      s.ackToSend(0);
      s.onPacketReceived(2, false, 5); // the peer's ack-only datagram: nothing owed, and no news for a piggybacked ack
      if (i === 1) expect(s.rest(2_000)).toBe(true);
      expect([s.ackToSend(2_000), s.ackToSend(2_000, true)]).toEqual([null, null]);
      s.onPacketReceived(3, false, 2_001); // recorded in the idle record (rested) or the ranges
      s.onPacketReceived(4, true, 2_002); // news: the next datagram carries an ack of 0…4
      return Buffer.from(s.ackToSend(2_010, true)!).toString('hex');
    });
    expect(acks[1]).toBe(acks[0]);
    expect(decodeAck(Buffer.from(acks[0]!, 'hex')).ranges).toEqual([{ smallest: 0, largest: 4 }]);
  });

  it('ackToSendInto writes what ackToSend gives, resting or not (the lone ack\'s form), and 0 when no ack is due', () => {
    const run = (into: boolean, rest: boolean): string[] => {
      const s = make('newreno');
      const out = new Uint8Array(MAX_ACK_BYTES);
      const take = (t: number): string => {
        if (!into) return Buffer.from(s.ackToSend(t) ?? []).toString('hex');
        const n = s.ackToSendInto(out, t);
        return Buffer.from(out.subarray(0, n)).toString('hex');
      };
      s.onPacketReceived(0, true, 0);
      s.onPacketReceived(1, true, 0);
      const first = take(1);
      if (rest) expect(s.rest(2_000)).toBe(true);
      s.onPacketReceived(2, true, 2_001); // a keepalive: the delayed ack is due 25 ms later
      return [first, take(2_010), take(2_030), take(2_031)];
    };
    const plain = run(false, false);
    expect(plain[1]).toBe(''); // not due yet
    expect(plain[3]).toBe(''); // taken
    expect(decodeAck(Buffer.from(plain[2]!, 'hex')).ranges).toEqual([{ smallest: 0, largest: 2 }]);
    expect([run(true, false), run(false, true), run(true, true)]).toEqual([plain, plain, plain]);
  });
  it('a receiver with gaps in its ack ranges rests, receives in order, acks and prunes them as one that did not rest', () => {
    const twins = [make('newreno'), make('newreno')];
    const ranges = (sp: PacketSpace<number>, t: number) => {
      const a = sp.ackToSend(t, true);
      return a === null ? null : decodeAck(a).ranges;
    };
    let t = 0;
    for (const pn of [0, 1, 2, 4, 5, 8, 9]) for (const sp of twins) sp.onPacketReceived(pn, true, t);
    t += 30;
    for (const sp of twins) expect(ranges(sp, t)).toEqual([{ smallest: 8, largest: 9 }, { smallest: 4, largest: 5 }, { smallest: 0, largest: 2 }]);
    t += REST_AFTER_MS + 1;
    expect(twins[0]!.rest(t)).toBe(true); // three ranges: it rests (it stayed awake before)
    // the next keepalive, in order: recorded in the idle form, its ack carries the gaps
    for (const sp of twins) sp.onPacketReceived(10, true, t);
    expect(twins[0]!.resting).toBe(true);
    t += 30;
    const want = [{ smallest: 8, largest: 10 }, { smallest: 4, largest: 5 }, { smallest: 0, largest: 2 }];
    expect([ranges(twins[0]!, t), ranges(twins[1]!, t)]).toEqual([want, want]);
    // the peer acknowledged a packet of ours carrying an ack up to 1, then 5, then 7: the ranges below go
    let top = 10;
    for (const [pn, below] of [
      [1, [{ smallest: 4, largest: 5 }, { smallest: 1, largest: 2 }]],
      [5, [{ smallest: 5, largest: 5 }]],
      [7, []],
    ] as const) {
      t += REST_AFTER_MS + 1;
      expect(twins[0]!.rest(t)).toBe(true);
      for (const sp of twins) {
        sp.pruneAcksBelow(pn);
        sp.onPacketReceived(top + 1, true, t); // the next keepalive
      }
      top++;
      expect(twins[0]!.resting).toBe(true); // pruned and received in the idle form
      t += 30;
      const want = [{ smallest: 8, largest: top }, ...below];
      expect([ranges(twins[0]!, t), ranges(twins[1]!, t)]).toEqual([want, want]);
      expect(twins[0]!.acks.rangeCount).toBe(want.length); // waking makes the same ranges
    }
  });
  it.each(['cubic', 'newreno'] as const)('%s: rests in a recovery period once nothing is in flight (the period kept), and behaves exactly as a space that never rested', (cc) => {
    const lossy = [{ send: 8, lose: [3, 4, 5], gapMs: 3_000 }];
    const plain1 = run(cc, false, lossy);
    const resting1 = run(cc, true, lossy);
    expect(plain1.a.cc.inRecovery).toBe(true); // the losses' period: nothing sent after its start was acknowledged
    expect(plain1.a.bytesInFlight).toBe(0);
    expect(resting1.rested.a).toBe(1); // it stayed awake in recovery before (memheap17)
    expect(resting1.a.resting).toBe(true);
    expect([resting1.a.cc.inRecovery, resting1.a.cc.recoveryStartMs, resting1.a.windowBytes]).toEqual([true, plain1.a.cc.recoveryStartMs, plain1.a.windowBytes]);
    // then: a keepalive (its ack ends the period), more losses, a lost keepalive, small exchanges
    const phases = [...lossy, { send: 1, gapMs: 3_000 }, { send: 9, lose: [14, 15, 16], gapMs: 3_000 }, { send: 1, lose: [21], gapMs: 5_000 }, { send: 4, gapMs: 3_000 }];
    const plain = run(cc, false, phases);
    const resting = run(cc, true, phases);
    expect(resting.trace).toEqual(plain.trace);
    expect(resting.rested.a).toBe(phases.length);
  });
});

/** A controller state no other space has (a fake controller: gain 0, no light path). */
const uniqueController = (k: number, more: Partial<CongestionController> = {}): CongestionController =>
  ({ maxDatagramBytes: MSS, windowBytes: 7_000 + k + 0.25, ssthreshBytes: 9_000 + k, inRecovery: false, ...more }) as unknown as CongestionController;
/** The record's slots and what follows them, as PacketSpace.fold writes them. */
const recordOf = (idle: IdleSpace): number[] => {
  const r = newRecordWithTail(idle.recordTailSlots());
  expect(idle.writeRecord(r, IDLE_AT, DEFAULT_ACK_POLICY)).toBe(true);
  idle.writeRecordTail(r);
  return r;
};
const NO_ACKS: AckResume = { policy: DEFAULT_ACK_POLICY, floor: 0, smallest: -1, largest: -1, largestReceivedAtMs: 0, duplicates: 0, changed: false, lower: null };

describe('PacketSpace folded with a controller state of its own (fold21: the shared table of 256 records full)', () => {
  beforeAll(() => {
    // fill the process-wide table (RECORDS = 256; this file's earlier tests took some): 300 distinct states
    for (let k = 0; k < 300; k++) new IdleSpace(uniqueController(k), 0, 0, NO_ACKS);
    // it is full: a new state is a space's own (index −1 in its record)
    const r = newRecord();
    expect(new IdleSpace(uniqueController(1_000), 0, 0, NO_ACKS).writeRecord(r, IDLE_AT, DEFAULT_ACK_POLICY)).toBe(true);
    expect(r[IDLE_AT]).toBe(-1);
  });

  it('an own controller record and ack ranges below the one range: written after the slots and read back exactly', () => {
    const cc = uniqueController(2_000, { ssthreshBytes: Infinity, recoveryStartMs: 12_345.5, inRecovery: true, lastMaxWindowBytes: 31_000.75, avoidanceAckedBytes: 1_234 } as Partial<CongestionController>);
    const idle = new IdleSpace(cc, 77, 4_416.5, { ...NO_ACKS, floor: 0, smallest: 8, largest: 9, largestReceivedAtMs: 500, lower: [4, 5, 0, 2] });
    const full = recordOf(idle);
    const first = full.slice();
    // the layout: index −1, then after the 28 slots the controller's 8 values, then the ranges
    expect(full[IDLE_AT]).toBe(-1);
    expect(full.slice(RECORD_SLOTS)).toEqual([0, MSS, 7_000 + 2_000 + 0.25, Infinity, 31_000.75, 1_234, 12_345.5, 1, 4, 5, 0, 2]);
    expect(full).toHaveLength(RECORD_SLOTS + OWN_CONTROLLER_SLOTS + 4);
    expect(IdleSpace.recordWindowBytes(full, IDLE_AT)).toBe(9_000.25);
    const back = IdleSpace.fromRecord(full, IDLE_AT, DEFAULT_ACK_POLICY);
    full.fill(-7); // read back: nothing more is read from the record
    const fields = (x: IdleSpace) => [x.maxDatagramBytes, x.windowBytes, x.ssthreshBytes, x.lastMaxWindowBytes, x.avoidanceAckedBytes, x.recoveryStartMs, x.inRecovery, x.nextPacketNumber, x.pacerBudgetBytes, x.smallest, x.largest, x.largestReceivedAtMs, x.lower];
    expect(fields(back)).toEqual(fields(idle));
    expect(fields(back)).toEqual([MSS, 9_000.25, Infinity, 31_000.75, 1_234, 12_345.5, true, 77, 4_416.5, 8, 9, 500, [4, 5, 0, 2]]);
    // written again from what was read: the same record
    expect(recordOf(back)).toEqual(first);
    // no recovery (−Infinity kept), no ranges: the 8 values only
    const plain = new IdleSpace(uniqueController(2_001), 3, 0, NO_ACKS);
    expect(recordOf(plain).slice(RECORD_SLOTS)).toEqual([0, MSS, 9_001.25, 11_001, 0, 0, -Infinity, 0]);
  });

  it.each(['cubic', 'newreno'] as const)('%s: after losses (recovery start, threshold, W_max of its own) folded in every gap where it rests: the same trace as a space that never rested', (cc) => {
    // a path (13 ms one way) and losses no test above ran: states the full table does not hold
    const phases = [{ send: 9, lose: [2, 5, 6], gapMs: 3_000 }, { send: 1, gapMs: 3_000 }, { send: 9, lose: [13, 16, 17], gapMs: 3_000 }, { send: 1, lose: [21], gapMs: 5_000 }, { send: 4, gapMs: 3_000 }];
    const plain = run(cc, false, phases, 13);
    const resting = run(cc, true, phases, 13);
    const folding = run(cc, 'fold', phases, 13);
    expect(folding.trace).toEqual(plain.trace);
    expect(folding.rested).toEqual(resting.rested);
    // every rest was a fold: the table full no longer blocks one (each fold's round trip is exact: run's refold)
    expect(folding.folded).toEqual({ a: resting.rested.a, b: resting.rested.b });
    expect(folding.folded.a).toBe(phases.length);
    // every fold of a had a controller record of its own, its recovery start in it (b's controller never
    // left the initial state: its record is shared unless this test runs alone)
    const second = cc === 'cubic' ? 6_121 : 6_122; // the second losses' period (the first: at 26 ms)
    expect([folding.own.a, folding.own.recoveryStarts]).toEqual([5, [26, 26, second, second, second]]);
    expect(plain.a.cc.recoveryStartMs).toBe(second);
    expect([folding.a.rtt.smoothedMs, folding.a.windowBytes, folding.a.lostPackets, folding.a.cc.ssthreshBytes, folding.a.cc.recoveryStartMs]).toEqual([plain.a.rtt.smoothedMs, plain.a.windowBytes, plain.a.lostPackets, plain.a.cc.ssthreshBytes, plain.a.cc.recoveryStartMs]);
  });
});
