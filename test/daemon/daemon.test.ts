/** The daemon in-process with the real node: startup order, logging, lock, reload, stop. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon';
import { connect } from '../../src/control/client';

let dir: string;
let logs: PassThrough;
let text: string;
const running: RunningDaemon[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-daemon-'));
  logs = new PassThrough();
  text = '';
  logs.on('data', (c: Buffer) => (text += c.toString()));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const lines = (): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function start(extra: Partial<Parameters<typeof startDaemon>[0]> = {}): Promise<RunningDaemon> {
  const d = await startDaemon({
    home: path.join(dir, 'home'),
    env: {},
    flags: { port: 0, host: '127.0.0.1' },
    handleSignals: false,
    logDestination: logs,
    ...extra,
  });
  running.push(d);
  return d;
}

test('starts: home 0700, identity 0600, socket 0600, one startup line with publicKey, port and home', async () => {
  const d = await start();
  const home = path.join(dir, 'home');
  expect(fs.statSync(home).mode & 0o777).toBe(0o700);
  expect(fs.statSync(d.paths.identity).mode & 0o777).toBe(0o600);
  expect(fs.statSync(d.paths.control).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(d.paths.lock, 'utf8')).toMatch(new RegExp(`^${process.pid}\nkind=daemon\n`));
  const started = lines().filter((l) => l.msg === 'udpvault daemon started');
  expect(started).toHaveLength(1);
  expect(started[0]).toMatchObject({ publicKey: d.node.publicKey, port: d.node.port, home, level: 30 });
  const c = await connect({ home });
  expect(await c.id()).toBe(d.node.publicKey);
  c.close();
});

test('stop: subscribers told, socket removed, lock released; idempotent', async () => {
  const d = await start();
  const c = await connect({ home: d.paths.home });
  const sub = c.subscribe();
  await sub.ready();
  await Promise.all([d.stop(), d.stop()]);
  await d.stopped;
  expect(await sub.next()).toEqual({ value: undefined, done: true });
  expect(sub.endReason).toBe('daemon stopping');
  expect(fs.existsSync(d.paths.control)).toBe(false);
  expect(fs.existsSync(d.paths.lock)).toBe(false);
  expect(lines().map((l) => l.msg)).toContain('udpvault daemon stopped');
  c.close();
});

test('a second daemon on the same home is refused before touching anything', async () => {
  await start();
  await expect(start()).rejects.toMatchObject({ code: 'ERR_HOME_LOCKED', message: expect.stringContaining('is already running with home') });
  const c = await connect({ home: path.join(dir, 'home') });
  expect((await c.status()).connections).toBe(1);
  c.close();
});

test('a failing node start releases the lock', async () => {
  const failing = (): Promise<never> => Promise.reject(new Error('boom'));
  await expect(start({ createNode: failing })).rejects.toThrow('boom');
  expect(fs.existsSync(path.join(dir, 'home', 'daemon.lock'))).toBe(false);
});

test('reload applies a new configuration, keeps the old one when the new is invalid', async () => {
  const cfg = path.join(dir, 'cfg.json');
  fs.writeFileSync(cfg, JSON.stringify({ subscriberBufferMessages: 5 }));
  const d = await start({ config: cfg });
  expect(d.settings.subscriberBufferMessages).toBe(5);
  fs.writeFileSync(cfg, JSON.stringify({ subscriberBufferMessages: 7, logLevel: 'debug' }));
  await d.reload();
  expect(d.settings.subscriberBufferMessages).toBe(7);
  fs.writeFileSync(cfg, JSON.stringify({ subscriberBufferMessages: -1 }));
  await d.reload();
  expect(d.settings.subscriberBufferMessages).toBe(7);
  const failed = lines().find((l) => l.msg === 'configuration reload failed; keeping the current configuration');
  expect(failed?.err).toMatch(/invalid setting "subscriberBufferMessages" in .*cfg\.json/);
});

test('an invalid configuration throws before the home is created', async () => {
  await expect(start({ env: { UDPVAULT_PADDING: 'lots' } })).rejects.toMatchObject({ code: 'ERR_BAD_CONFIG' });
  expect(fs.existsSync(path.join(dir, 'home'))).toBe(false);
});

test('logs carry no secret or payload', async () => {
  const d = await start({ flags: { port: 0, host: '127.0.0.1', handshakeTimeoutMs: 500, logLevel: 'trace' } });
  const c = await connect({ home: d.paths.home });
  await c.addPeer({ endpoint: '127.0.0.1:9', key: Buffer.alloc(32, 5).toString('base64url'), name: 'p' });
  await c.send('p', 'SECRET-PAYLOAD-TEXT').catch(() => undefined);
  c.close();
  await d.stop();
  const seed = fs.readFileSync(d.paths.identity, 'utf8').split('\n')[1]!;
  expect(text).not.toContain(seed);
  expect(text).not.toContain('SECRET-PAYLOAD-TEXT');
  expect(text).not.toContain(Buffer.from('SECRET-PAYLOAD-TEXT').toString('base64'));
});
