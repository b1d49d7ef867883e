/** Address helpers of the simulated network (no dependency above net/). */
import { isIP } from 'node:net';

/** IPv4-mapped IPv6 addresses in their IPv4 form, as the dgram transport reports them. */
export function canonical(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** 4 or 6 by the address's form; throws on anything that is not an IP address. */
export function familyOf(address: string): 4 | 6 {
  const f = isIP(address);
  if (f === 4 || f === 6) return f;
  throw new Error(`simulated network: not an IP address: "${address}"`);
}

/** IP + UDP header bytes counted against a link MTU. */
export function headerBytes(family: 4 | 6): number {
  return family === 6 ? 48 : 28;
}

/** Largest UDP payload the socket API accepts (beyond it: EMSGSIZE). */
export function maxUdpPayload(family: 4 | 6): number {
  return family === 6 ? 65_527 : 65_507;
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** 'a:p' for IPv4, '[a]:p' for IPv6. */
export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
