import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError } from '../../src/api/errors';
import { loadConfig, settingsFromEnv } from '../../src/config/load';
import { DEFAULT_SETTINGS, envName, flagName, SETTING_KEYS, type SettingKey } from '../../src/config/schema';
import { CASES } from './cases';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-config-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function writeConfig(obj: unknown): string {
  const f = path.join(dir, `cfg${++fileNo}.json`);
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

/** The value as the error message shows it. */
const shown = (v: unknown): string => JSON.stringify(v) ?? String(v);

describe('precedence: defaults < file < environment < flags', () => {
  test('nothing given → the defaults, no warnings', () => {
    expect(loadConfig({ env: {} })).toEqual({ settings: DEFAULT_SETTINGS, origin: {}, warnings: [] });
  });

  test('each layer overrides the one below and is named as the origin', () => {
    const file = writeConfig({ port: 12001, host: '127.0.0.1', logLevel: 'warn', padding: 'mtu' });
    const env = { UDPVAULT_PORT: '12002', UDPVAULT_LOG_LEVEL: 'debug' };
    const { settings, origin } = loadConfig({ file, env, flags: { port: '12003' } });
    expect(settings).toEqual({ ...DEFAULT_SETTINGS, port: 12003, logLevel: 'debug', host: '127.0.0.1', padding: 'mtu' });
    expect(origin).toEqual({
      port: 'flag --port',
      logLevel: 'environment variable UDPVAULT_LOG_LEVEL',
      host: file,
      padding: file,
    });
  });

  test('environment variable and flag names derive from the setting names', () => {
    expect(envName('port')).toBe('UDPVAULT_PORT');
    expect(envName('logLevel')).toBe('UDPVAULT_LOG_LEVEL');
    expect(envName('maxSubscriptionsPerConnection')).toBe('UDPVAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION');
    expect(flagName('logLevel')).toBe('--log-level');
    expect(flagName('inboxFsync')).toBe('--inbox-fsync');
  });

  test('every setting can be given in the environment as the text of its default', () => {
    const env = Object.fromEntries(SETTING_KEYS.map((k) => [envName(k), String(DEFAULT_SETTINGS[k])]));
    delete env.UDPVAULT_METRICS; // "" is unset in the environment
    const loaded = loadConfig({ env });
    expect(loaded.settings).toEqual(DEFAULT_SETTINGS);
    expect(loaded.warnings).toEqual([]);
    expect(Object.keys(loaded.origin).length).toBe(SETTING_KEYS.length - 1);
  });

  test('empty environment values are unset; UDPVAULT_HOME and unrelated variables are not settings', () => {
    expect(loadConfig({ env: { UDPVAULT_PORT: '', UDPVAULT_HOME: '/x', PATH: '/bin', UDPVAULTX: '1' } })).toEqual({
      settings: DEFAULT_SETTINGS,
      origin: {},
      warnings: [],
    });
  });

  test('typed flag values (from a program) are accepted', () => {
    const { settings } = loadConfig({ flags: { port: 0, inboxFsync: true, metrics: '127.0.0.1:0' } });
    expect([settings.port, settings.inboxFsync, settings.metrics]).toEqual([0, true, '127.0.0.1:0']);
  });
});

describe('unknown UDPVAULT_* variables are warnings, not errors', () => {
  test('the exact warning, with a suggestion when close to a known name', () => {
    const loaded = loadConfig({ env: { UDPVAULT_PROT: '1', UDPVAULT_LOG_LEVLE: 'x', UDPVAULT_ZZZZZZZZZZZZ: '1', UDPVAULT_HOMEDIR: '/x' } });
    expect(loaded.settings).toEqual(DEFAULT_SETTINGS);
    expect(loaded.warnings).toEqual([
      'unknown environment variable UDPVAULT_HOMEDIR (did you mean UDPVAULT_HOME?); it is ignored',
      'unknown environment variable UDPVAULT_LOG_LEVLE (did you mean UDPVAULT_LOG_LEVEL?); it is ignored',
      'unknown environment variable UDPVAULT_PROT (did you mean UDPVAULT_PORT?); it is ignored',
      'unknown environment variable UDPVAULT_ZZZZZZZZZZZZ; it is ignored',
    ]);
  });

  test('UDPVAULT_HEAP_SETTLE (read by createNode: the heap settler) is no setting and not warned about as unknown', () => {
    expect(settingsFromEnv({ UDPVAULT_HEAP_SETTLE: '0', UDPVAULT_HEAP_SETTEL: '0' })).toEqual({
      values: {},
      warnings: ['unknown environment variable UDPVAULT_HEAP_SETTEL (did you mean UDPVAULT_HEAP_SETTLE?); it is ignored'],
    });
  });

  test('settingsFromEnv keeps the text of known variables', () => {
    expect(settingsFromEnv({ UDPVAULT_MTU: '1400', UDPVAULT_INBOX_FSYNC: '1', UDPVAULT_PORT: '' })).toEqual({
      values: { mtu: '1400', inboxFsync: '1' },
      warnings: [],
    });
  });
});

describe('every setting refuses bad values from a file, the environment and a flag, with the exact message', () => {
  test('cases cover exactly the settings', () => {
    expect(Object.keys(CASES).sort()).toEqual([...SETTING_KEYS].sort());
  });

  for (const key of Object.keys(CASES) as SettingKey[]) {
    const c = CASES[key];
    test(`${key}: file`, () => {
      for (const v of c.bad) {
        const file = writeConfig({ [key]: v });
        expect(configError(() => loadConfig({ file })).message).toBe(`invalid setting "${key}" in ${file}: expected ${c.expected}, got ${shown(v)}`);
      }
    });
    test(`${key}: environment`, () => {
      const name = envName(key);
      for (const v of c.badText) {
        expect(configError(() => loadConfig({ env: { [name]: v } })).message).toBe(
          `invalid setting "${key}" in environment variable ${name}: expected ${c.expected}, got ${JSON.stringify(v)}`,
        );
      }
    });
    test(`${key}: flag`, () => {
      for (const v of c.badText) {
        expect(configError(() => loadConfig({ flags: { [key]: v } })).message).toBe(
          `invalid setting "${key}" in flag ${flagName(key)}: expected ${c.expected}, got ${JSON.stringify(v)}`,
        );
      }
    });
  }

  test('a file must give integers as JSON numbers; the environment may give them as text', () => {
    expect(configError(() => loadConfig({ file: writeConfig({ port: '12000' }) })).message).toContain('expected an integer 0..65535, got "12000"');
    expect(loadConfig({ env: { UDPVAULT_PORT: ' 12000 ' } }).settings.port).toBe(12000);
  });
});

describe('configuration files', () => {
  test('unknown keys are errors, with a suggestion when close', () => {
    const file = writeConfig({ prot: 1 });
    expect(configError(() => loadConfig({ file })).message).toBe(`unknown setting "prot" in ${file} (did you mean "port"?); the settings are listed in config/default.json`);
    const f2 = writeConfig({ zzzzzzzz: 1 });
    expect(configError(() => loadConfig({ file: f2 })).message).toBe(`unknown setting "zzzzzzzz" in ${f2}; the settings are listed in config/default.json`);
    const f3 = writeConfig({ _about: 'x' });
    expect(configError(() => loadConfig({ file: f3 })).message).toBe(`unknown setting "_about" in ${f3}; the settings are listed in config/default.json`);
  });

  test('keys starting with "//" are comments', () => {
    const file = writeConfig({ '//': 'my settings', '// port': 'the port', port: 12000, '//prot': 1 });
    expect(loadConfig({ file })).toEqual({ settings: { ...DEFAULT_SETTINGS, port: 12000 }, origin: { port: file }, warnings: [] });
  });

  test('comments are only for files: a flag named "// port" is an unknown setting', () => {
    expect(configError(() => loadConfig({ flags: { '// port': '1' } as never })).message).toBe(
      'unknown setting "// port" in flag --// port; the settings are listed in config/default.json',
    );
  });

  test('missing file, invalid JSON, not an object: the message names the file; the cause is kept', () => {
    const missing = path.join(dir, 'nope.json');
    const e = configError(() => loadConfig({ file: missing }));
    expect(e.message).toBe(`cannot read configuration file ${missing} (ENOENT); check the --config path`);
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    const bad = writeConfig('{"port": 1,');
    const j = configError(() => loadConfig({ file: bad }));
    expect(j.message).toMatch(new RegExp(`^configuration file ${bad} is not valid JSON: `));
    expect(j.cause).toBeInstanceOf(SyntaxError);
    for (const text of ['[1,2]', 'null', '"port"', '12']) {
      const f = writeConfig(text);
      expect(configError(() => loadConfig({ file: f })).message).toBe(`configuration file ${f} must contain a JSON object of settings, e.g. {"port": 12000}`);
    }
  });

  test('an unknown flag', () => {
    expect(configError(() => loadConfig({ flags: { nope: '1' } as never })).message).toBe(
      'unknown setting "nope" in flag --nope; the settings are listed in config/default.json',
    );
  });
});

describe('cross-field rules name the setting that was set and where', () => {
  test('a file setting both: the larger one is named', () => {
    const file = writeConfig({ rekeyAfterMs: 200_000, rejectAfterMs: 100_000 });
    expect(configError(() => loadConfig({ file })).message).toBe(
      `invalid setting "rejectAfterMs" in ${file}: must be greater than rekeyAfterMs (200000), got 100000; a session is renewed before it expires`,
    );
  });

  test('only the smaller one set (environment): it is named, against the default of the other', () => {
    expect(configError(() => loadConfig({ env: { UDPVAULT_MAX_MESSAGE_BYTES: String(8 * 1024 * 1024) } })).message).toBe(
      'invalid setting "maxMessageBytes" in environment variable UDPVAULT_MAX_MESSAGE_BYTES: must be at most reassemblyPeerBytes (4194304), got 8388608; the largest message must fit the reassembly budget of one peer',
    );
  });

  test('set in two layers: the higher-precedence one is named', () => {
    const file = writeConfig({ reassemblyTotalBytes: 8 * 1024 * 1024 });
    expect(configError(() => loadConfig({ file, flags: { reassemblyPeerBytes: 16 * 1024 * 1024 } })).message).toBe(
      'invalid setting "reassemblyPeerBytes" in flag --reassembly-peer-bytes: must be at most reassemblyTotalBytes (8388608), got 16777216; one peer cannot hold more than all peers together',
    );
  });
});
