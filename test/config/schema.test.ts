import { BadInputError } from '../../src/api/errors';
import { diffSettings, parseSettings } from '../../src/config/parse';
import { RELATIONS } from '../../src/config/relations';
import { DEFAULT_SETTINGS, SCHEMA, SETTING_KEYS, type SettingKey, type Settings } from '../../src/config/schema';
import { CASES } from './cases';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BadInputError);
    expect((e as BadInputError).code).toBe('ERR_BAD_CONFIG');
    return (e as BadInputError).message;
  }
  throw new Error('expected ERR_BAD_CONFIG');
}

const MiB = 1024 * 1024;

describe('the schema', () => {
  test('the defaults are frozen and list every setting in schema order', () => {
    expect(Object.isFrozen(DEFAULT_SETTINGS)).toBe(true);
    expect(Object.keys(DEFAULT_SETTINGS)).toEqual(SETTING_KEYS);
  });

  test('the settings the next issues need, with their defaults', () => {
    expect({
      metrics: DEFAULT_SETTINGS.metrics,
      metricsMaxPeers: DEFAULT_SETTINGS.metricsMaxPeers,
      inboxMaxMessages: DEFAULT_SETTINGS.inboxMaxMessages,
      inboxMaxBytes: DEFAULT_SETTINGS.inboxMaxBytes,
      inboxFsync: DEFAULT_SETTINGS.inboxFsync,
      datagramWindowWaitMs: DEFAULT_SETTINGS.datagramWindowWaitMs,
      livenessTimeoutMs: DEFAULT_SETTINGS.livenessTimeoutMs,
      unreachableAfterMs: DEFAULT_SETTINGS.unreachableAfterMs,
      subscriberBufferBytes: DEFAULT_SETTINGS.subscriberBufferBytes,
      maxSubscriptionsPerConnection: DEFAULT_SETTINGS.maxSubscriptionsPerConnection,
      maxControlConnections: DEFAULT_SETTINGS.maxControlConnections,
    }).toEqual({
      metrics: '',
      metricsMaxPeers: 100,
      inboxMaxMessages: 10_000,
      inboxMaxBytes: 64 * MiB,
      inboxFsync: false,
      datagramWindowWaitMs: 50,
      livenessTimeoutMs: 10_000,
      unreachableAfterMs: 5_000,
      subscriberBufferBytes: 16 * MiB,
      maxSubscriptionsPerConnection: 16,
      maxControlConnections: 64,
    });
    // SPEC §4: a silent peer is reported unreachable within 15 s by default
    expect(DEFAULT_SETTINGS.livenessTimeoutMs + DEFAULT_SETTINGS.unreachableAfterMs).toBe(15_000);
  });

  test('every setting: its default passes its own rule, a description, a reload mode', () => {
    for (const k of SETTING_KEYS) {
      const spec = SCHEMA[k];
      expect([k, spec.parse(spec.default, false)]).toEqual([k, spec.default]);
      expect(spec.description.length).toBeGreaterThan(20);
      expect(['live', 'restart']).toContain(spec.apply);
    }
  });

  test('only what is read once at start needs a restart', () => {
    expect(SETTING_KEYS.filter((k) => SCHEMA[k].apply === 'restart')).toEqual([
      'port',
      'host',
      'mtu',
      'aeadBackend',
      'maxMessageBytes',
      'congestionControl',
      'reliableWindow',
      'reassemblyTimeoutMs',
      'reassemblyPeerBytes',
      'reassemblyTotalBytes',
      'peerPacketsPerSecond',
      'peerPacketBurst',
      'handshakesPerSecondPerIp',
      'handshakeBurstPerIp',
      'handshakesPerSecond',
      'handshakeBurst',
      'globalPacketsPerSecond',
      'metrics',
      'metricsMaxPeers',
    ]);
  });

  for (const key of Object.keys(CASES) as SettingKey[]) {
    test(`${key}: boundary values and text coercion accepted, bad values refused by the rule`, () => {
      const c = CASES[key];
      const rule = SCHEMA[key];
      expect(rule.expected).toBe(c.expected);
      for (const v of c.good) expect([v, rule.parse(v, false)]).toEqual([v, v]);
      for (const [text, parsed] of c.goodText) expect([text, rule.parse(text, true)]).toEqual([text, parsed]);
      for (const v of c.bad) expect([v, rule.parse(v, false)]).toEqual([v, undefined]);
      for (const v of c.badText) expect([v, rule.parse(v, true)]).toEqual([v, undefined]);
    });
  }
});

describe('parseSettings (createNode options, reload)', () => {
  test('nothing → a fresh copy of the defaults', () => {
    const s = parseSettings(undefined, 'createNode options');
    expect(s).toEqual(DEFAULT_SETTINGS);
    expect(s).not.toBe(DEFAULT_SETTINGS);
    expect(parseSettings({}, 'createNode options')).toEqual(DEFAULT_SETTINGS);
  });

  test('the issue 8 case: {maxMessageBytes: -5, padding: "bogus"} is refused, naming the setting and the source', () => {
    expect(configError(() => parseSettings({ maxMessageBytes: -5, padding: 'bogus' }, 'createNode options'))).toBe(
      'invalid setting "maxMessageBytes" in createNode options: expected an integer 1..67108864, got -5',
    );
    expect(configError(() => parseSettings({ padding: 'bogus' }, 'createNode options'))).toBe(
      'invalid setting "padding" in createNode options: expected one of "mtu", "bucket", "none", got "bogus"',
    );
  });

  test('values are typed: text is not coerced for a program', () => {
    expect(configError(() => parseSettings({ port: '12000' }, 'createNode options'))).toBe(
      'invalid setting "port" in createNode options: expected an integer 0..65535, got "12000"',
    );
    expect(configError(() => parseSettings({ inboxFsync: 'true' }, 'x'))).toBe('invalid setting "inboxFsync" in x: expected true or false, got "true"');
  });

  test('undefined values are unset; unknown keys and non-objects are refused', () => {
    expect(parseSettings({ port: undefined, host: '127.0.0.1' }, 'o')).toEqual({ ...DEFAULT_SETTINGS, host: '127.0.0.1' });
    expect(configError(() => parseSettings({ maxMesageBytes: 5 }, 'createNode options'))).toBe(
      'unknown setting "maxMesageBytes" in createNode options (did you mean "maxMessageBytes"?); the settings are listed in config/default.json',
    );
    expect(configError(() => parseSettings({ '// port': 1 }, 'o'))).toBe('unknown setting "// port" in o; the settings are listed in config/default.json');
    expect(configError(() => parseSettings(5, 'createNode options'))).toBe('settings in createNode options must be an object of setting → value, got 5');
    expect(configError(() => parseSettings([], 'o'))).toBe('settings in o must be an object of setting → value, got []');
  });

  test('a full settings object (reload) passes unchanged', () => {
    const s: Settings = { ...DEFAULT_SETTINGS, port: 1, padding: 'none', inboxFsync: true, metrics: '[::1]:9464', mtu: 1280 };
    expect(parseSettings(s, 'reload')).toEqual(s);
  });
});

describe('cross-field rules', () => {
  // [settings that break the rule, the exact message]
  const broken: [Partial<Settings>, string][] = [
    [{ rekeyAfterMs: 180_000 }, 'invalid setting "rekeyAfterMs" in o: must be less than rejectAfterMs (180000), got 180000; a session is renewed before it expires'],
    [{ keepaliveMs: 200_000 }, 'invalid setting "keepaliveMs" in o: must be less than rejectAfterMs (180000), got 200000; keepalives are sent before the session expires'],
    [{ maxMessageBytes: 4 * MiB + 1 }, 'invalid setting "maxMessageBytes" in o: must be at most reassemblyPeerBytes (4194304), got 4194305; the largest message must fit the reassembly budget of one peer'],
    [{ reassemblyPeerBytes: 64 * MiB + 1 }, 'invalid setting "reassemblyPeerBytes" in o: must be at most reassemblyTotalBytes (67108864), got 67108865; one peer cannot hold more than all peers together'],
    [{ queueMaxBytes: MiB - 1 }, 'invalid setting "queueMaxBytes" in o: must be at least maxMessageBytes (1048576), got 1048575; the largest message must fit the pre-session queue'],
    [{ inboxMaxBytes: 1000 }, 'invalid setting "inboxMaxBytes" in o: must be at least maxMessageBytes (1048576), got 1000; the largest message must fit the inbox'],
    [{ subscriberBufferBytes: 1000 }, `invalid setting "subscriberBufferBytes" in o: must be at least maxMessageBytes (1048576), got 1000; the largest message must fit a subscriber's buffer`],
  ];

  test('one case per rule', () => {
    expect(broken.length).toBe(RELATIONS.length);
  });

  for (const [partial, message] of broken) {
    test(message.slice(0, 60), () => {
      expect(configError(() => parseSettings(partial, 'o'))).toBe(message);
    });
  }

  test('the edges that hold are accepted', () => {
    expect(() => parseSettings({ rekeyAfterMs: 179_999, keepaliveMs: 179_999, maxMessageBytes: 4 * MiB, queueMaxBytes: 4 * MiB, peerPacketBurst: 1, peerPacketsPerSecond: 100_000_000 }, 'o')).not.toThrow();
    expect(() => parseSettings({ reassemblyPeerBytes: 64 * MiB, handshakeBurstPerIp: 1, handshakesPerSecondPerIp: 100_000, inboxMaxBytes: MiB, subscriberBufferBytes: MiB }, 'o')).not.toThrow();
  });

  test('both set in one source: the larger one is named', () => {
    expect(configError(() => parseSettings({ rekeyAfterMs: 200_000, rejectAfterMs: 100_000 }, 'o'))).toBe(
      'invalid setting "rejectAfterMs" in o: must be greater than rekeyAfterMs (200000), got 100000; a session is renewed before it expires',
    );
  });
});

describe('diffSettings', () => {
  test('no change → nothing', () => {
    expect(diffSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS })).toEqual({ live: [], restart: [] });
  });

  test('changes split into live and restart, in schema order', () => {
    const next: Settings = { ...DEFAULT_SETTINGS, logLevel: 'debug', port: 1, padding: 'none', metrics: '127.0.0.1:1', keepaliveMs: 5000, inboxFsync: true };
    expect(diffSettings(DEFAULT_SETTINGS, next)).toEqual({
      live: ['padding', 'keepaliveMs', 'inboxFsync', 'logLevel'],
      restart: ['port', 'metrics'],
    });
  });

  test('mtu from auto to a number and back is a change', () => {
    expect(diffSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, mtu: 1500 })).toEqual({ live: [], restart: ['mtu'] });
  });
});
