/**
 * Source addresses for handshake admission and cookies: IPv4/IPv6 literal parsing (IPv4-mapped
 * IPv6 counts as IPv4), the admission key (an IPv4 address or an IPv6 /64) and the cookie input
 * (address ‖ port).
 */
/** Parses an IPv4 or IPv6 literal (zone id ignored); IPv4-mapped IPv6 becomes IPv4. Null if invalid. */
export function parseIp(address: string): Uint8Array | null {
  const a = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  if (!a.includes(':')) return parseV4(a);
  let head = a;
  let v4Tail: Uint8Array | null = null;
  const lastColon = a.lastIndexOf(':');
  if (a.slice(lastColon + 1).includes('.')) {
    v4Tail = parseV4(a.slice(lastColon + 1));
    if (!v4Tail) return null;
    head = a.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (v4Tail) out.set(v4Tail, 12);
  const mapped = out.subarray(0, 10).every((b) => b === 0) && out[10] === 0xff && out[11] === 0xff;
  return mapped ? out.slice(12) : out;
}

/** Dotted-quad IPv4 (no leading '+', at most 3 digits a part), by one pass over the characters: per datagram under floods. */
function parseV4(a: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let part = 0;
  let digits = 0;
  let v = 0;
  for (let i = 0; i <= a.length; i++) {
    const c = i < a.length ? a.charCodeAt(i) : 46; // a final '.'
    if (c === 46) {
      if (digits === 0 || part > 3 || v > 255) return null;
      out[part++] = v;
      digits = 0;
      v = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      v = v * 10 + (c - 48);
      digits++;
    } else return null;
  }
  return part === 4 ? out : null;
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The admission key of an address: the IPv4 address, or the IPv6 /64 prefix. */
export function sourceKey(address: string): string {
  if (!address.includes(':')) {
    const v4 = parseV4(address);
    if (v4) return `4:${v4[0]}.${v4[1]}.${v4[2]}.${v4[3]}`; // canonical (no leading zeros)
  }
  const ip = parseIp(address);
  if (!ip) return `?${address}`;
  return ip.length === 4 ? `4:${ip.join('.')}` : `6:${hexOf(ip.subarray(0, 8))}::/64`;
}

/** Address ‖ port (u16 BE), the input of a cookie (the whole address: no /64 grouping). */
export function sourceBytes(address: string, port: number): Uint8Array {
  const ip = parseIp(address) ?? new TextEncoder().encode(address);
  const out = new Uint8Array(ip.length + 2);
  out.set(ip);
  out[ip.length] = port >> 8;
  out[ip.length + 1] = port & 0xff;
  return out;
}
