/** The reload diff and its log line. */
import { DEFAULT_SETTINGS } from '../../src/settings';
import { reloadMessage, settingsDiff } from '../../src/daemon/settings-diff';

test('applied settings, settings that need a restart, peers added from the store', () => {
  const before = { ...DEFAULT_SETTINGS };
  const after = { ...DEFAULT_SETTINGS, logLevel: 'debug' as const, port: 12000, keepaliveMs: 5000 };
  const diff = settingsDiff(before, after);
  expect(diff).toEqual({
    applied: [
      { setting: 'keepaliveMs', from: String(DEFAULT_SETTINGS.keepaliveMs), to: '5000' },
      { setting: 'logLevel', from: '"info"', to: '"debug"' },
    ],
    restart: [{ setting: 'port', from: String(DEFAULT_SETTINGS.port), to: '12000' }],
  });
  expect(reloadMessage(diff, ['carol'])).toBe(
    `configuration and peer store reloaded: keepaliveMs ${DEFAULT_SETTINGS.keepaliveMs} -> 5000, logLevel "info" -> "debug", port (after a restart), peers added from the store: carol`,
  );
  expect(reloadMessage(settingsDiff(before, { ...before }), [])).toBe('configuration and peer store reloaded: nothing changed');
});
