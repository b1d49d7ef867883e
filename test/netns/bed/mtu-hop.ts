/**
 * A path with a 1280-byte-MTU hop in the middle:
 *
 *   A eth0 10.83.1.1 (mtu 1500) ──veth── R ──veth (mtu 1280)── 10.83.2.1 eth0 B
 *
 * A sees a 1500-byte interface and no hint of the narrower hop; R forwards and answers oversized
 * DF packets with ICMP "fragmentation needed" (counted by UVCOUNT on R's OUTPUT, icmp row).
 * A sniffer on B's interface (netwire.py sniff) counts the IP packets and fragments that arrive;
 * A's kernel counts the fragments it creates (/proc/net/snmp FragCreates, per namespace).
 */
import { WireProcess, WIRE_SCRIPT, type DirectionStats } from '../../helpers/netns';
import { parseSnmpFragCreates } from '../../../src/net/fragment-counter';
import { mustAsync } from './sys';
import { installCounters, readCounters, type WireCount } from './counters';
import { Namespaces } from './namespaces';

export const HOP_SENDER_ADDR = '10.83.1.1';
export const HOP_RECEIVER_ADDR = '10.83.2.1';
export const HOP_MTU = 1280;

export class MtuHopPath {
  readonly nsA: string;
  readonly nsR: string;
  readonly nsB: string;
  readonly #spaces: Namespaces;
  readonly #sniffer: WireProcess;

  private constructor(spaces: Namespaces, nsA: string, nsR: string, nsB: string, sniffer: WireProcess) {
    this.#spaces = spaces;
    this.nsA = nsA;
    this.nsR = nsR;
    this.nsB = nsB;
    this.#sniffer = sniffer;
  }

  static async create(): Promise<MtuHopPath> {
    const spaces = new Namespaces();
    try {
      const nsA = spaces.add('a');
      const nsR = spaces.add('r');
      const nsB = spaces.add('b');
      spaces.veth({ ns: nsA, dev: 'eth0', addr: HOP_SENDER_ADDR }, { ns: nsR, dev: 'eth0', addr: '10.83.1.254' });
      spaces.veth({ ns: nsR, dev: 'eth1', addr: '10.83.2.254', mtu: HOP_MTU }, { ns: nsB, dev: 'eth0', addr: HOP_RECEIVER_ADDR, mtu: HOP_MTU });
      spaces.forward(nsR);
      spaces.route(nsA, 'default', '10.83.1.254');
      spaces.route(nsB, 'default', '10.83.2.254');
      installCounters(nsR, 'OUTPUT');
      const sniffer = new WireProcess(['ip', 'netns', 'exec', nsB, 'python3', WIRE_SCRIPT, 'sniff', 'eth0']);
      spaces.own(sniffer.child);
      await sniffer.ready();
      return new MtuHopPath(spaces, nsA, nsR, nsB, sniffer);
    } catch (e) {
      await spaces.destroy();
      throw e;
    }
  }

  /** IPv4 packets that arrived on B's interface (sizes, fragments, UDP payloads). */
  async arrived(): Promise<DirectionStats> {
    const s = await this.#sniffer.request({ cmd: 'stats' });
    return s['in'] as DirectionStats;
  }

  /** IPv4 fragments A's kernel created so far (FragCreates of A's namespace). */
  async senderFragCreates(): Promise<number> {
    const n = parseSnmpFragCreates(await mustAsync('ip', ['netns', 'exec', this.nsA, 'cat', '/proc/net/snmp']));
    if (n === undefined) throw new Error(`no FragCreates in /proc/net/snmp of ${this.nsA}`);
    return n;
  }

  /** What R itself sent (icmp: "fragmentation needed" answers). */
  async routerSent(): Promise<WireCount> {
    return readCounters(this.nsR);
  }

  async destroy(): Promise<void> {
    await this.#spaces.destroy();
  }
}
