/**
 * The shaped path: sender namespace A, router R, receiver namespace B.
 *
 *   A eth0 10.81.1.1 ──veth── 10.81.1.254 eth0  R  w0 10.81.2.254 ══ TUN wire ══ 10.81.2.1 eth0  B
 *                                                 └ tbf (the bottleneck)
 *
 * R's egress towards B is shaped with tbf (`rate R burst 32kbit latency 30ms`: a fixed queue of
 * 30 ms at the rate plus the burst). R and B are joined by the user-space wire
 * (test/helpers/netwire.py: this kernel has no sch_netem), which adds the one-way delay in both
 * directions (20 ms each: ≈ 40 ms RTT) and can drop, duplicate and reorder. The bottleneck sits
 * in R, not in the sender's own stack, so neither TCP nor UDP senders get local back-pressure
 * from it (TCP small queues, qdisc drop return codes): they see a real router.
 *
 * Counters: UVCOUNT on A's OUTPUT (bytes A sent, per protocol) and on B's INPUT (bytes that
 * reached B); tc statistics of the tbf (sent, dropped at the bottleneck).
 */
import { WireProcess, WIRE_SCRIPT, type Impairment } from '../../helpers/netns';
import { installCounters, readCounters, readQdisc, zeroCounters, type QdiscStats, type WireCount } from './counters';
import { Namespaces } from './namespaces';
import { must, waitFor, run } from './sys';

export const SENDER_ADDR = '10.81.1.1';
export const RECEIVER_ADDR = '10.81.2.1';
const ROUTER_A = '10.81.1.254';
const ROUTER_B = '10.81.2.254';
export const BOTTLENECK_DEV = 'w0';

export interface ShapedPathOptions {
  /** tbf rate in Mbit/s. */
  rateMbit: number;
  /** One-way delay added by the wire in each direction (default 20 ms: RTT ≈ 40 ms). */
  oneWayDelayMs?: number;
}

export interface PathCounters {
  /** What A's processes put on the wire. */
  sent: WireCount;
  /** What reached B. */
  received: WireCount;
  bottleneck: QdiscStats;
}

export class ShapedPath {
  readonly nsA: string;
  readonly nsR: string;
  readonly nsB: string;
  #rateMbit: number;
  readonly #spaces: Namespaces;
  readonly #wire: WireProcess;
  #delayMs: number;

  private constructor(spaces: Namespaces, nsA: string, nsR: string, nsB: string, wire: WireProcess, o: ShapedPathOptions) {
    this.#spaces = spaces;
    this.nsA = nsA;
    this.nsR = nsR;
    this.nsB = nsB;
    this.#wire = wire;
    this.#rateMbit = o.rateMbit;
    this.#delayMs = o.oneWayDelayMs ?? 20;
  }

  get rateMbit(): number {
    return this.#rateMbit;
  }

  /** Link rate in bytes per second. */
  get linkBytesPerSecond(): number {
    return (this.rateMbit * 1e6) / 8;
  }

  static async create(o: ShapedPathOptions): Promise<ShapedPath> {
    const spaces = new Namespaces();
    try {
      const nsA = spaces.add('a');
      const nsR = spaces.add('r');
      const nsB = spaces.add('b');
      spaces.veth({ ns: nsA, dev: 'eth0', addr: SENDER_ADDR }, { ns: nsR, dev: 'eth0', addr: ROUTER_A });
      spaces.forward(nsR);
      // A wire, not a veth: the router must receive TCP's segments one by one, as from a real
      // link. A veth passes A's GSO super-packets (2–40 segments) to R whole, and the tbf — its
      // queue counted in bytes — then queues or drops a 3000–60000-byte block where a paced
      // datagram still fits. One segment per GSO packet on A's interface makes TCP send
      // MSS-sized skbs (no GSO on the bottleneck's input; R's veth end has no GRO).
      must('ip', ['-n', nsA, 'link', 'set', 'dev', 'eth0', 'gso_max_segs', '1']);
      const wire = new WireProcess(['ip', 'netns', 'exec', nsR, 'python3', WIRE_SCRIPT, 'wire', BOTTLENECK_DEV, 'w1']);
      spaces.own(wire.child);
      await wire.ready();
      must('ip', ['-n', nsR, 'link', 'set', 'w1', 'netns', nsB]);
      must('ip', ['-n', nsB, 'link', 'set', 'w1', 'name', 'eth0']);
      must('ip', ['-n', nsR, 'addr', 'add', ROUTER_B, 'peer', RECEIVER_ADDR, 'dev', BOTTLENECK_DEV]);
      must('ip', ['-n', nsB, 'addr', 'add', RECEIVER_ADDR, 'peer', ROUTER_B, 'dev', 'eth0']);
      for (const [ns, dev] of [[nsR, BOTTLENECK_DEV], [nsB, 'eth0']] as const) must('ip', ['-n', ns, 'link', 'set', dev, 'mtu', '1500', 'up']);
      spaces.route(nsA, 'default', ROUTER_A);
      must('ip', ['-n', nsB, 'route', 'add', 'default', 'dev', 'eth0']);
      must('tc', ['-n', nsR, 'qdisc', 'add', 'dev', BOTTLENECK_DEV, 'root', 'tbf', 'rate', `${o.rateMbit}mbit`, 'burst', '32kbit', 'latency', '30ms']);
      installCounters(nsA, 'OUTPUT');
      installCounters(nsB, 'INPUT');
      const path = new ShapedPath(spaces, nsA, nsR, nsB, wire, o);
      await path.impair({});
      await waitFor(() => /state (UP|UNKNOWN)/.test(run('ip', ['-n', nsA, '-o', 'link', 'show', 'eth0']).out), 5000, 'A eth0 up');
      return path;
    } catch (e) {
      await spaces.destroy();
      throw e;
    }
  }

  /** Loss, duplication, reordering and extra jitter on the R–B wire; the base delay stays. */
  async impair(i: Omit<Impairment, 'delayMs'>, seed = 1): Promise<void> {
    await this.#wire.request({ cmd: 'set', loss: i.loss ?? 0, delayMs: this.#delayMs, jitterMs: i.jitterMs ?? 0, reorder: i.reorder ?? 0, duplicate: i.duplicate ?? 0, seed });
  }

  /** Changes the tbf rate (same burst and queue latency). */
  setRate(rateMbit: number): void {
    must('tc', ['-n', this.nsR, 'qdisc', 'change', 'dev', BOTTLENECK_DEV, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '32kbit', 'latency', '30ms']);
    this.#rateMbit = rateMbit;
  }

  async counters(): Promise<PathCounters> {
    const [sent, received, bottleneck] = await Promise.all([readCounters(this.nsA), readCounters(this.nsB), readQdisc(this.nsR, BOTTLENECK_DEV)]);
    return { sent, received, bottleneck };
  }

  /**
   * Zeroes A's counters, then B's (not both at once: on a loaded machine the two iptables
   * processes finish hundreds of ms apart, and with B zeroed first B counts bytes A's count
   * missed — at 2 Mbit/s, more than the in-flight allowance of a comparison after 190 ms).
   * Compare with countersReceiverFirst().
   */
  async zeroCounters(): Promise<void> {
    await zeroCounters(this.nsA);
    await zeroCounters(this.nsB);
  }

  /**
   * B's counters, then A's, then the qdisc: with zeroCounters() this brackets what B received
   * inside what A sent (plus what was in flight when B was zeroed), whatever the delays between
   * the iptables calls.
   */
  async countersReceiverFirst(): Promise<PathCounters> {
    const received = await readCounters(this.nsB);
    const sent = await readCounters(this.nsA);
    return { sent, received, bottleneck: await readQdisc(this.nsR, BOTTLENECK_DEV) };
  }

  /** The user-space wire's own statistics (per direction). */
  async wireStats(): Promise<Record<string, unknown>> {
    return this.#wire.request({ cmd: 'stats' });
  }

  async destroy(): Promise<void> {
    await this.#spaces.destroy();
  }
}
