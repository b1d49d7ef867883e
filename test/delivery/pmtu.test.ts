/**
 * PmtuSearch (src/delivery/pmtu.ts) driven by hand: exact probe sizes per round, when the search
 * ends, the size found, and what the kernel's fragment counter readings do to a probe.
 */
import { BLACK_HOLE_LOSSES, MAX_PROBES, PMTU_BASE_IPV4, PMTU_BASE_IPV6, PmtuSearch, RAISE_INTERVAL_MS } from '../../src/delivery/pmtu';
import { firstRoundSizes, spreadSizes } from '../../src/delivery/pmtu-rounds';

const RTT = 20;
const TIMEOUT = 3 * RTT + 25;

/** A search with a packet-number counter and the probes sent (pn → size). */
class Driver {
  readonly s: PmtuSearch;
  pn = 100;
  readonly sent: number[] = [];
  readonly bySize = new Map<number, number>();
  constructor(max = 1472, base = PMTU_BASE_IPV4, header = 28) {
    this.s = new PmtuSearch({ baseBytes: base, maxBytes: max, ipUdpHeaderBytes: header });
  }

  /** The kernel's fragment counter net of the probes' own sends (what the node's ledger reports); undefined: no counter. */
  net: number | undefined = 0;

  /**
   * Sends the whole round now (one probe per handover, as the node does); `fragmentsAt(size)`
   * is what the kernel creates across that probe's send.
   */
  sendRound(now: number, fragmentsAt: (size: number) => number = () => 0): number[] {
    const round: number[] = [];
    for (;;) {
      const size = this.s.nextProbeSize(now);
      if (size === null) break;
      const pn = this.pn++;
      this.s.onProbeSent(pn, size, now, now + TIMEOUT, this.net);
      expect(this.s.nextProbeSize(now)).toBeNull(); // the next waits for this one's handover
      this.s.onProbeHanded(pn, this.net === undefined ? undefined : fragmentsAt(size), now);
      round.push(size);
      this.sent.push(size);
      this.bySize.set(size, pn);
    }
    return round;
  }

  /** An ack covering the probes of these sizes (and packet `largest`, default the largest of them). */
  ack(sizes: number[], now: number, largest?: number): void {
    const pns = new Set(sizes.map((x) => this.bySize.get(x)!));
    this.s.onAck((pn) => pns.has(pn), largest ?? Math.max(...pns), now, RTT, this.net);
  }
}

describe('round sizes', () => {
  test('first round: the interface maximum, then common path MTUs below it, largest first', () => {
    expect(firstRoundSizes(1200, 1472, 28)).toEqual([1472, 1464, 1392, 1252]);
    expect(firstRoundSizes(1232, 1452, 48)).toEqual([1452, 1444, 1372, 1352]); // 1280 − 48 is the base: not probed
    expect(firstRoundSizes(1200, 8972, 28)).toEqual([8972, 1472, 1464, 1252]);
    expect(firstRoundSizes(1252, 1391, 28)).toEqual([1391, 1372]);
    expect(firstRoundSizes(1472, 1472, 28)).toEqual([]);
  });

  test('later rounds: from 16 above the confirmed size up to the ceiling, evenly; nothing when < 16 is left', () => {
    expect(spreadSizes(1252, 1391)).toEqual([1391, 1350, 1309, 1268]);
    expect(spreadSizes(1252, 1300)).toEqual([1300, 1284, 1268]);
    expect(spreadSizes(1252, 1283)).toEqual([1268]);
    expect(spreadSizes(1252, 1267)).toEqual([]);
  });
});

describe('PmtuSearch', () => {
  test('a clean 1500 path: the first round confirms the maximum one round trip after the start; the search ends', () => {
    const d = new Driver();
    expect(d.s.current).toBe(1200);
    expect(d.sendRound(0)).toEqual([1472, 1464, 1392, 1252]);
    expect(d.s.hasOutstanding).toBe(true);
    d.ack([1472, 1464], 20);
    expect(d.s.current).toBe(1472);
    expect(d.s.searching).toBe(false);
    expect(d.s.hasOutstanding).toBe(false); // the smaller probes are moot
    expect(d.s.deadline()).toBeNull();
    expect(d.s.nextProbeSize(20 + RAISE_INTERVAL_MS - 1)).toBeNull();
    expect(d.s.probesSent).toBe(4);
  });

  test('a 1280 hop where the kernel fragments after the first "fragmentation needed": 1252 found, ended within one RTT + 9/8 RTT', () => {
    const d = new Driver();
    expect(d.sendRound(0)).toEqual([1472, 1464, 1392, 1252]); // all leave whole with DF; the hop drops three
    d.ack([1252], 21);
    expect(d.s.current).toBe(1252); // in use from the first ack
    // The three larger were sent before the acknowledged one: lost 9/8 RTT after their send.
    expect(d.s.deadline()).toBe(22.5);
    d.s.onTimeout(22.5);
    expect(d.s.ceiling).toBe(1472);
    // The kernel learned 1280 from the ICMP: every size above it is fragmented at send (2 fragments).
    expect(d.sendRound(22.5, (size) => (size > 1252 ? 2 : 0))).toEqual([1391, 1350, 1309, 1268]);
    expect(d.s.fragmentedProbes).toBe(4);
    expect(d.s.ceiling).toBe(1267);
    expect(d.s.searching).toBe(false); // done at 22.5 ms: no retry, the fragments proved it
    expect(d.s.current).toBe(1252);
    d.ack([1391, 1350, 1309, 1268], 43); // reassembled at the peer and acknowledged: not trusted
    expect(d.s.current).toBe(1252);
    expect(d.s.nextProbeSize(43)).toBeNull();
  });

  test('an acknowledged probe whose send grew the counter is never confirmed; another process fragmenting only makes the size smaller', () => {
    const d = new Driver();
    expect(d.sendRound(0, (size) => (size === 1464 ? 1 : 0))).toEqual([1472, 1464, 1392, 1252]); // 1 fragment of someone else's during 1464's send
    expect(d.s.ceiling).toBe(1463); // 1472 was sent before and is moot now
    d.ack([1472, 1464, 1392, 1252], 20);
    expect(d.s.current).toBe(1392);
    expect(d.sendRound(20)).toEqual([1463, 1445, 1426, 1408]);
    d.ack([1463, 1445, 1426, 1408], 40);
    expect(d.s.current).toBe(1463);
    expect(d.s.searching).toBe(false);
  });

  test('fragments created between the send of a probe and its ack, not by the probe sends of the node: not trusted, the ceiling drops below it', () => {
    const d = new Driver();
    expect(d.sendRound(0)).toEqual([1472, 1464, 1392, 1252]);
    d.ack([1252], 10);
    expect(d.s.current).toBe(1252);
    d.net! += 2; // e.g. another process, or a tunnel fragmenting after the send
    d.ack([1472, 1464, 1392], 20);
    expect(d.s.current).toBe(1252);
    expect(d.s.ceiling).toBe(1391); // each acknowledged size is too big: the ceiling is below the smallest
    expect(d.sendRound(20)).toEqual([1391, 1350, 1309, 1268]);
    d.ack([1391, 1350, 1309, 1268], 40); // the counter stayed put since these were sent
    expect(d.s.current).toBe(1391);
    expect(d.s.searching).toBe(false);
  });

  test('a probe acknowledged before its send callback ran is confirmed only at the callback, with the counter read there', () => {
    const s = new PmtuSearch({ baseBytes: 1200, maxBytes: 1472 });
    expect(s.nextProbeSize(0)).toBe(1472);
    s.onProbeSent(7, 1472, 0, 100, 10);
    s.onAck((pn) => pn === 7, 7, 1, RTT, 10);
    expect(s.current).toBe(1200);
    s.onProbeHanded(7, 2, 1); // fragmented after all
    expect(s.current).toBe(1200);
    expect(s.ceiling).toBe(1471);
  });

  test('a probe made moot while being handed over teaches nothing: neither its fragments nor its loss', () => {
    const s = new PmtuSearch({ baseBytes: 1200, maxBytes: 1472 });
    s.onProbeSent(1, s.nextProbeSize(0)!, 0, 100, 5);
    s.onProbeHanded(1, 0, 0);
    expect(s.nextProbeSize(0)).toBe(1464);
    s.onProbeSent(2, 1464, 0, 100, 5);
    s.onAck((pn) => pn === 1, 1, 20, RTT, 5); // 1472 confirmed while 1464 is not handed over yet
    expect(s.current).toBe(1472);
    expect(s.searching).toBe(true); // waits for 1464's callback
    s.onProbeHanded(2, 4, 21); // fragmented (someone else's, or the path shrank): moot all the same
    expect(s.ceiling).toBe(1472);
    expect(s.searching).toBe(false);

    const t = new PmtuSearch({ baseBytes: 1200, maxBytes: 1472 });
    t.onProbeSent(1, t.nextProbeSize(0)!, 0, 100, undefined);
    t.onProbeHanded(1, undefined, 0);
    t.onProbeSent(2, t.nextProbeSize(0)!, 0, 100, 5); // 1464, its callback never comes
    t.onAck((pn) => pn === 1, 1, 20, RTT);
    t.onTimeout(100);
    expect(t.current).toBe(1472);
    expect(t.searching).toBe(false);
    expect(t.nextProbeSize(100)).toBeNull();
  });

  test('EMSGSIZE at send: too big at once', () => {
    const s = new PmtuSearch({ baseBytes: 1200, maxBytes: 1472 });
    s.onProbeSent(1, s.nextProbeSize(0)!, 0, 100, undefined);
    s.onProbeHanded(1, undefined, 0, true);
    expect(s.ceiling).toBe(1471);
    expect(s.nextProbeSize(0)).toBe(1464);
  });

  test('no counter, DF drops only: a lost size is suspect, the search goes on below it, the last suspect is retried until lost MAX_PROBES times', () => {
    const d = new Driver();
    d.net = undefined;
    expect(d.sendRound(0)).toEqual([1472, 1464, 1392, 1252]);
    d.ack([1252], 20);
    d.s.onTimeout(22.5);
    expect(d.sendRound(22.5)).toEqual([1391, 1350, 1309, 1268]);
    d.s.onTimeout(22.5 + TIMEOUT - 1);
    expect(d.s.nextProbeSize(22.5 + TIMEOUT - 1)).toBeNull();
    let t = 22.5 + TIMEOUT;
    d.s.onTimeout(t); // all four lost once: 1268 is the smallest suspect, nothing below it to spread over
    for (let i = 1; i < MAX_PROBES; i++) {
      expect(d.sendRound(t)).toEqual([1268]);
      t += TIMEOUT;
      d.s.onTimeout(t);
    }
    expect(d.s.searching).toBe(false);
    expect(d.s.current).toBe(1252);
    expect(d.s.ceiling).toBe(1267);
    expect(d.sent).toHaveLength(10);
  });

  test('a probe lost once by chance: the size is retried and confirmed (its send was not fragmented)', () => {
    const d = new Driver();
    expect(d.sendRound(0)).toEqual([1472, 1464, 1392, 1252]);
    d.ack([1464, 1392, 1252], 20);
    d.s.onTimeout(22.5);
    expect(d.s.current).toBe(1464);
    expect(d.sendRound(22.5)).toEqual([1472]); // less than 16 below the suspect: retry it
    d.ack([1472], 45);
    expect(d.s.current).toBe(1472);
    expect(d.s.searching).toBe(false);
  });

  test('a size lost once, fragmented on its retry (the kernel learned the smaller MTU meanwhile): too big', () => {
    const d = new Driver();
    d.sendRound(0);
    d.ack([1464, 1392, 1252], 20);
    d.s.onTimeout(22.5);
    expect(d.sendRound(22.5, () => 2)).toEqual([1472]);
    expect(d.s.ceiling).toBe(1471);
    expect(d.s.current).toBe(1464);
    expect(d.s.searching).toBe(false);
  });

  test('black hole: BLACK_HOLE_LOSSES full-size losses in a row fall back to the base and search again at once below the lost size', () => {
    const d = new Driver();
    d.sendRound(0);
    d.ack([1472], 20);
    expect(d.s.current).toBe(1472);
    for (let i = 1; i < BLACK_HOLE_LOSSES; i++) expect(d.s.onPacketLost(1472, 100 + i, 500)).toBe(false);
    expect(d.s.onPacketLost(1200, 200, 500)).toBe(false); // at the base: no evidence
    expect(d.s.onPacketLost(1472, 200, 500)).toBe(true);
    expect(d.s.current).toBe(1200);
    expect(d.s.fallbacks).toBe(1);
    expect(d.sendRound(500)).toEqual([1471, 1464, 1392, 1252]);
  });

  test('congestion is no black hole: a full-size packet sent later got through', () => {
    const d = new Driver();
    d.sendRound(0);
    d.ack([1472], 20);
    d.s.onPacketAcked(1472, 150);
    for (let i = 0; i < 2 * BLACK_HOLE_LOSSES; i++) expect(d.s.onPacketLost(1472, 100 + i, 500)).toBe(false);
    expect(d.s.current).toBe(1472);
  });

  test('periodic raise: RAISE_INTERVAL_MS after the search ended, a first round above the confirmed size', () => {
    const d = new Driver(8972);
    expect(d.sendRound(0)).toEqual([8972, 1472, 1464, 1252]);
    d.ack([1472, 1464, 1252], 20, d.pn);
    d.s.onTimeout(22.5); // 8972: 9/8 RTT after its send, later packets acknowledged
    expect(d.s.current).toBe(1472);
    expect(d.sendRound(22.5)).toEqual([8971, 6477, 3982, 1488]);
    let t = 22.5 + TIMEOUT;
    d.s.onTimeout(t);
    // all lost once; 1488 is the smallest suspect and nothing is left below it: retried until lost MAX_PROBES times
    for (let i = 1; i < MAX_PROBES; i++) {
      expect(d.sendRound(t)).toEqual([1488]);
      t += TIMEOUT;
      d.s.onTimeout(t);
    }
    expect(d.s.searching).toBe(false);
    expect(d.s.ceiling).toBe(1487);
    const ended = t;
    expect(d.s.nextProbeSize(ended + RAISE_INTERVAL_MS - 1)).toBeNull();
    expect(d.sendRound(ended + RAISE_INTERVAL_MS)).toEqual([8972]);
  });

  test('IPv6: base 1232, first round from the IPv6 maximum', () => {
    const d = new Driver(1452, PMTU_BASE_IPV6, 48);
    expect(d.s.current).toBe(1232);
    expect(d.sendRound(0)).toEqual([1452, 1444, 1372, 1352]);
  });

  test('an interface maximum at the base: nothing to search', () => {
    const s = new PmtuSearch({ baseBytes: 1200, maxBytes: 1100 });
    expect(s.current).toBe(1100);
    expect(s.searching).toBe(false);
    expect(s.nextProbeSize(0)).toBeNull();
  });
});
