/**
 * The bed's readers of kernel statistics and the bench's table, on captured output (no root
 * needed): a misparsed counter would make every wire ÷ payload figure wrong.
 */
import { diffCount, parseChain, parseQdisc } from './bed/counters';
import { formatTable, type PathRow } from '../../bench/path/table';

describe('parseChain (iptables -nvxL UVCOUNT)', () => {
  test('reads pkts and bytes of each rule in order, skipping the headers', () => {
    const out = [
      'Chain UVCOUNT (1 references)',
      '    pkts      bytes target     prot opt in     out     source               destination',
      '   95046 142569000            17   --  *      *       0.0.0.0/0            0.0.0.0/0',
      '      12      880            6    --  *      *       0.0.0.0/0            0.0.0.0/0',
      '       0        0            1    --  *      *       0.0.0.0/0            0.0.0.0/0',
    ].join('\n');
    expect(parseChain(out)).toEqual([
      { packets: 95046, bytes: 142569000 },
      { packets: 12, bytes: 880 },
      { packets: 0, bytes: 0 },
    ]);
  });

  test('a single-rule listing (iptables -nvxL FORWARD 2) is one row', () => {
    expect(parseChain('       3      252 DROP       0    --  out    in      0.0.0.0/0            0.0.0.0/0')).toEqual([{ packets: 3, bytes: 252 }]);
  });

  test('diffCount subtracts per protocol', () => {
    const a = { udp: { packets: 10, bytes: 1000 }, tcp: { packets: 5, bytes: 500 }, icmp: { packets: 1, bytes: 56 } };
    const b = { udp: { packets: 4, bytes: 400 }, tcp: { packets: 5, bytes: 500 }, icmp: { packets: 0, bytes: 0 } };
    expect(diffCount(a, b)).toEqual({ udp: { packets: 6, bytes: 600 }, tcp: { packets: 0, bytes: 0 }, icmp: { packets: 1, bytes: 56 } });
  });
});

describe('parseQdisc (tc -s qdisc show)', () => {
  test('reads sent bytes, packets, drops and overlimits of a tbf', () => {
    const out = [
      'qdisc tbf 8001: root refcnt 2 rate 10Mbit burst 4Kb lat 30ms ',
      ' Sent 3751234 bytes 2537 pkt (dropped 59105, overlimits 61000 requeues 0) ',
      ' backlog 0b 0p requeues 0',
    ].join('\n');
    expect(parseQdisc(out)).toEqual({ sentBytes: 3751234, sentPackets: 2537, dropped: 59105, overlimits: 61000 });
  });

  test('output without statistics is an error, not zeros', () => {
    expect(() => parseQdisc('qdisc noqueue 0: root refcnt 2')).toThrow(/no qdisc statistics/);
  });
});

describe('formatTable', () => {
  const row: PathRow = { rateMbit: 10, workload: 'udpvault reliable bulk alone', goodput: 0.55, wireRatio: 57.49, retransmitted: 0.98, tcpShare: null, bottleneckDropRate: 0.97, queueP50: 30.3, queueP99: 40.46, seconds: 3.04 };

  test('marks the figures that miss SPEC §8 floors, and only udpvault rows', () => {
    const lines = formatTable([row, { ...row, workload: 'raw TCP alone (reference)', wireRatio: 1.2 }, { ...row, tcpShare: 0.39, goodput: 0.2, wireRatio: 1.1 }]).split('\n');
    expect(lines[2]).toBe('| 10 Mbit/s | udpvault reliable bulk alone | 55% ✗ | 57.49× ✗ | 98% | – | 97% | 30.3 ms / 40.5 ms | 3.0 s |');
    expect(lines[3]).toBe('| 10 Mbit/s | raw TCP alone (reference) | 55% | 1.20× | 98% | – | 97% | 30.3 ms / 40.5 ms | 3.0 s |');
    // Sharing: goodput has no floor, TCP share 39% < 40% does.
    expect(lines[4]).toBe('| 10 Mbit/s | udpvault reliable bulk alone | 20% | 1.10× | 98% | 39% ✗ | 97% | 30.3 ms / 40.5 ms | 3.0 s |');
  });
});
