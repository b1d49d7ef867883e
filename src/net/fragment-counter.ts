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
  const b = Buffer.from(text, 'latin1');
  return scanSnmpFragCreates(b, b.length);
}

/** Ip6FragCreates from the text of /proc/net/snmp6 (undefined when absent or malformed). */
export function parseSnmp6FragCreates(text: string): number | undefined {
  const b = Buffer.from(text, 'latin1');
  return scanSnmp6FragCreates(b, b.length);
}

/*
 * The scanners read the file's bytes where they were read to (no string, no split: memrss16 —
 * parsing the text with split was the largest allocation of a path MTU probe, ~3 KB per read,
 * two reads per probe, ~20 probes per new session). Whitespace as the text parsers' \s.
 */
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d && c !== 0x0a) || c === 0xa0;
const FRAG_CREATES = Buffer.from('FragCreates', 'latin1');
const IP6_FRAG_CREATES = Buffer.from('Ip6FragCreates', 'latin1');

/** End of the line starting at `at` (the index of its '\n', or n). */
function lineEnd(b: Uint8Array, at: number, n: number): number {
  const e = b.indexOf(0x0a, at);
  return e < 0 || e > n ? n : e;
}

/** Whether b[at, end) starts with `word`. */
function startsWith(b: Uint8Array, at: number, end: number, word: Uint8Array): boolean {
  if (end - at < word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return false;
  return true;
}

/** Start of the `index`-th whitespace-separated token of b[at, end) (0-based), or -1. */
function tokenAt(b: Uint8Array, at: number, end: number, index: number): number {
  let k = -1;
  for (let p = at; p < end; p++) {
    if (isSpace(b[p]!)) continue;
    if (++k === index) return p;
    while (p < end && !isSpace(b[p]!)) p++;
  }
  return -1;
}

/** The token at `at` as a count (digits only, a safe integer), or undefined. */
function countAt(b: Uint8Array, at: number, end: number): number | undefined {
  let n = 0;
  let p = at;
  for (; p < end && !isSpace(b[p]!); p++) {
    const d = b[p]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return p > at && Number.isSafeInteger(n) ? n : undefined;
}

/** FragCreates from the first n bytes of /proc/net/snmp: its column in the first "Ip: " line, the value in the second. */
export function scanSnmpFragCreates(b: Uint8Array, n: number): number | undefined {
  let header = -1;
  for (let at = 0; at < n; ) {
    const end = lineEnd(b, at, n);
    if (end - at >= 4 && b[at] === 0x49 && b[at + 1] === 0x70 && b[at + 2] === 0x3a && b[at + 3] === 0x20) {
      if (header < 0) {
        header = at;
      } else {
        // the column of FragCreates in the header line (never the first token, "Ip:")
        const hEnd = lineEnd(b, header, n);
        let col = -1;
        for (let k = 1, p = tokenAt(b, header, hEnd, 1); p >= 0; k++, p = tokenAt(b, p, hEnd, 1)) {
          const q = tokenEnd(b, p, hEnd);
          if (q - p === FRAG_CREATES.length && startsWith(b, p, q, FRAG_CREATES)) {
            col = k;
            break;
          }
        }
        if (col < 0) return undefined;
        const v = tokenAt(b, at, end, col);
        return v < 0 ? undefined : countAt(b, v, end);
      }
    }
    at = end + 1;
  }
  return undefined;
}

function tokenEnd(b: Uint8Array, p: number, end: number): number {
  while (p < end && !isSpace(b[p]!)) p++;
  return p;
}

/** Ip6FragCreates from the first n bytes of /proc/net/snmp6 (a line "Ip6FragCreates <count>"). */
export function scanSnmp6FragCreates(b: Uint8Array, n: number): number | undefined {
  for (let at = 0; at < n; ) {
    const end = lineEnd(b, at, n);
    const name = at + IP6_FRAG_CREATES.length;
    if (startsWith(b, at, end, IP6_FRAG_CREATES) && name < end && isSpace(b[name]!)) {
      const v = tokenAt(b, name, end, 0);
      const q = v < 0 ? -1 : tokenEnd(b, v, end);
      if (v >= 0 && tokenAt(b, q, end, 0) < 0) {
        // the pattern matched this line: its token is the value (a count, or malformed)
        return countAt(b, v, end);
      }
    }
    at = end + 1;
  }
  return undefined;
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
 * The file stays open while it is read (a descriptor per file, closed PROC_IDLE_CLOSE_MS after
 * the last read) and is read from offset 0 each time, which makes the kernel generate it afresh
 * (hs19: open + read + close took ~35 µs, a read of the open file ~20 µs; a session's path MTU
 * round reads it ~8 times).
 */
const PROC_BUF = Buffer.allocUnsafeSlow(16 * 1024);
/** How long a /proc file stays open after its last read. */
export const PROC_IDLE_CLOSE_MS = 1_000;
const procFds = new Map<string, number>();
/** Closes the kept files once reads stop (unref: never keeps the process alive). */
let idleClose: NodeJS.Timeout | null = null;

/** @internal Closes the /proc files kept open (the idle timer's work; tests). */
export function closeProcFiles(): void {
  for (const fd of procFds.values()) closeSync(fd);
  procFds.clear();
  if (idleClose) clearTimeout(idleClose);
  idleClose = null;
}

/** @internal The descriptor kept open for `path`, if any (tests). */
export const procFileDescriptor = (path: string): number | undefined => procFds.get(path);

/** @internal The bytes of `path` now, in PROC_BUF (their count returned). */
export function readProcBytes(path: string): number {
  let fd = procFds.get(path);
  if (fd === undefined) {
    fd = openSync(path, 'r');
    procFds.set(path, fd);
  }
  if (idleClose) idleClose.refresh();
  else idleClose = setTimeout(closeProcFiles, PROC_IDLE_CLOSE_MS).unref();
  try {
    let n = 0;
    while (n < PROC_BUF.length) {
      const r = readSync(fd, PROC_BUF, n, PROC_BUF.length - n, n);
      if (r === 0) break;
      n += r;
    }
    return n;
  } catch (e) {
    procFds.delete(path);
    closeSync(fd);
    throw e;
  }
}

/** @internal The buffer readProcBytes fills (tests). */
export const procBuffer = (): Buffer => PROC_BUF;

/**
 * The counter of this process's network namespace (Linux), or a counter that is always
 * undefined. A family whose file cannot be read once is not read again.
 */
export function procFragmentCounter(o: ProcFragmentCounterOptions = {}): FragmentCounter {
  if ((o.platform ?? process.platform) !== 'linux') return () => undefined;
  const read = o.read;
  const dead = { 4: false, 6: false };
  return (family) => {
    if (dead[family]) return undefined;
    let n: number | undefined;
    try {
      if (read) n = family === 6 ? parseSnmp6FragCreates(read('/proc/net/snmp6')) : parseSnmpFragCreates(read('/proc/net/snmp'));
      else n = family === 6 ? scanSnmp6FragCreates(PROC_BUF, readProcBytes('/proc/net/snmp6')) : scanSnmpFragCreates(PROC_BUF, readProcBytes('/proc/net/snmp'));
    } catch {
      n = undefined;
    }
    if (n === undefined) dead[family] = true;
    return n;
  };
}
