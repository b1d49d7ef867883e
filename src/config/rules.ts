/**
 * Value rules of the settings schema: what a setting accepts from a JSON file or a program
 * (typed values) and from the environment or a flag (text, coerced here), and how that is
 * described in error messages and in config/default.json.
 */
import * as net from 'node:net';

/** How a text value (environment variable or flag) is coerced. */
export type TextCoercion = 'integer' | 'boolean' | 'string' | 'integer-or-auto';

export interface ValueRule<T> {
  /** JSON type, for the documentation: "integer", "string", "boolean", "integer or \"auto\"". */
  readonly type: string;
  /** What is accepted, as error messages say it: `expected ${expected}, got ...`. */
  readonly expected: string;
  readonly coercion: TextCoercion;
  /** The value, or undefined when `v` is not acceptable. `fromText`: `v` came from the environment or a flag. */
  parse(v: unknown, fromText: boolean): T | undefined;
}

const INT_RE = /^[+-]?\d+$/;

/** An integer given as a JSON number, or (from text only) as decimal digits. */
function toInt(v: unknown, fromText: boolean): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (fromText && typeof v === 'string' && INT_RE.test(v.trim())) {
    const n = Number(v.trim());
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

export function int(min: number, max: number, expected = `an integer ${min}..${max}`): ValueRule<number> {
  return {
    type: 'integer',
    expected,
    coercion: 'integer',
    parse(v, fromText) {
      const n = toInt(v, fromText);
      return n !== undefined && n >= min && n <= max ? n : undefined;
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[]): ValueRule<T> {
  return {
    type: 'string',
    expected: `one of ${values.map((x) => `"${x}"`).join(', ')}`,
    coercion: 'string',
    parse(v) {
      return typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : undefined;
    },
  };
}

/** JSON true/false; from text also "true"/"false"/"1"/"0". */
export const bool: ValueRule<boolean> = {
  type: 'boolean',
  expected: 'true or false',
  coercion: 'boolean',
  parse(v, fromText) {
    if (typeof v === 'boolean') return v;
    if (fromText && typeof v === 'string') {
      const t = v.trim();
      if (t === 'true' || t === '1') return true;
      if (t === 'false' || t === '0') return false;
    }
    return undefined;
  },
};

/** A literal IP address to bind (no host names: binding must not depend on DNS). */
export const ipAddress: ValueRule<string> = {
  type: 'string',
  expected: "an IPv4 or IPv6 address (e.g. '0.0.0.0', '::' or '127.0.0.1')",
  coercion: 'string',
  parse(v) {
    return typeof v === 'string' && net.isIP(v) !== 0 ? v : undefined;
  },
};

export const mtu: ValueRule<'auto' | number> = {
  type: 'integer or "auto"',
  expected: '"auto" or an integer 576..65535',
  coercion: 'integer-or-auto',
  parse(v, fromText) {
    if (v === 'auto') return 'auto';
    const n = toInt(v, fromText);
    return n !== undefined && n >= 576 && n <= 65535 ? n : undefined;
  },
};

/** Splits "host:port" / "[v6]:port" into its parts; undefined when it is not of that form. */
export function splitHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > 65535 || net.isIP(host) === 0 || (m[1] !== undefined && net.isIPv6(host) === false)) return undefined;
  return { host, port };
}

/** "" (off) or a listen address "IP:port" ("[IPv6]:port"); port 0 = any free port. */
export const listenAddressOrOff: ValueRule<string> = {
  type: 'string',
  expected: '"" (off) or an address and port such as "127.0.0.1:9464" or "[::1]:9464"',
  coercion: 'string',
  parse(v) {
    if (typeof v !== 'string') return undefined;
    return v === '' || splitHostPort(v) !== undefined ? v : undefined;
  },
};

/** A value as shown in an error message: JSON, cut to 60 characters. */
export function shown(v: unknown): string {
  const s = v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
