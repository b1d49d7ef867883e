/** CLI behaviour that needs no node: usage errors (exit 2), no daemon (exit 3), help. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { main } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { usage } from '../../src/cli/args';
import { PEER_USAGE, SPECS, TOP_USAGE } from '../../src/cli/specs';

let dir: string;
let home: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-cli-'));
  home = path.join(dir, 'home');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runWith({}, ...argv);
}

async function runWith(o: { stdinTty?: boolean }, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const stdin = Object.assign(new PassThrough(), o.stdinTty ? { isTTY: true } : {});
  if (!o.stdinTty) stdin.end('from stdin');
  const io: CliIo = { stdout, stderr, stdin, env: { UDPVAULT_HOME: home }, onInterrupt: () => () => undefined };
  const code = await main(argv, io);
  return { code, out, err };
}

const KEY = Buffer.alloc(32, 7).toString('base64url');

describe('bad usage exits 2 and names the problem', () => {
  test.each([
    [[], /missing command; commands: daemon, wait, id, peer, send, subscribe, status, completion, help/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['toString'], /unknown command "toString"/],
    [['-x'], /unknown command "-x"/],
    [['peer'], /missing peer subcommand: add, list or remove/],
    [['help', 'bogus'], /^udpvault help: unknown command "bogus"/],
    [['help', 'peer', 'frob'], /unknown peer subcommand "frob"/],
    [['completion'], /missing argument <bash\|zsh\|fish>/],
    [['completion', 'powershell'], /<bash\|zsh\|fish>: unknown shell "powershell"; choose bash, zsh or fish/],
    [['wait', '--timeout', 'soon'], /--timeout: expected a number of seconds from 0 and at most 86400, got "soon"/],
    [['peer', 'add', '1.2.3.4:5', '--replace-key'], /--replace-key: give the new key with --key KEY/],
    [['peer', 'frob'], /unknown peer subcommand "frob"/],
    [['send'], /udpvault send: missing argument <peer> \(see: udpvault send --help\)/],
    [['send', 'alice', 'hi', 'extra'], /unexpected argument "extra"/],
    [['send', 'alice', '--bogus'], /unknown option --bogus for "udpvault send"/],
    [['send', 'alice', '-q'], /unknown option -q/],
    [['send', 'alice', 'hi', '--file', 'x'], /either as the MESSAGE argument or with --file, not both/],
    [['send', 'alice', 'hi', '--timeout', 'abc'], /--timeout: expected a number of seconds greater than 0 and at most 86400, got "abc"/],
    [['send', 'alice', 'hi', '--timeout', '0'], /--timeout: expected a number of seconds/],
    [['send', 'alice', 'hi', '--timeout'], /option --timeout needs a value \(S\)/],
    [['send', 'alice', '--file', '/nonexistent/f'], /--file \/nonexistent\/f: cannot read it \(no such file\)/],
    [['send', 'alice', '--file', '/'], /--file \/: cannot read it \(it is a directory\)/],
    [['send', '--all', 'a', 'b'], /unexpected argument "b"/],
    [['send', '', 'hi'], /<peer>: empty peer reference/],
    [['send', 'alice', 'hi', '--reliable=yes'], /option --reliable takes no value/],
    [['peer', 'add'], /missing argument <host:port>/],
    [['peer', 'add', 'nohost'], /<host:port>: missing :PORT, got "nohost"/],
    [['peer', 'add', '1.2.3.4:70000'], /<host:port>: the port must be 1\.\.65535/],
    [['peer', 'add', '1.2.3.4:0'], /the port must be 1\.\.65535/],
    [['peer', 'add', '300.1.1.1:5'], /not a valid IPv4 address or host name/],
    [['peer', 'add', 'fe80::1:5'], /an IPv6 address must be written in brackets/],
    [['peer', 'add', '[fe80::zz]:5'], /not a valid IPv6 address/],
    [['peer', 'add', '1.2.3.4:5', '--key', 'bad'], /--key: invalid key "bad"; expected the 43-character string printed by "udpvault id"/],
    [['peer', 'add', '1.2.3.4:5', '--key'], /option --key needs a value/],
    [['peer', 'add', '1.2.3.4:5', '--name', 'a b'], /--name: invalid name "a b"/],
    [['peer', 'add', '1.2.3.4:5', '--name', KEY], /--name: the name .* looks like a key/],
    [['peer', 'add', '1.2.3.4:5', '--compat', 'v1'], /--compat: unknown compatibility mode "v1"; the only one is "vault-v2"/],
    [['peer', 'add', '1.2.3.4:5', '--allow-plaintext'], /--allow-plaintext: only for vault-v2 peers/],
    [['peer', 'add', '1.2.3.4:5', 'extra'], /unexpected argument "extra"/],
    [['peer', 'remove'], /missing argument <name\|key\|host:port>/],
    [['peer', 'list', '--json', 'x'], /unexpected argument "x"/],
    [['status', 'now'], /unexpected argument "now"/],
    [['subscribe', '--peer'], /option --peer needs a value/],
    [['subscribe', '--peer', ''], /--peer: empty peer reference/],
    [['id', '--json=1'], /option --json takes no value/],
    [['id', '--home', ''], /--home: expected a directory path, got an empty string/],
    [['daemon', '--port', 'abc'], /invalid setting "port" in flag --port: expected an integer 0\.\.65535, got "abc"/],
    [['daemon', '--port', '-1'], /invalid setting "port" in flag --port/],
    [['daemon', '--log-level', 'loud'], /invalid setting "logLevel" in flag --log-level/],
    [['daemon', '--host', 'not a host'], /invalid setting "host" in flag --host/],
    [['daemon', '--config', '/nonexistent.json'], /cannot read configuration file \/nonexistent\.json \(ENOENT\)/],
    [['daemon', 'now'], /unexpected argument "now"/],
  ])('udpvault %j', async (argv, why) => {
    const r = await run(...(argv as string[]));
    expect(r.err).toMatch(why);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });

  test('a bad daemon configuration changes nothing on disk', async () => {
    const cfg = path.join(dir, 'cfg.json');
    fs.writeFileSync(cfg, JSON.stringify({ port: 1, paddin: 'mtu' }));
    const r = await run('daemon', '--config', cfg);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`udpvault daemon: unknown setting "paddin" in ${cfg} (did you mean "padding"?); the settings are listed in config/default.json\n`);
    expect(fs.existsSync(home)).toBe(false);
  });
});

describe('no daemon exits 3 naming the home and how to start one', () => {
  test.each([[['status']], [['peer', 'list']], [['peer', 'add', '127.0.0.1:11001']], [['peer', 'remove', 'alice']], [['send', 'alice', 'hi']], [['send', 'alice']], [['send', '--all', 'hi']], [['subscribe', '--json']]])(
    'udpvault %j',
    async (argv) => {
      const r = await run(...(argv as string[]), '--home', home);
      expect(r.code).toBe(3);
      expect(r.err).toContain(`no udpvault daemon is running for home ${home} (control socket ${home}/control.sock not reachable); start one with: udpvault daemon --home ${home}`);
    },
  );
});

describe('--home', () => {
  test('may come before the command', async () => {
    const other = path.join(dir, 'other');
    const r = await run('--home', other, 'status');
    expect(r.code).toBe(3);
    expect(r.err).toContain(`home ${other} `);
    expect((await run(`--home=${other}`, 'peer', 'list')).err).toContain(`home ${other} `);
  });
});

describe('help and version', () => {
  test('top-level and per-command help exit 0', async () => {
    const top = await run('--help');
    expect(top.code).toBe(0);
    expect(top.out).toContain('usage: udpvault <command>');
    const send = await run('send', '--help');
    expect(send.code).toBe(0);
    expect(send.out).toContain('usage: udpvault send <peer> [MESSAGE] [--file F] [--reliable] [--timeout S] [--all] [--home DIR]');
    expect((await run('peer', 'add', '-h')).out).toContain('--allow-plaintext');
    expect((await run('--version')).out).toMatch(/^udpvault \d+\.\d+\.\d+\n$/);
  });
});

describe('help', () => {
  test.each(Object.keys(SPECS).filter((n) => n !== 'help'))('udpvault %s: --help and "udpvault help" exit 0 with its usage', async (name) => {
    const words = name.split(' ');
    const flag = await run(...words, '--help');
    expect(flag).toEqual({ code: 0, out: usage(SPECS[name as keyof typeof SPECS]), err: '' });
    const help = await run('help', ...words);
    expect(help).toEqual({ code: 0, out: usage(SPECS[name as keyof typeof SPECS]), err: '' });
  });

  test('peer --help, peer -h, peer help and help peer show the peer subcommands; help alone the top level', async () => {
    for (const argv of [['peer', '--help'], ['peer', '-h'], ['peer', 'help'], ['help', 'peer']]) {
      expect(await run(...argv)).toEqual({ code: 0, out: PEER_USAGE, err: '' });
    }
    expect(await run('help')).toEqual({ code: 0, out: TOP_USAGE, err: '' });
    expect((await run('help', 'send')).out).toContain('usage: udpvault send <peer> [MESSAGE]');
    expect((await run('help', 'peer', 'add')).out).toContain('--replace-key');
    expect(await run('--home', '/x', 'help', 'send')).toEqual({ code: 0, out: usage(SPECS.send), err: '' });
  });

  test('every help text fits 100 columns', async () => {
    const texts = [TOP_USAGE, PEER_USAGE, ...Object.values(SPECS).map((s) => usage(s))];
    for (const t of texts) for (const l of t.split('\n')) expect(l.length).toBeLessThanOrEqual(100);
  });
});

describe('send without a message', () => {
  test('on a terminal: exit 2 with the usage, before any daemon is needed', async () => {
    const r = await runWith({ stdinTty: true }, 'send', 'alice', '--home', home);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(`udpvault send: no message given: pass MESSAGE, --file F, or pipe the message into stdin\n\n${usage(SPECS.send)}`);
  });
});

describe('completion', () => {
  /** Runs the bash completion function for a command line (the last word is being completed). */
  function complete(script: string, words: string[]): string[] {
    const file = path.join(dir, 'udpvault.bash');
    fs.writeFileSync(file, script);
    const arr = words.map((w) => `'${w}'`).join(' ');
    const out = execFileSync('bash', ['-c', `source '${file}'; COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _udpvault; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean);
  }

  test('bash: commands, peer subcommands, options per command and known values', async () => {
    const r = await run('completion', 'bash');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# udpvault bash completion/);
    expect(complete(r.out, ['udpvault', ''])).toEqual(['daemon', 'wait', 'id', 'peer', 'send', 'subscribe', 'status', 'completion', 'help', '--help', '--version']);
    expect(complete(r.out, ['udpvault', 'pe'])).toEqual(['peer']);
    expect(complete(r.out, ['udpvault', 'peer', ''])).toEqual(['add', 'list', 'remove', '--help']);
    expect(complete(r.out, ['udpvault', 'peer', 'add', '127.0.0.1:1', '--re'])).toEqual(['--replace-key']);
    expect(complete(r.out, ['udpvault', 'status', '--'])).toEqual(['--json', '--verbose', '--home', '--help']);
    expect(complete(r.out, ['udpvault', 'daemon', '--log-level', 'w'])).toEqual(['warn']);
    expect(complete(r.out, ['udpvault', 'peer', 'add', '--compat', ''])).toEqual(['vault-v2']);
    expect(complete(r.out, ['udpvault', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(complete(r.out, ['udpvault', 'help', 'st'])).toEqual(['status']);
  });

  test('zsh and fish scripts name every command and option', async () => {
    const zsh = await run('completion', 'zsh');
    const fish = await run('completion', 'fish');
    expect(zsh.code).toBe(0);
    expect(fish.code).toBe(0);
    expect(zsh.out.startsWith('#compdef udpvault\n')).toBe(true);
    for (const [name, spec] of Object.entries(SPECS)) {
      if (name === 'help' || name === 'completion') continue;
      expect(zsh.out).toContain(`"${name}") _arguments`);
      for (const opt of [...Object.keys(spec.options), 'home']) {
        expect(zsh.out).toContain(`'--${opt}`);
        expect(fish.out).toMatch(new RegExp(`-n '__fish_seen_subcommand_from ${name.split(' ')[0]}[^']*' -l ${opt}\\b`));
      }
    }
    expect(fish.out).toContain("complete -c udpvault -n '__fish_use_subcommand' -a wait -d");
  });

  const has = (cmd: string): boolean => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`]);
      return true;
    } catch {
      return false;
    }
  };

  (has('fish') ? test : test.skip)('fish (when installed): the script loads and completes', async () => {
    const file = path.join(dir, 'udpvault.fish');
    fs.writeFileSync(file, (await run('completion', 'fish')).out);
    const ask = (line: string): string[] =>
      execFileSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!);
    expect(ask('udpvault pe')).toEqual(['peer']);
    expect(ask('udpvault peer ')).toEqual(['add', 'list', 'remove']);
    expect(ask('udpvault peer add 1.2.3.4:5 --re')).toEqual(['--replace-key']);
    expect(ask('udpvault daemon --log-level w')).toEqual(['warn']);
  });

  (has('zsh') ? test : test.skip)('zsh (when installed): the script parses', async () => {
    const file = path.join(dir, '_udpvault');
    fs.writeFileSync(file, (await run('completion', 'zsh')).out);
    expect(() => execFileSync('zsh', ['-n', file])).not.toThrow();
  });
});
