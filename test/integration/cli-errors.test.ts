/**
 * Bad input end to end against real daemons: every bad usage exits 2 naming the problem,
 * no daemon exits 3, garbage on the control socket does not crash the daemon, unsafe or
 * corrupt home files are refused with clear messages.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { cli, Daemon, requireBuild, tempDir, type Proc } from './cli-helpers';

jest.setTimeout(60_000);

let root: string;
let d: Daemon;
const procs: Proc[] = [];

beforeAll(async () => {
  requireBuild();
  root = tempDir();
  d = await Daemon.start(path.join(root, 'main'));
  procs.push(d);
});
afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  fs.rmSync(root, { recursive: true, force: true });
});

const OTHER_KEY = Buffer.alloc(32, 9).toString('base64url');

test.each([
  [['bogus'], /^udpvault: unknown command "bogus"/],
  [['status', '--bogus'], /unknown option --bogus for "udpvault status"/],
  [['send'], /missing argument <peer>/],
  [['peer', 'add', 'localhost'], /<host:port>: missing :PORT/],
  [['peer', 'add', '127.0.0.1:1', '--key', 'nope'], /--key: invalid key "nope"/],
  [['send', 'nobody', 'hi'], /unknown peer "nobody"/],
  [['send', OTHER_KEY, 'hi'], /unknown peer/],
  [['send', '127.0.0.1:1', 'hi'], /unknown peer "127\.0\.0\.1:1"/],
  [['peer', 'remove', 'nobody'], /unknown peer "nobody"/],
  [['subscribe', '--peer', 'nobody'], /unknown peer "nobody"/],
])('udpvault %j exits 2 naming the problem', async (args, why) => {
  const r = await cli([...(args as string[]), '--home', d.home]);
  expect(r.stderr).toMatch(why);
  expect(r.code).toBe(2);
});

test('no daemon: exit 3, the message names the home and how to start one', async () => {
  const home = path.join(root, 'none');
  const r = await cli(['peer', 'list', '--home', home]);
  expect(r.code).toBe(3);
  expect(r.stderr).toBe(
    `udpvault peer list: no udpvault daemon is running for home ${home} (control socket ${home}/control.sock not reachable); start one with: udpvault daemon --home ${home}\n`,
  );
  const env = await cli(['status'], { env: { UDPVAULT_HOME: home } });
  expect(env.code).toBe(3);
  expect(env.stderr).toContain(`home ${home}`);
});

test('garbage on the control socket does not crash the daemon', async () => {
  const sock = path.join(d.home, 'control.sock');
  expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
  const answers = await new Promise<string>((resolve) => {
    const s = net.connect(sock);
    let got = '';
    s.on('data', (c) => (got += c.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    s.write('garbage\n{"v":1}\n[]\n{"v":1,"id":1,"op":"nope"}\n');
    s.write(Buffer.from([0, 1, 2, 0xff, 0x0a]));
    s.write('{"v":1,"id":2,"op":"send","peer":"x","base64":"!!"}\n');
    s.end('{"v":1,"id":3,"op":"peers"}\n');
  });
  const codes = answers
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { ok: boolean; error?: { code: string } }).error?.code ?? 'ok');
  expect(codes.sort()).toEqual(['ERR_BAD_JSON', 'ERR_BAD_JSON', 'ERR_BAD_REQUEST', 'ERR_BAD_REQUEST', 'ERR_BAD_REQUEST', 'ERR_UNKNOWN_OP', 'ok'].sort());
  // A connection flooding one endless line is cut off; the daemon keeps serving.
  await new Promise<void>((resolve) => {
    const s = net.connect(sock);
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    const pump = (): void => {
      while (!s.destroyed && s.write(chunk));
    };
    s.on('drain', pump);
    s.on('connect', pump);
  });
  const st = await cli(['status', '--home', d.home]);
  expect(st.code).toBe(0);
  expect(d.running).toBe(true);
});

test('a second daemon on the same home is refused', async () => {
  const r = await cli(['daemon', '--home', d.home, '--port', '0']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^udpvault daemon: another udpvault daemon \\(pid ${d.child.pid}\\) is already running with home ${d.home}`));
  expect((await cli(['status', '--home', d.home])).code).toBe(0);
});

test('an insecure identity key file is refused with a clear message', async () => {
  const home = path.join(root, 'perms');
  expect((await cli(['id', '--home', home])).code).toBe(0);
  const key = path.join(home, 'identity.key');
  fs.chmodSync(key, 0o644);
  const r = await cli(['daemon', '--home', home, '--port', '0']);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`udpvault daemon: identity key file ${key} is readable by group or others (mode 644); fix with: chmod 600 ${key}\n`);
  expect(fs.existsSync(path.join(home, 'daemon.lock'))).toBe(false);
  expect((await cli(['id', '--home', home])).code).toBe(1);
});

test('a corrupt peer store is refused and left untouched', async () => {
  const home = path.join(root, 'corrupt');
  expect((await cli(['id', '--home', home])).code).toBe(0);
  const store = path.join(home, 'peers.json');
  fs.writeFileSync(store, '{"version":1,"peers":[{"key":"');
  const r = await cli(['daemon', '--home', home, '--port', '0']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`udpvault daemon: peer store ${store} is corrupt`);
  expect(r.stderr).toContain('it was left untouched');
  expect(r.stderr).toContain(`mv ${store} ${store}.bad`);
  expect(fs.readFileSync(store, 'utf8')).toBe('{"version":1,"peers":[{"key":"');
  expect(fs.existsSync(path.join(home, 'daemon.lock'))).toBe(false);
  expect(fs.existsSync(path.join(home, 'control.sock'))).toBe(false);
});

test('an invalid configuration stops start-up naming the setting (exit 2)', async () => {
  const home = path.join(root, 'badcfg');
  const r = await cli(['daemon', '--home', home], { env: { UDPVAULT_MAX_MESSAGE_BYTES: 'lots' } });
  expect(r.code).toBe(2);
  expect(r.stderr).toBe('udpvault daemon: invalid setting "maxMessageBytes" in environment variable UDPVAULT_MAX_MESSAGE_BYTES: expected an integer 1..67108864, got "lots"\n');
});

test('a port in use stops start-up naming the setting (exit 2)', async () => {
  const r = await cli(['daemon', '--home', path.join(root, 'busy'), '--host', '127.0.0.1', '--port', String(d.port)]);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(`udpvault daemon: cannot listen on UDP 127.0.0.1:${d.port}: the port is in use (setting "port"; choose another with --port)\n`);
  expect(fs.existsSync(path.join(root, 'busy', 'daemon.lock'))).toBe(false);
});
