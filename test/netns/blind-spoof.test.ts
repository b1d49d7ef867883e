/**
 * Blind spoofers against a real node process, in network namespaces (issue 10, deliverable 2 and
 * the floors): the attacker's forged inits carry source addresses 10.99.x.y (1,000 of them) that
 * the attacker's namespace may send from, but which the victim's namespace routes elsewhere — to
 * a sink namespace that does not forward — so every reply (cookie replies included) is sent and
 * lost, as toward a spoofed address on the internet. The junk comes from the legitimate peer's
 * own address (it shares the attacker's namespace and interface).
 *
 *   ns "peer"  (A, the flooder)  10.88.0.1 ── veth ── 10.88.0.2  ns "victim" (B)
 *              10.99.0.0/16 local (AnyIP)                10.89.0.2 ── veth ── 10.89.0.1  ns "sink"
 *                                                        10.99.0.0/16 via 10.89.0.1
 *
 * Asserted: the flooder never receives a datagram (blind), the sink did receive B's replies, A's
 * first handshake completes within 1 s, ≥ 99% of its reliable messages are acknowledged, only the
 * real keys are recorded, and B's RSS stays under its byte bounds + 50 MB. `npm test` runs a
 * quarter of the issue's rates; UDPVAULT_FLOOD_FULL=1 (`npm run test:flood`) the full 20k/s junk
 * + 10k/s forged inits.
 */
import { bedDescribe } from './bed/gate';
import { Namespaces } from './bed/namespaces';
import { must, probeBed } from './bed/sys';
import { describeResult, FULL_RATES, REDUCED_RATES, RSS_FLOOR_BYTES, runFloodScenario } from '../helpers/flood-scenario';

const FULL = process.env['UDPVAULT_FLOOD_FULL'] === '1';
const describeBed = bedDescribe('blind spoofers in network namespaces', probeBed());

/** Packets received on a namespace's interface. */
function rxPackets(ns: string, dev: string): number {
  const j = JSON.parse(must('ip', ['-n', ns, '-s', '-j', 'link', 'show', dev])) as Array<{ stats64: { rx: { packets: number } } }>;
  return j[0]!.stats64.rx.packets;
}

describeBed('blind spoofers: replies to the forged sources route away from the attacker', () => {
  let bed: Namespaces | null = null;
  let nsPeer = '';
  let nsVictim = '';
  let nsSink = '';
  beforeAll(() => {
    bed = new Namespaces();
    nsPeer = bed.add('peer');
    nsVictim = bed.add('victim');
    nsSink = bed.add('sink');
    bed.veth({ ns: nsPeer, dev: 'px', addr: '10.88.0.1' }, { ns: nsVictim, dev: 'vx', addr: '10.88.0.2' });
    bed.veth({ ns: nsVictim, dev: 'vs', addr: '10.89.0.2' }, { ns: nsSink, dev: 'sv', addr: '10.89.0.1' });
    must('ip', ['-n', nsPeer, 'route', 'add', 'local', '10.99.0.0/16', 'dev', 'lo']); // the attacker may bind any 10.99.x.y
    must('ip', ['-n', nsVictim, 'route', 'add', '10.99.0.0/16', 'via', '10.89.0.1']); // but replies to them go to the sink
    for (const ns of [nsPeer, nsVictim, nsSink]) must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    must('ip', ['netns', 'exec', nsVictim, 'sysctl', '-q', '-w', 'net.ipv4.conf.vx.rp_filter=0']);
  }, 30_000);
  afterAll(async () => {
    await bed?.destroy();
  }, 30_000);

  test('a legitimate first handshake completes within 1 s, ≥ 99% of reliable messages are acknowledged, RSS stays under the byte bounds + 50 MB', async () => {
    const sink0 = rxPackets(nsSink, 'sv');
    const r = await runFloodScenario({
      mode: 'blind',
      rates: FULL ? FULL_RATES : REDUCED_RATES,
      victimHost: '10.88.0.2',
      peerHost: '10.88.0.1',
      firstOctets: '10.99',
      victimNs: nsVictim,
      peerNs: nsPeer,
      attackerNs: nsPeer,
      countReplies: true,
    });
    const toSink = rxPackets(nsSink, 'sv') - sink0;
    process.stdout.write(`${describeResult(`netns blind spoofers (${FULL ? 'full rates' : 'a quarter of the rates'})`, r)}; replies routed to the sink ${toSink}\n`);
    expect(r.flooder.repliesSeen).toBe(0); // blind: nothing B sent ever reached a forged source
    expect(toSink).toBeGreaterThan(r.flooder.inits / 4); // B did answer them (cookie replies), toward the sink
    expect((r.drops['malformed'] ?? 0) + (r.drops['unknownVersion'] ?? 0) + (r.drops['unknownSession'] ?? 0)).toBeGreaterThan(r.flooder.junk / 2);
    expect(r.handshakeMs).toBeLessThanOrEqual(1_000);
    expect(r.acked / r.sent).toBeGreaterThanOrEqual(0.99);
    expect(r.rssPeak).toBeLessThan(RSS_FLOOR_BYTES);
    expect(r.keysOk).toBe(true);
  }, 120_000);
});
