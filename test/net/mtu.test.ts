import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import {
  detectMtu,
  lowestUsableMtu,
  maxDatagramBytes,
  resolveMtu,
  MAX_UDP_PAYLOAD_IPV4_BYTES,
  MAX_UDP_PAYLOAD_IPV6_BYTES,
  type InterfaceMtuInfo,
} from '../../src/net/mtu';
import { UdpVaultError } from '../../src/errors';

type MtuModule = typeof import('../../src/net/mtu');

/**
 * Loads src/net/mtu with systeminformation replaced by `fake` (until the end of the test:
 * src/net/mtu requires it on the first detection, not when it is loaded). `loads` counts how
 * often the replacement was loaded.
 */
const siLoads = { n: 0 };
function withFakeSi(fake: { networkInterfaces: () => Promise<unknown> }): MtuModule {
  let mod: MtuModule | undefined;
  jest.isolateModules(() => {
    jest.doMock('systeminformation', () => {
      siLoads.n++;
      return fake;
    });
    mod = require('../../src/net/mtu') as MtuModule;
  });
  return mod!;
}
afterEach(() => {
  jest.dontMock('systeminformation');
  jest.resetModules();
  siLoads.n = 0;
});

const iface = (operstate: string, mtu: number | null, internal = false): InterfaceMtuInfo => ({ operstate, mtu, internal });

describe('maxDatagramBytes', () => {
  test.each([
    [1500, 4, 1472],
    [1500, 6, 1452],
    [1400, 4, 1372],
    [1400, 6, 1352],
    [1280, 6, 1232],
    [576, 4, 548],
    [576, 6, 528],
    [9000, 4, 8972],
    [9000, 6, 8952],
    [65535, 4, 65507],
    [65535, 6, 65487],
    [65536, 4, 65507], // capped: IPv4 total length is 16 bits
    [65536, 6, 65488],
    [29, 4, 1],
    [49, 6, 1],
  ] as const)('mtu %i over IPv%i → %i', (mtu, family, expected) => {
    expect(maxDatagramBytes(mtu, family)).toBe(expected);
  });

  test('payload caps', () => {
    expect(MAX_UDP_PAYLOAD_IPV4_BYTES).toBe(65507);
    expect(MAX_UDP_PAYLOAD_IPV6_BYTES).toBe(65527);
    expect(maxDatagramBytes(100_000, 6)).toBe(65527);
  });

  test.each([
    [28, 4],
    [48, 6],
    [0, 4],
    [1500.5, 4],
    [NaN, 6],
  ] as const)('mtu %p over IPv%i throws RangeError', (mtu, family) => {
    expect(() => maxDatagramBytes(mtu, family)).toThrow(RangeError);
  });

  test('a family other than 4 or 6 throws RangeError', () => {
    expect(() => maxDatagramBytes(1500, 5 as 4)).toThrow(RangeError);
  });
});

describe('lowestUsableMtu', () => {
  test('lowest of up, non-loopback interfaces', () => {
    expect(lowestUsableMtu([iface('up', 1500), iface('up', 1400), iface('up', 9000)])).toBe(1400);
  });
  test('loopback, down and insane MTUs are ignored', () => {
    expect(
      lowestUsableMtu([
        iface('unknown', 65536, true),
        iface('down', 600),
        iface('dormant', 700),
        iface('lowerlayerdown', 800),
        iface('up', 575),
        iface('up', null),
        iface('up', 70_000),
        iface('up', 1492),
      ]),
    ).toBe(1492);
  });
  test("'unknown' operstate (tun, WireGuard) counts as up", () => {
    expect(lowestUsableMtu([iface('up', 1500), iface('unknown', 1420)])).toBe(1420);
  });
  test('boundaries 576 and 65536 are sane', () => {
    expect(lowestUsableMtu([iface('up', 576)])).toBe(576);
    expect(lowestUsableMtu([iface('up', 65536)])).toBe(65536);
  });
  test('none usable → null', () => {
    expect(lowestUsableMtu([])).toBe(null);
    expect(lowestUsableMtu([iface('unknown', 65536, true), iface('down', 1500)])).toBe(null);
  });
});

/** Expected 'auto' MTU from `ip -o link`, restricted to interfaces Node also lists; null when `ip` is missing. */
function mtuFromIpLink(): number | null {
  let out: string;
  try {
    out = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  } catch {
    return null;
  }
  const listed = new Set(Object.keys(os.networkInterfaces()));
  const mtus: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+([^:@]+)[^<]*<([^>]*)>.*\bmtu (\d+).*\bstate (\S+)/.exec(line);
    if (!m) continue;
    const [, name, flags, mtu, state] = m;
    if (!listed.has(name!) || flags!.split(',').includes('LOOPBACK')) continue;
    if (state !== 'UP' && state !== 'UNKNOWN') continue;
    const n = Number(mtu);
    if (n >= 576 && n <= 65536) mtus.push(n);
  }
  return mtus.length ? Math.min(...mtus) : 1500;
}

describe('detectMtu (this machine)', () => {
  test('returns a sane MTU, matching ip link when available', async () => {
    const mtu = await detectMtu();
    expect(Number.isInteger(mtu)).toBe(true);
    expect(mtu).toBeGreaterThanOrEqual(576);
    expect(mtu).toBeLessThanOrEqual(65536);
    const expected = mtuFromIpLink();
    if (expected !== null) expect(mtu).toBe(expected);
  });

  test("resolveMtu('auto') equals detectMtu()", async () => {
    expect(await resolveMtu('auto')).toBe(await detectMtu());
  });
});

describe('detectMtu fallbacks (systeminformation replaced)', () => {
  test('systeminformation is loaded on the first detection, not with the module nor for a configured MTU', async () => {
    const m = withFakeSi({ networkInterfaces: async () => [{ iface: 'eth0', operstate: 'up', internal: false, mtu: 1400 }] });
    expect(siLoads.n).toBe(0);
    expect(await m.resolveMtu(1500)).toBe(1500);
    expect(await m.resolveMtuWithSource(1280)).toEqual({ mtu: 1280, source: 'configured' });
    expect(siLoads.n).toBe(0);
    expect(await m.resolveMtuWithSource('auto')).toEqual({ mtu: 1400, source: 'detected' });
    expect(siLoads.n).toBe(1);
    expect(await m.detectMtu()).toBe(1400);
    expect(siLoads.n).toBe(1);
  });

  test('uses the interfaces systeminformation lists', async () => {
    const m = withFakeSi({
      networkInterfaces: async () => [
        { iface: 'lo', operstate: 'unknown', internal: true, mtu: 65536 },
        { iface: 'eth0', operstate: 'up', internal: false, mtu: 1500 },
        { iface: 'wg0', operstate: 'unknown', internal: false, mtu: 1420 },
      ],
    });
    expect(await m.detectMtu()).toBe(1420);
  });

  test('a single (non-array) record is handled', async () => {
    const m = withFakeSi({ networkInterfaces: async () => ({ iface: 'eth0', operstate: 'up', internal: false, mtu: 9000 }) });
    expect(await m.detectMtu()).toBe(9000);
  });

  test('no usable interface → 1500', async () => {
    const m = withFakeSi({ networkInterfaces: async () => [{ iface: 'lo', operstate: 'unknown', internal: true, mtu: 65536 }] });
    expect(await m.detectMtu()).toBe(1500);
  });

  test('systeminformation failing → 1500', async () => {
    const m = withFakeSi({ networkInterfaces: () => Promise.reject(new Error('boom')) });
    expect(await m.detectMtu()).toBe(1500);
  });

  test('systeminformation hanging → 1500 after the timeout', async () => {
    const m = withFakeSi({ networkInterfaces: () => new Promise(() => undefined) });
    const started = Date.now();
    expect(await m.detectMtu(50)).toBe(1500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});

describe('resolveMtu', () => {
  test.each([576, 1280, 1500, 9000, 65536])('a number is used as is (%i)', async (n) => {
    expect(await resolveMtu(n)).toBe(n);
  });

  test.each([575, 65537, 1500.5, NaN, -1, 0])('an invalid number (%p) is ERR_BAD_CONFIG', async (n) => {
    const err: unknown = await resolveMtu(n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UdpVaultError);
    expect((err as UdpVaultError).code).toBe('ERR_BAD_CONFIG');
  });
});
