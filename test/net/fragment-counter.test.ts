import { readFileSync, readlinkSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { closeProcFiles, parseSnmp6FragCreates, parseSnmpFragCreates, PROC_IDLE_CLOSE_MS, procBuffer, procFileDescriptor, procFragmentCounter, readProcBytes, scanSnmpFragCreates } from '../../src/net/fragment-counter';

const SNMP = [
  'Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits',
  'Ip: 2 64 52230863 0 0 0 0 0 52230863 52232548 0 0 0 0 0 0 4 0 9 52232548',
  'Icmp: InMsgs InErrors',
  'Icmp: 140142 0',
  '',
].join('\n');

const SNMP6 = ['Ip6InReceives                   \t120', 'Ip6FragOKs                      \t3', 'Ip6FragFails                    \t0', 'Ip6FragCreates                  \t7', 'Icmp6InMsgs \t1', ''].join('\n');

describe('parsing', () => {
  test('FragCreates from /proc/net/snmp (by column name) and Ip6FragCreates from /proc/net/snmp6', () => {
    expect(parseSnmpFragCreates(SNMP)).toBe(9);
    expect(parseSnmp6FragCreates(SNMP6)).toBe(7);
  });

  test('absent or malformed: undefined', () => {
    expect(parseSnmpFragCreates('')).toBeUndefined();
    expect(parseSnmpFragCreates('Ip: Forwarding FragCreates\nIp: 2 x\n')).toBeUndefined();
    expect(parseSnmpFragCreates('Ip: Forwarding DefaultTTL\nIp: 2 64\n')).toBeUndefined();
    expect(parseSnmpFragCreates('Ip: Forwarding FragCreates\n')).toBeUndefined();
    expect(parseSnmp6FragCreates('Ip6FragOKs 3\n')).toBeUndefined();
    expect(parseSnmp6FragCreates('Ip6FragCreates -1\n')).toBeUndefined();
    expect(parseSnmp6FragCreates('Ip6FragCreates 5 6\n')).toBeUndefined();
    expect(parseSnmp6FragCreates('Ip6FragCreatesX 5\nIp6FragCreates\t12  \n')).toBe(12);
    expect(parseSnmpFragCreates('Ip: A FragCreates\nIp: 1\n')).toBeUndefined(); // no value in that column
    expect(parseSnmpFragCreates('Ip: A FragCreates\r\nIp: 1 77\r\n')).toBe(77);
    expect(parseSnmpFragCreates('Ip: A FragCreates\nIp: 1 99999999999999999\n')).toBeUndefined(); // above 2^53 - 1
  });

  test('the byte scanner reads only the bytes read (a longer file before in the same buffer is ignored)', () => {
    const buf = Buffer.alloc(SNMP.length + 64, 0x39); // stale digits after the file
    const n = buf.write(SNMP.replace(' 9 52232548', ' 9'), 'latin1');
    expect(scanSnmpFragCreates(buf, n)).toBe(9);
    expect(scanSnmpFragCreates(buf, SNMP.indexOf('\nIcmp'))).toBe(9);
    expect(scanSnmpFragCreates(buf, SNMP.indexOf('\nIp: 2'))).toBeUndefined(); // the value line not read
  });
});

describe('procFragmentCounter', () => {
  test('reads the file of the family asked for, each time', () => {
    const reads: string[] = [];
    let n = 9;
    const c = procFragmentCounter({
      platform: 'linux',
      read: (p) => {
        reads.push(p);
        return p.endsWith('6') ? SNMP6 : SNMP.replace(' 4 0 9 ', ` 4 0 ${n} `);
      },
    });
    expect(c(4)).toBe(9);
    n = 11;
    expect(c(4)).toBe(11);
    expect(c(6)).toBe(7);
    expect(reads).toEqual(['/proc/net/snmp', '/proc/net/snmp', '/proc/net/snmp6']);
  });

  test('not Linux: always undefined, no file read', () => {
    const c = procFragmentCounter({ platform: 'darwin', read: () => { throw new Error('read'); } });
    expect(c(4)).toBeUndefined();
    expect(c(6)).toBeUndefined();
  });

  test('a family whose file cannot be read or parsed is not read again; the other still is', () => {
    let reads = 0;
    const c = procFragmentCounter({
      platform: 'linux',
      read: (p) => {
        reads++;
        if (p.endsWith('6')) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        return SNMP;
      },
    });
    expect(c(6)).toBeUndefined();
    expect(c(6)).toBeUndefined();
    expect(reads).toBe(1);
    expect(c(4)).toBe(9);
  });

  if (process.platform === 'linux') {
    test('on this Linux machine: a number for IPv4, the same as the text parser gives', () => {
      const n = procFragmentCounter()(4);
      expect(n).toEqual(expect.any(Number));
      expect(parseSnmpFragCreates(readFileSync('/proc/net/snmp', 'latin1'))! - n!).toBeGreaterThanOrEqual(0);
      expect(parseSnmpFragCreates(readFileSync('/proc/net/snmp', 'latin1'))! - n!).toBeLessThan(1000);
    });
  }
});

if (process.platform === 'linux') {
  describe('reading /proc from a file kept open (hs19)', () => {
    const udpOut = (): number => {
      const text = procBuffer().toString('latin1', 0, readProcBytes('/proc/net/snmp'));
      const [names, values] = text.split('\n').filter((l) => l.startsWith('Udp:'));
      return Number(values!.split(/\s+/)[names!.split(/\s+/).indexOf('OutDatagrams')]);
    };
    /** What descriptor `fd` of this process is open on (null: none). */
    const target = (fd: number): string | null => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return null;
      }
    };
    const SNMP_LINK = /\/net\/snmp( \(deleted\))?$/; // shown as deleted once the file was opened anew (procfs makes a new entry; the open one still reads the live counters)
    afterEach(() => {
      closeProcFiles();
      jest.useRealTimers();
    });

    test('one descriptor for any number of reads, and each read sees the file as it is now', async () => {
      closeProcFiles();
      readProcBytes('/proc/net/snmp');
      const fd = procFileDescriptor('/proc/net/snmp')!;
      expect(target(fd)).toMatch(SNMP_LINK);
      const before = udpOut();
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => s.send(Buffer.from('x'), 9, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      await new Promise<void>((resolve) => s.close(() => resolve()));
      readFileSync('/proc/net/snmp'); // opened anew elsewhere: the kept descriptor still reads the live file
      expect(udpOut()).toBeGreaterThan(before); // generated afresh: our datagram is counted
      for (let i = 0; i < 200; i++) readProcBytes('/proc/net/snmp');
      expect(procFileDescriptor('/proc/net/snmp')).toBe(fd);
      const n = procFragmentCounter()(4)!;
      const later = parseSnmpFragCreates(procBuffer().toString('latin1', 0, readProcBytes('/proc/net/snmp')))!;
      expect(later - n).toBeGreaterThanOrEqual(0); // the same counter (another process may fragment meanwhile)
      expect(later - n).toBeLessThan(1000);
      expect(procFileDescriptor('/proc/net/snmp')).toBe(fd);
    });

    test(`closed ${PROC_IDLE_CLOSE_MS} ms after the last read, opened again by the next`, () => {
      closeProcFiles();
      jest.useFakeTimers();
      readProcBytes('/proc/net/snmp');
      const fd = procFileDescriptor('/proc/net/snmp')!;
      jest.advanceTimersByTime(PROC_IDLE_CLOSE_MS - 1);
      readProcBytes('/proc/net/snmp'); // a read restarts the wait
      jest.advanceTimersByTime(PROC_IDLE_CLOSE_MS - 1);
      expect(procFileDescriptor('/proc/net/snmp')).toBe(fd);
      expect(target(fd)).toMatch(SNMP_LINK);
      jest.advanceTimersByTime(1);
      expect(procFileDescriptor('/proc/net/snmp')).toBeUndefined();
      expect(target(fd) ?? '').not.toMatch(SNMP_LINK);
      expect(procFragmentCounter()(4)).toEqual(expect.any(Number));
      expect(procFileDescriptor('/proc/net/snmp')).toEqual(expect.any(Number));
    });
  });
}
