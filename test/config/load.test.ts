import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SETTINGS, type Settings } from '../../src/settings';
import { BadInputError } from '../../src/errors';
import { envName, flagName, loadConfig, RULES, SETTING_KEYS } from '../../src/daemon/config';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-config-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeConfig(obj: unknown, name = 'cfg.json'): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return f;
}

function configError(fn: () => unknown): BadInputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BadInputError);
    expect((e as BadInputError).code).toBe('ERR_BAD_CONFIG');
    return e as BadInputError;
  }
  throw new Error('expected ERR_BAD_CONFIG');
}

describe('config/default.json', () => {
  const doc = JSON.parse(fs.readFileSync(path.join(__dirname, '../../config/default.json'), 'utf8')) as {
    settings: Record<string, { default: unknown; description: string }>;
  };

  test('lists exactly the settings of DEFAULT_SETTINGS with equal defaults and a description', () => {
    expect(Object.keys(doc.settings).sort()).toEqual(Object.keys(DEFAULT_SETTINGS).sort());
    for (const [k, v] of Object.entries(doc.settings)) {
      expect([k, v.default]).toEqual([k, DEFAULT_SETTINGS[k as keyof Settings]]);
      expect(typeof v.description).toBe('string');
      expect(v.description.length).toBeGreaterThan(20);
    }
  });

  test('the validator covers exactly the settings and accepts every default', () => {
    expect(Object.keys(RULES).sort()).toEqual(Object.keys(DEFAULT_SETTINGS).sort());
    expect(loadConfig({ file: writeConfig(Object.fromEntries(Object.entries(doc.settings).map(([k, v]) => [k, v.default]))) })).toEqual(DEFAULT_SETTINGS);
  });
});

describe('loadConfig precedence', () => {
  test('nothing given → the defaults', () => {
    expect(loadConfig({ env: {} })).toEqual(DEFAULT_SETTINGS);
  });

  test('defaults < file < environment < flags', () => {
    const file = writeConfig({ port: 12001, host: '127.0.0.1', logLevel: 'warn', padding: 'mtu' });
    const env = { UDPVAULT_PORT: '12002', UDPVAULT_LOG_LEVEL: 'debug' };
    const s = loadConfig({ file, env, flags: { port: '12003' } });
    expect(s.port).toBe(12003); // flag
    expect(s.logLevel).toBe('debug'); // environment over file
    expect(s.host).toBe('127.0.0.1'); // file over default
    expect(s.padding).toBe('mtu');
    expect(s.mtu).toBe('auto'); // default
  });

  test('environment variable names derive from the setting names', () => {
    expect(envName('port')).toBe('UDPVAULT_PORT');
    expect(envName('logLevel')).toBe('UDPVAULT_LOG_LEVEL');
    expect(envName('maxMessageBytes')).toBe('UDPVAULT_MAX_MESSAGE_BYTES');
    expect(flagName('logLevel')).toBe('--log-level');
    const env = Object.fromEntries(SETTING_KEYS.map((k) => [envName(k), String(DEFAULT_SETTINGS[k])]));
    env.UDPVAULT_MAX_MESSAGE_BYTES = '2000';
    env.UDPVAULT_MTU = '1400';
    const s = loadConfig({ env });
    expect(s.maxMessageBytes).toBe(2000);
    expect(s.mtu).toBe(1400);
  });

  test('empty environment values and unrelated variables are ignored', () => {
    expect(loadConfig({ env: { UDPVAULT_PORT: '', UDPVAULT_HOME: '/x', PATH: '/bin' } })).toEqual(DEFAULT_SETTINGS);
  });

  test('typed flag values are accepted', () => {
    expect(loadConfig({ flags: { port: 0 } }).port).toBe(0);
  });
});

describe('loadConfig refuses invalid values, naming the setting and the source', () => {
  test('the exact message for a file value', () => {
    const file = writeConfig({ port: 'abc' });
    expect(configError(() => loadConfig({ file })).message).toBe(`invalid setting "port" in ${file}: expected an integer 0..65535, got "abc"`);
  });

  test('environment and flag sources are named', () => {
    expect(configError(() => loadConfig({ env: { UDPVAULT_PORT: '70000' } })).message).toBe(
      'invalid setting "port" in environment variable UDPVAULT_PORT: expected an integer 0..65535, got "70000"',
    );
    expect(configError(() => loadConfig({ flags: { logLevel: 'loud' } })).message).toBe(
      'invalid setting "logLevel" in flag --log-level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "loud"',
    );
  });

  const invalid: Record<keyof Settings, unknown[]> = {
    port: [-1, 65536, 1.5, '11000', null, true],
    host: ['', 'not a host', 42, '999.999.1.1', 'localhost'],
    mtu: ['big', 575, 65536, 1500.5, 'AUTO', null],
    padding: ['random', '', 3],
    compressionLevel: [0, 23, -1, 'fast'],
    maxMessageBytes: [0, 64 * 1024 * 1024 + 1, '1MiB'],
    freshnessWindowMs: [999, 3_600_001, 'x'],
    rekeyAfterMs: [999, 86_400_001],
    rekeyAfterMessages: [0, 2 ** 53, -5],
    rejectAfterMs: [999, 'never'],
    sessionGraceMs: [-1, 600_001],
    keepaliveMs: [999, 3_600_001, 0],
    handshakeTimeoutMs: [99, 600_001],
    queueMaxMessages: [0, 1_000_001],
    queueMaxBytes: [0, 2 ** 31],
    peerPacketsPerSecond: [0, 100_000_001],
    peerPacketBurst: [0, 100_000_001],
    handshakesPerSecondPerIp: [0, 100_001],
    handshakeBurstPerIp: [0, 1_000_001],
    globalPacketsPerSecond: [0, 100_000_001],
    reliableTimeoutMs: [99, 3_600_001],
    reliableWindow: [0, 65537],
    reassemblyTimeoutMs: [99, 3_600_001],
    reassemblyPeerBytes: [0, 'lots'],
    reassemblyTotalBytes: [0, {}],
    subscriberBufferMessages: [0, 10_000_001, []],
    logLevel: ['verbose', 'INFO', 1],
  };

  test('every setting has invalid cases here', () => {
    expect(Object.keys(invalid).sort()).toEqual(Object.keys(DEFAULT_SETTINGS).sort());
  });

  for (const [key, values] of Object.entries(invalid)) {
    for (const v of values) {
      test(`${key} = ${JSON.stringify(v)} in a file`, () => {
        const file = writeConfig({ [key]: v });
        const e = configError(() => loadConfig({ file }));
        expect(e.message).toContain(`invalid setting "${key}" in ${file}: expected `);
      });
      if ((typeof v === 'string' && v !== '') || typeof v === 'number') {
        test(`${key} = ${JSON.stringify(v)} in the environment`, () => {
          if (typeof v === 'number' || v !== String(DEFAULT_SETTINGS[key as keyof Settings])) {
            const name = envName(key as keyof Settings);
            const e = configError(() => loadConfig({ env: { [name]: String(v) } }));
            expect(e.message).toContain(`invalid setting "${key}" in environment variable ${name}`);
          }
        });
      }
    }
  }

  test('a file must give integers as JSON numbers; the environment may give them as text', () => {
    expect(() => loadConfig({ file: writeConfig({ port: '12000' }) })).toThrow(/expected an integer/);
    expect(loadConfig({ env: { UDPVAULT_PORT: ' 12000 ' } }).port).toBe(12000);
    expect(() => loadConfig({ env: { UDPVAULT_PORT: '12000abc' } })).toThrow(/UDPVAULT_PORT/);
    expect(() => loadConfig({ env: { UDPVAULT_PORT: '1e4' } })).toThrow(/UDPVAULT_PORT/);
  });

  test('relations between settings are checked', () => {
    expect(configError(() => loadConfig({ file: writeConfig({ rekeyAfterMs: 200_000, rejectAfterMs: 100_000 }) })).message).toMatch(
      /invalid setting "rejectAfterMs" in .*cfg\.json: must be at least rekeyAfterMs \(200000\), got 100000/,
    );
    expect(() => loadConfig({ env: { UDPVAULT_MAX_MESSAGE_BYTES: String(8 * 1024 * 1024) } })).toThrow(/"reassemblyPeerBytes".*at least maxMessageBytes/);
    expect(() => loadConfig({ flags: { reassemblyPeerBytes: 100 * 1024 * 1024 } })).toThrow(/"reassemblyTotalBytes"/);
  });
});

describe('loadConfig refuses bad files', () => {
  test('unknown keys, with a suggestion', () => {
    const file = writeConfig({ prot: 1 });
    expect(configError(() => loadConfig({ file })).message).toBe(`unknown setting "prot" in ${file} (did you mean "port"?); the settings are listed in config/default.json`);
    expect(configError(() => loadConfig({ file: writeConfig({ zzzzzzzz: 1 }) })).message).not.toContain('did you mean');
  });

  test('missing file, invalid JSON, not an object', () => {
    expect(configError(() => loadConfig({ file: path.join(dir, 'nope.json') })).message).toMatch(/cannot read configuration file .*nope\.json \(ENOENT\)/);
    expect(configError(() => loadConfig({ file: writeConfig('{"port": 1,') })).message).toMatch(/cfg\.json is not valid JSON/);
    expect(configError(() => loadConfig({ file: writeConfig('[1,2]') })).message).toMatch(/must contain a JSON object/);
    expect(configError(() => loadConfig({ file: writeConfig('null') })).message).toMatch(/must contain a JSON object/);
  });

  test('an unknown flag', () => {
    expect(() => loadConfig({ flags: { nope: '1' } as never })).toThrow(/unknown setting "nope" given as a flag/);
  });
});
