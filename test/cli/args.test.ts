/** Argument parsing edge cases that break scripts: peer keys that begin with '-' or '--'. */
import { parseArgs } from '../../src/cli/args';
import { SPECS } from '../../src/cli/specs';

// Valid keys (43 base64url characters of a 32-byte value) that look like options.
const DASH_KEY = `-${'A'.repeat(41)}E`;
const DOUBLE_DASH_KEY = `--${'B'.repeat(40)}E`;

describe('parseArgs', () => {
  test.each([DASH_KEY, DOUBLE_DASH_KEY])('a peer key %s is a positional, also before other options', (key) => {
    expect(parseArgs(SPECS.send, [key, 'hello', '--reliable'])).toEqual({ options: { reliable: true }, positionals: [key, 'hello'], help: false });
    expect(parseArgs(SPECS.send, ['--reliable', key])).toEqual({ options: { reliable: true }, positionals: [key], help: false });
  });

  test('a key beginning with - after an option with a value', () => {
    expect(parseArgs(SPECS.send, ['--timeout', '5', DASH_KEY])).toEqual({ options: { timeout: '5' }, positionals: [DASH_KEY], help: false });
  });

  test('a short word beginning with - is still an unknown option (exit 2 with the name)', () => {
    expect(() => parseArgs(SPECS.send, ['-x'])).toThrow('unknown option -x for "udpvault send" (see: udpvault send --help)');
    expect(() => parseArgs(SPECS.send, ['--nope'])).toThrow('unknown option --nope for "udpvault send" (see: udpvault send --help)');
  });
});
