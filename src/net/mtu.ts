/**
 * MTU discovery and the largest datagram (SPEC §4). This is the only module that imports
 * `systeminformation`.
 *
 * `mtu: 'auto'` = the lowest MTU among interfaces that are up and not loopback (with a sane
 * MTU, 576–65536), else DEFAULT_MTU (1500). systeminformation can be slow (it shells out on
 * some systems), so detection is bounded by a timeout that also falls back to 1500.
 *
 * systeminformation is loaded on the first detection, not with this module: it adds ~10 MB of
 * RSS to a process, and a node with a configured MTU never needs it (SPEC §8, issue 12).
 */
import { DEFAULT_MTU, IPV4_HEADER_BYTES, IPV6_HEADER_BYTES, UDP_HEADER_BYTES } from '../constants';
import { BadInputError } from '../errors';
import { systemScheduler, type Scheduler, type Timer } from '../runtime/scheduler';

/** Smallest MTU taken into account (the IPv4 minimum reassembly size). */
export const MIN_MTU = 576;
/** Largest MTU taken into account (Linux loopback). */
export const MAX_MTU = 65536;
export const MTU_DETECT_TIMEOUT_MS = 3000;
/** Largest UDP payload: IPv4 total length is 16 bits (65535 − 20 − 8); IPv6 payload length is 16 bits (65535 − 8). */
export const MAX_UDP_PAYLOAD_IPV4_BYTES = 65535 - IPV4_HEADER_BYTES - UDP_HEADER_BYTES;
export const MAX_UDP_PAYLOAD_IPV6_BYTES = 65535 - UDP_HEADER_BYTES;

/** The interface fields MTU detection looks at (a subset of systeminformation's record). */
export interface InterfaceMtuInfo {
  operstate: string;
  internal: boolean;
  mtu: number | null;
}

/**
 * Interface states counted as up. Linux reports 'unknown' for links without carrier semantics
 * that are administratively up (tun, WireGuard); their usually smaller MTU must count.
 */
const UP_STATES: ReadonlySet<string> = new Set(['up', 'unknown']);

function isSaneMtu(mtu: number | null): mtu is number {
  return mtu !== null && Number.isInteger(mtu) && mtu >= MIN_MTU && mtu <= MAX_MTU;
}

/** Lowest sane MTU of the up, non-loopback interfaces; null when there is none. Pure. */
export function lowestUsableMtu(interfaces: readonly InterfaceMtuInfo[]): number | null {
  let lowest: number | null = null;
  for (const i of interfaces) {
    if (i.internal || !UP_STATES.has(i.operstate) || !isSaneMtu(i.mtu)) continue;
    if (lowest === null || i.mtu < lowest) lowest = i.mtu;
  }
  return lowest;
}

/** The interface listing of systeminformation, loaded on first use (a failure is a rejected promise). */
function listInterfaces(): Promise<InterfaceMtuInfo | InterfaceMtuInfo[]> {
  try {
    const si = require('systeminformation') as typeof import('systeminformation');
    return si.networkInterfaces();
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Detects the MTU with systeminformation; DEFAULT_MTU on failure, no usable interface or timeout. */
export async function detectMtu(timeoutMs: number = MTU_DETECT_TIMEOUT_MS, scheduler: Scheduler = systemScheduler): Promise<number> {
  let timer: Timer | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = scheduler.timeout(() => resolve(null), timeoutMs);
  });
  try {
    const listed = await Promise.race([listInterfaces(), timeout]);
    if (listed === null) return DEFAULT_MTU;
    const interfaces: readonly InterfaceMtuInfo[] = Array.isArray(listed) ? listed : [listed];
    return lowestUsableMtu(interfaces) ?? DEFAULT_MTU;
  } catch {
    return DEFAULT_MTU;
  } finally {
    timer?.cancel();
  }
}

/** The MTU to use for a setting: detected for 'auto', else the configured number (validated). */
export async function resolveMtu(setting: 'auto' | number, timeoutMs: number = MTU_DETECT_TIMEOUT_MS, scheduler: Scheduler = systemScheduler): Promise<number> {
  if (setting === 'auto') return detectMtu(timeoutMs, scheduler);
  if (!isSaneMtu(setting)) {
    throw new BadInputError('ERR_BAD_CONFIG', `mtu must be 'auto' or an integer from ${MIN_MTU} to ${MAX_MTU}, got ${String(setting)}`);
  }
  return setting;
}

/**
 * Largest UDP payload that fits an `mtu`-byte IP packet without fragmentation:
 * mtu − IP header (20 for IPv4, 40 for IPv6, no options/extensions) − UDP header (8),
 * capped at the largest UDP payload the IP version can carry.
 */
export function maxDatagramBytes(mtu: number, family: 4 | 6): number {
  const ipHeaderBytes = family === 4 ? IPV4_HEADER_BYTES : family === 6 ? IPV6_HEADER_BYTES : NaN;
  if (Number.isNaN(ipHeaderBytes)) throw new RangeError(`address family must be 4 or 6, got ${String(family)}`);
  if (!Number.isSafeInteger(mtu) || mtu <= ipHeaderBytes + UDP_HEADER_BYTES) {
    throw new RangeError(`mtu ${mtu} leaves no room for a UDP payload over IPv${family}`);
  }
  const cap = family === 4 ? MAX_UDP_PAYLOAD_IPV4_BYTES : MAX_UDP_PAYLOAD_IPV6_BYTES;
  return Math.min(mtu - ipHeaderBytes - UDP_HEADER_BYTES, cap);
}

/** Where a resolved MTU came from (the daemon's `ready` line and `status`). */
export type MtuSource = 'configured' | 'detected' | 'fallback';

/**
 * resolveMtu plus where the value came from: 'configured' (a number in the setting),
 * 'detected' (an interface MTU), 'fallback' (DEFAULT_MTU: no usable interface, failure or timeout).
 */
export async function resolveMtuWithSource(setting: 'auto' | number, timeoutMs: number = MTU_DETECT_TIMEOUT_MS): Promise<{ mtu: number; source: MtuSource }> {
  if (setting !== 'auto') return { mtu: await resolveMtu(setting), source: 'configured' };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
    timer.unref();
  });
  try {
    const listed = await Promise.race([listInterfaces(), timeout]);
    const found = listed === null ? null : lowestUsableMtu(Array.isArray(listed) ? listed : [listed]);
    return found === null ? { mtu: DEFAULT_MTU, source: 'fallback' } : { mtu: found, source: 'detected' };
  } catch {
    return { mtu: DEFAULT_MTU, source: 'fallback' };
  } finally {
    clearTimeout(timer);
  }
}
