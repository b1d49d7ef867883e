/**
 * The kernel's count of IP fragments it created, per address family: the path MTU search
 * (src/delivery/pmtu.ts) reads it just before a probe is handed to the socket and again in the
 * send callback, and trusts a probe only if the count did not grow in between (the kernel
 * fragments a datagram inside the send call, when its cached path MTU is smaller).
 *
 * Linux: `/proc/net/snmp` ("Ip:" header and value lines, column FragCreates) for IPv4 and
 * `/proc/net/snmp6` (line "Ip6FragCreates N") for IPv6, both per network namespace (the
 * process's own). Elsewhere, or when the file cannot be read or parsed, the counter is
 * undefined and the search keeps its plain RFC 8899 behaviour. A read is one small synchronous
 * file read (tens of microseconds); probes are few (a handful per path every 10 minutes).
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Fragments the kernel created so far for `family`, or undefined when it cannot be known. */
export type FragmentCounter = (family: 4 | 6) => number | undefined;

/** FragCreates from the text of /proc/net/snmp (undefined when absent or malformed). */
export function parseSnmpFragCreates(text: string): number | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith('Ip: '));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.trim().split(/\s+/);
  const values = lines[1]!.trim().split(/\s+/);
  const i = names.indexOf('FragCreates');
  return i > 0 && i < values.length ? count(values[i]!) : undefined;
}

/** Ip6FragCreates from the text of /proc/net/snmp6 (undefined when absent or malformed). */
export function parseSnmp6FragCreates(text: string): number | undefined {
  const m = /^Ip6FragCreates\s+(\S+)\s*$/m.exec(text);
  return m ? count(m[1]!) : undefined;
}

function count(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

export interface ProcFragmentCounterOptions {
  platform?: NodeJS.Platform;
  /** Reads a file as text (tests); default fs.readFileSync. */
  read?: (path: string) => string;
}

/**
 * Reads a /proc file into one reused 16 KiB buffer (issue 12): readFileSync sizes a file by its
 * stat, which is 0 for /proc files, and then allocates 64 KiB (malloc'd, outside V8's heap) per
 * read; two reads per path MTU probe during a crowd's setup grew glibc's heap by megabytes.
 */
const PROC_BUF = Buffer.allocUnsafeSlow(16 * 1024);
function readProc(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let n = 0;
    while (n < PROC_BUF.length) {
      const r = readSync(fd, PROC_BUF, n, PROC_BUF.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return PROC_BUF.toString('latin1', 0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * The counter of this process's network namespace (Linux), or a counter that is always
 * undefined. A family whose file cannot be read once is not read again.
 */
export function procFragmentCounter(o: ProcFragmentCounterOptions = {}): FragmentCounter {
  if ((o.platform ?? process.platform) !== 'linux') return () => undefined;
  const read = o.read ?? readProc;
  const dead = { 4: false, 6: false };
  return (family) => {
    if (dead[family]) return undefined;
    let n: number | undefined;
    try {
      n = family === 6 ? parseSnmp6FragCreates(read('/proc/net/snmp6')) : parseSnmpFragCreates(read('/proc/net/snmp'));
    } catch {
      n = undefined;
    }
    if (n === undefined) dead[family] = true;
    return n;
  };
}
