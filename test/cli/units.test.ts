/** Human units of the CLI output, exact. */
import { ago, bytes, clip, duration, millis, plural, wrapJoin } from '../../src/cli/units';
import { fingerprint, shortFingerprint } from '../../src/crypto/fingerprint';

test('bytes: B below 1 KiB, one decimal below 100 units, binary prefixes', () => {
  expect([0, 1023, 1024, 1536, 102_400, 13_567_834, 1024 ** 3 * 1.25, 1024 ** 4 * 3].map(bytes)).toEqual([
    '0 B',
    '1023 B',
    '1.0 KiB',
    '1.5 KiB',
    '100 KiB',
    '12.9 MiB',
    '1.3 GiB',
    '3.0 TiB',
  ]);
});

test('millis, duration, ago', () => {
  expect([null, 0.44, 12.35, 250.4, 1500].map(millis)).toEqual(['-', '0.4 ms', '12.3 ms', '250 ms', '1.5 s']);
  expect([0, 59.9, 60, 3599, 3600, 7500, 86_400, 3 * 86_400].map((s) => duration(s))).toEqual(['0 s', '59 s', '1 min', '59 min', '1 h', '2 h 5 min', '1 day', '3 days']);
  const now = Date.parse('2030-01-01T12:00:00Z');
  expect([null, 'garbage', '2030-01-01T12:00:00Z', '2030-01-01T11:59:48Z', '2030-01-01T11:57:00Z'].map((t) => ago(t, now))).toEqual([
    'never',
    'never',
    'just now',
    '12 s ago',
    '3 min ago',
  ]);
  expect(ago('2030-01-01T09:55:00Z', now)).toBe('2 h 5 min ago');
  expect(ago('2030-01-01T09:55:00Z', now, true)).toBe('2 h ago');
});

test('clip, wrapJoin, plural', () => {
  expect(clip('abcdef', 6)).toBe('abcdef');
  expect(clip('abcdefg', 6)).toBe('abcde…');
  expect(wrapJoin(['aaaa 1', 'bbbb 2', 'cccc 3'], 4, 20)).toBe('aaaa 1, bbbb 2,\n    cccc 3');
  expect([plural(1, 'message'), plural(0, 'message'), plural(2, 'byte')]).toEqual(['1 message', '0 messages', '2 bytes']);
});

test('fingerprint: first 12 bytes of SHA-256 of the raw key in 6 hex groups; short form = 2 groups', () => {
  const key = Buffer.alloc(32, 7).toString('base64url');
  // Computed independently: python3 hashlib.sha256(bytes([7] * 32)).hexdigest()[:24].
  const expected = '4bb0-6f8e-4e3a-7715-d201-d573';
  expect(fingerprint(key)).toBe(expected);
  expect(fingerprint(key)).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){5}$/);
  expect(shortFingerprint(key)).toBe(expected.slice(0, 9));
  expect(shortFingerprint(null)).toBeNull();
  expect(() => fingerprint('not a key')).toThrow(RangeError);
});
