/**
 * Per-setting test cases, written out by hand (not derived from the schema, so that a changed
 * range or rule shows up as a failing test): the `expected` text of the error message, values a
 * config file or program may not give, text an environment variable or flag may not give, and
 * boundary values that are accepted.
 */
import type { SettingKey } from '../../src/config/schema';

export interface SettingCases {
  expected: string;
  /** Refused from a JSON file / createNode options (wrong type, out of range, not in the enum). */
  bad: unknown[];
  /** Refused as text (environment variable, flag). */
  badText: string[];
  /** Accepted from a file (boundaries); [value, parsed]. */
  good: unknown[];
  /** Accepted as text; [text, parsed]. */
  goodText: [string, unknown][];
}

const int = (min: number, max: number, extra: unknown[] = []): SettingCases => ({
  expected: `an integer ${min}..${max}`,
  bad: [min - 1, max + 1, 1.5, String(min), null, true, [], ...extra],
  badText: [String(min - 1), String(max + 1), '1.5', 'abc', '1e4', '0x10', `${min}abc`],
  good: [min, max],
  goodText: [
    [` ${min} `, min],
    [String(max), max],
  ],
});

const LEVELS = '"trace", "debug", "info", "warn", "error", "fatal", "silent"';
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const CASES: Record<SettingKey, SettingCases> = {
  port: int(0, 65535),
  host: {
    expected: "an IPv4 or IPv6 address (e.g. '0.0.0.0', '::' or '127.0.0.1')",
    bad: ['', 'not a host', 42, '999.999.1.1', 'localhost', null],
    badText: ['localhost', '1.2.3', '::g'],
    good: ['127.0.0.1', '::', '::1', '0.0.0.0'],
    goodText: [['::1', '::1']],
  },
  mtu: {
    expected: '"auto" or an integer 576..65535',
    bad: ['big', 575, 65536, 1500.5, 'AUTO', null, '1400'],
    badText: ['big', '575', '65536', 'AUTO', '1400.5'],
    good: ['auto', 576, 65535],
    goodText: [
      ['auto', 'auto'],
      ['1400', 1400],
    ],
  },
  padding: {
    expected: 'one of "mtu", "bucket", "none"',
    bad: ['random', '', 3, 'MTU', null],
    badText: ['random', 'MTU', 'Bucket'],
    good: ['mtu', 'bucket', 'none'],
    goodText: [['none', 'none']],
  },
  aeadBackend: {
    expected: 'one of "auto", "native", "wasm"',
    bad: ['sodium', '', 1, 'Native', null],
    badText: ['sodium', 'WASM'],
    good: ['auto', 'native', 'wasm'],
    goodText: [['wasm', 'wasm']],
  },
  compressionLevel: int(1, 22),
  maxMessageBytes: int(1, 64 * MiB, ['1MiB']),
  freshnessWindowMs: int(1000, 3_600_000),
  rekeyAfterMs: int(100, 86_400_000),
  rekeyAfterMessages: {
    expected: 'an integer 1..2^53-1',
    bad: [0, 2 ** 53, -5, 1.5, '5'],
    badText: ['0', '9007199254740992', '-5', 'many'],
    good: [1, Number.MAX_SAFE_INTEGER],
    goodText: [['9007199254740991', Number.MAX_SAFE_INTEGER]],
  },
  rejectAfterMs: int(1000, 172_800_000, ['never']),
  sessionGraceMs: int(0, 600_000),
  keepaliveMs: int(1000, 3_600_000),
  handshakeTimeoutMs: int(100, 600_000),
  livenessTimeoutMs: int(1000, 3_600_000),
  unreachableAfterMs: int(100, 3_600_000),
  queueMaxMessages: int(1, 1_000_000),
  queueMaxBytes: int(1, GiB),
  datagramWindowWaitMs: int(0, 60_000),
  congestionControl: {
    expected: 'one of "cubic", "newreno"',
    bad: ['bbr', '', 3, 'CUBIC', null],
    badText: ['bbr', 'Cubic', 'reno'],
    good: ['cubic', 'newreno'],
    goodText: [['newreno', 'newreno']],
  },
  closeGraceMs: int(0, 3_600_000),
  reliableTimeoutMs: int(100, 3_600_000),
  reliableWindow: int(1, 65536),
  reassemblyTimeoutMs: int(100, 3_600_000),
  reassemblyPeerBytes: int(1, 16 * GiB, ['lots']),
  reassemblyTotalBytes: int(1, 64 * GiB, [{}]),
  inboxMaxMessages: int(1, 10_000_000),
  inboxMaxBytes: int(1, 16 * GiB),
  inboxFsync: {
    expected: 'true or false',
    bad: ['true', 1, 0, null, 'yes'],
    badText: ['yes', 'no', 'TRUE', '2', 'on'],
    good: [true, false],
    goodText: [
      ['true', true],
      ['1', true],
      ['false', false],
      ['0', false],
    ],
  },
  peerPacketsPerSecond: int(1, 100_000_000),
  peerPacketBurst: int(1, 100_000_000),
  handshakesPerSecondPerIp: int(1, 100_000),
  handshakeBurstPerIp: int(1, 1_000_000),
  handshakesPerSecond: int(1, 1_000_000),
  handshakeBurst: int(1, 10_000_000),
  globalPacketsPerSecond: int(1, 100_000_000),
  subscriberBufferMessages: int(1, 10_000_000),
  subscriberBufferBytes: int(1, 4 * GiB),
  maxSubscriptionsPerConnection: int(1, 1024),
  maxControlConnections: int(1, 65536),
  metrics: {
    expected: '"" (off) or an address and port such as "127.0.0.1:9464" or "[::1]:9464"',
    bad: ['localhost:9464', '127.0.0.1', '127.0.0.1:65536', '::1:9464', '[127.0.0.1]:9464', ':9464', 9464, null, true],
    badText: ['localhost:9464', '9464', '[::1]', '1.2.3.4:x'],
    good: ['', '127.0.0.1:9464', '[::1]:9464', '0.0.0.0:0'],
    goodText: [['[::]:9464', '[::]:9464']],
  },
  metricsMaxPeers: int(0, 10_000),
  logLevel: {
    expected: `one of ${LEVELS}`,
    bad: ['verbose', 'INFO', 1, null],
    badText: ['verbose', 'INFO', 'loud'],
    good: ['trace', 'silent'],
    goodText: [['debug', 'debug']],
  },
};
