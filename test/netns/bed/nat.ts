/**
 * A NAT router between an inside and an outside namespace:
 *
 *   I eth0 10.82.1.2 ──veth── 10.82.1.1 in  N  out 10.82.2.1 ──veth── 10.82.2.2 eth0 O
 *
 * N masquerades everything leaving by `out` onto ports of a range (first 20000–20999) and keeps a
 * stateful filter: from `out` to `in` only ESTABLISHED/RELATED passes, the rest is dropped and
 * counted (rule 2 of FORWARD). O has a route to the inside subnet through N, so an unsolicited
 * datagram to an inside address really reaches the filter (and dies there).
 *
 * rebind(): the mapping moves — the MASQUERADE rule switches to the next port range
 * (30000–30999, then 20000–20999 again, …) and `conntrack -F` forgets every mapping, so the
 * inside host's next packet leaves from a new outside port, as after a home router's reboot or a
 * carrier-grade NAT's timeout.
 */
import { ipt, parseChain } from './counters';
import { Namespaces } from './namespaces';
import { must, mustAsync } from './sys';

export const INSIDE_ADDR = '10.82.1.2';
export const NAT_INSIDE_ADDR = '10.82.1.1';
export const NAT_OUTSIDE_ADDR = '10.82.2.1';
export const OUTSIDE_ADDR = '10.82.2.2';
const RANGES = ['20000-20999', '30000-30999'] as const;

export class NatRouter {
  readonly nsInside: string;
  readonly nsNat: string;
  readonly nsOutside: string;
  readonly #spaces: Namespaces;
  #range = 0;

  private constructor(spaces: Namespaces, nsInside: string, nsNat: string, nsOutside: string) {
    this.#spaces = spaces;
    this.nsInside = nsInside;
    this.nsNat = nsNat;
    this.nsOutside = nsOutside;
  }

  static async create(): Promise<NatRouter> {
    const spaces = new Namespaces();
    try {
      const nsI = spaces.add('i');
      const nsN = spaces.add('n');
      const nsO = spaces.add('o');
      spaces.veth({ ns: nsI, dev: 'eth0', addr: INSIDE_ADDR }, { ns: nsN, dev: 'in', addr: NAT_INSIDE_ADDR });
      spaces.veth({ ns: nsN, dev: 'out', addr: NAT_OUTSIDE_ADDR }, { ns: nsO, dev: 'eth0', addr: OUTSIDE_ADDR });
      spaces.forward(nsN);
      spaces.route(nsI, 'default', NAT_INSIDE_ADDR);
      spaces.route(nsO, '10.82.1.0/24', NAT_OUTSIDE_ADDR);
      ipt(nsN, ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'out', '-p', 'udp', '-j', 'MASQUERADE', '--to-ports', RANGES[0]]);
      ipt(nsN, ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'out', '-p', 'tcp', '-j', 'MASQUERADE', '--to-ports', RANGES[0]]);
      ipt(nsN, ['-A', 'FORWARD', '-i', 'out', '-o', 'in', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT']);
      ipt(nsN, ['-A', 'FORWARD', '-i', 'out', '-o', 'in', '-j', 'DROP']);
      return new NatRouter(spaces, nsI, nsN, nsO);
    } catch (e) {
      await spaces.destroy();
      throw e;
    }
  }

  /** The outside port range mappings are taken from now, e.g. '20000-20999'. */
  get portRange(): [number, number] {
    const [lo, hi] = RANGES[this.#range]!.split('-').map(Number);
    return [lo!, hi!];
  }

  /** Unsolicited inbound packets the stateful filter dropped so far. */
  async droppedInbound(): Promise<number> {
    const out = await mustAsync('ip', ['netns', 'exec', this.nsNat, 'iptables', '-w', '-nvxL', 'FORWARD', '2']);
    return parseChain(out)[0]?.packets ?? 0;
  }

  /** Moves every mapping: next port range, then every conntrack entry flushed. */
  async rebind(): Promise<void> {
    const from = RANGES[this.#range]!;
    this.#range = (this.#range + 1) % RANGES.length;
    const to = RANGES[this.#range]!;
    for (const [i, proto] of [[1, 'udp'], [2, 'tcp']] as const) {
      ipt(this.nsNat, ['-t', 'nat', '-R', 'POSTROUTING', String(i), '-o', 'out', '-p', proto, '-j', 'MASQUERADE', '--to-ports', to]);
    }
    must('ip', ['netns', 'exec', this.nsNat, 'conntrack', '-F']);
    if (from === to) throw new Error('rebind: the port range did not change');
  }

  async destroy(): Promise<void> {
    await this.#spaces.destroy();
  }
}
