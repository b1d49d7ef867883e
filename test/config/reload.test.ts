import { BadInputError } from '../../src/api/errors';
import { nodeSettings } from '../../src/config/parse';
import { describeReload, planReload } from '../../src/config/reload';
import { DEFAULT_SETTINGS, type Settings } from '../../src/config/schema';

const MiB = 1024 * 1024;

describe('planReload', () => {
  test('live settings are applied, restart-only ones keep their running value and are named', () => {
    const current: Settings = { ...DEFAULT_SETTINGS, port: 11000 };
    const next: Settings = { ...DEFAULT_SETTINGS, port: 12000, logLevel: 'debug', padding: 'none' };
    const plan = planReload(current, next);
    expect(plan.settings).toEqual({ ...DEFAULT_SETTINGS, port: 11000, logLevel: 'debug', padding: 'none' });
    expect(plan.applied).toEqual(['padding', 'logLevel']);
    expect(plan.needsRestart).toEqual(['port']);
    expect(plan.changes).toEqual({ port: { from: 11000, to: 12000 }, padding: { from: 'bucket', to: 'none' }, logLevel: { from: 'info', to: 'debug' } });
    expect(describeReload(plan)).toEqual({
      msg: 'configuration reloaded: applied padding, logLevel; needs a restart to change: port',
      fields: { applied: ['padding', 'logLevel'], needsRestart: ['port'], changes: plan.changes },
    });
  });

  test('nothing changed', () => {
    const plan = planReload(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS });
    expect([plan.applied, plan.needsRestart, plan.changes]).toEqual([[], [], {}]);
    expect(plan.settings).toEqual(DEFAULT_SETTINGS);
    expect(describeReload(plan).msg).toBe('configuration reloaded: no setting changed that a reload applies');
  });

  test('new live values that do not fit the restart-only values that stay are refused', () => {
    // the new file lowers maxMessageBytes (restart) and inboxMaxBytes (live) together: the running 1 MiB stays
    const next: Settings = { ...DEFAULT_SETTINGS, maxMessageBytes: 256 * 1024, inboxMaxBytes: 512 * 1024 };
    let err: unknown;
    try {
      planReload(DEFAULT_SETTINGS, next);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).message).toBe(
      'invalid setting "maxMessageBytes" in the running configuration (needs a restart to change): must be at most inboxMaxBytes (524288), got 1048576; the largest message must fit the inbox',
    );
    expect(planReload(DEFAULT_SETTINGS, { ...next, inboxMaxBytes: MiB }).settings.inboxMaxBytes).toBe(MiB);
  });
});

describe('nodeSettings (createNode)', () => {
  const refused = (opts: Parameters<typeof nodeSettings>[0]): string => {
    try {
      nodeSettings(opts);
    } catch (e) {
      expect((e as BadInputError).code).toBe('ERR_BAD_CONFIG');
      return (e as Error).message;
    }
    throw new Error('expected ERR_BAD_CONFIG');
  };

  test('settings with port and host on top', () => {
    expect(nodeSettings({})).toEqual(DEFAULT_SETTINGS);
    expect(nodeSettings({ settings: { port: 1, padding: 'mtu' }, port: 0, host: '::1' })).toEqual({ ...DEFAULT_SETTINGS, port: 0, host: '::1', padding: 'mtu' });
  });

  test('the issue 8 case and bad port/host options are refused, naming them', () => {
    expect(refused({ settings: { maxMessageBytes: -5, padding: 'bogus' } })).toBe('invalid setting "maxMessageBytes" in createNode options: expected an integer 1..67108864, got -5');
    expect(refused({ port: 70000 })).toBe('invalid setting "port" in createNode options (option "port"): expected an integer 0..65535, got 70000');
    expect(refused({ host: 'localhost' })).toBe(
      `invalid setting "host" in createNode options (option "host"): expected an IPv4 or IPv6 address (e.g. '0.0.0.0', '::' or '127.0.0.1'), got "localhost"`,
    );
    expect(refused({ settings: 'fast' })).toBe('settings in createNode options must be an object of setting → value, got "fast"');
  });
});
