import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderDefaultConfig } from '../../src/config/default-file';
import { loadConfig } from '../../src/config/load';
import { DEFAULT_SETTINGS, SETTING_KEYS } from '../../src/config/schema';

const FILE = path.join(__dirname, '../../config/default.json');
const text = fs.readFileSync(FILE, 'utf8');
const doc = JSON.parse(text) as Record<string, unknown>;

describe('config/default.json', () => {
  test('is exactly what the schema renders (regenerate with npm run gen:config)', () => {
    expect(text).toBe(renderDefaultConfig());
  });

  test('is accepted by --config as it is and gives exactly the defaults', () => {
    const loaded = loadConfig({ file: FILE, env: {} });
    expect(loaded.settings).toEqual(DEFAULT_SETTINGS);
    expect(loaded.warnings).toEqual([]);
    // every setting was read from the file (none left to the built-in defaults)
    expect(Object.keys(loaded.origin).sort()).toEqual([...SETTING_KEYS].sort());
    expect(new Set(Object.values(loaded.origin))).toEqual(new Set([FILE]));
  });

  test('holds every setting once, in schema order, each right after its documentation', () => {
    const keys = Object.keys(doc);
    expect(keys[0]).toBe('//');
    expect(keys.filter((k) => !k.startsWith('//'))).toEqual(SETTING_KEYS);
    for (const k of SETTING_KEYS) expect(keys[keys.indexOf(k) - 1]).toBe(`// ${k}`);
    expect(keys.length).toBe(1 + 2 * SETTING_KEYS.length);
  });

  test('documents every setting: meaning, accepted values, environment variable, reload mode', () => {
    expect(doc['// port']).toBe('UDP port the daemon listens on (0 = any free port). Accepts an integer 0..65535. Environment: UDPVAULT_PORT (decimal digits). Reload: needs a restart.');
    expect(doc['// inboxFsync']).toBe(
      'Write the inbox to disk and fsync before acknowledging a reliable message (slower; survives a crash). Accepts true or false. Environment: UDPVAULT_INBOX_FSYNC (true, false, 1 or 0). Reload: live.',
    );
    expect(doc['// keepaliveMs']).toBe(
      'Interval of keepalive packets that keep NAT mappings open; must be less than rejectAfterMs. Accepts an integer 1000..3600000. Unit: ms. Environment: UDPVAULT_KEEPALIVE_MS (decimal digits). Reload: live.',
    );
    for (const k of SETTING_KEYS) {
      const d = doc[`// ${k}`];
      expect(typeof d).toBe('string');
      expect(d).toMatch(/\. Accepts .+\. Environment: UDPVAULT_[A-Z_]+ \([^)]+\)\. Reload: (live|needs a restart)\.$/);
    }
    expect(doc['//']).toContain('keys starting with "//" are comments');
  });
});
