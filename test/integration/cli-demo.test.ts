/** `npm run demo` works, and every command it prints survives being pasted into a shell. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { shellQuote } from '../../scripts/demo';
import { requireBuild } from './cli-helpers';

jest.setTimeout(60_000);

/** The words bash makes of a command line. */
function bashWords(line: string): string[] {
  return execFileSync('bash', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' }).split('\0').slice(0, -1);
}

test('shellQuote: arguments come back from bash exactly', () => {
  const args = ['plain', "it's", 'two words', '$HOME', '`id`', 'a"b', '', 'tab\there', '--key=x', 'ünïcode', '!bang', "'"];
  expect(bashWords(args.map(shellQuote).join(' '))).toEqual(args);
  expect(shellQuote('/tmp/udpvault-demo-x/alice')).toBe('/tmp/udpvault-demo-x/alice');
});

test('the demo passes; its printed commands are quoted for a shell', () => {
  requireBuild();
  const out = execFileSync(process.execPath, [path.resolve(__dirname, '../../dist/scripts/demo.js')], { encoding: 'utf8', timeout: 50_000 });
  expect(out).toContain('\ndemo ok: 3 messages crossed, encrypted\n');
  const commands = out.split('\n').filter((l) => l.startsWith('$ udpvault '));
  expect(commands.length).toBeGreaterThanOrEqual(14);
  expect(commands.filter((c) => / wait --home /.test(c))).toHaveLength(2);
  const send = commands.find((c) => c.includes('this is alice'))!;
  const words = bashWords(send.slice(2));
  expect(words.slice(0, 3)).toEqual(['udpvault', 'send', 'bob']);
  expect(words[3]).toBe("hello bob, this is alice's daemon");
});
