/** The daemon in-process with the real node: startup order, logging, lock, reload, stop. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon';
import { connect } from '../../src/control/client';
import { fingerprint } from '../../src/crypto/fingerprint';
import { createNode } from '../../src/node/node';
import type { UdpVaultNode } from '../../src/node/types';
import { ManualScheduler } from '../../src/runtime/scheduler';
import { FakeNode, KEY_A, KEY_B } from '../control/fake-node';
import { staticFingerprint } from '../../src/crypto/fingerprint';
import { ed25519PkToX25519 } from '../../src/crypto/sodium';
import { decodeKey } from '../../src/crypto/identity';

let dir: string;
let logs: Writable;
let text: string;
/** Called synchronously as each log line is written. */
let onLine: ((line: string) => void) | null;
const running: RunningDaemon[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-daemon-'));
  text = '';
  onLine = null;
  logs = new Writable({
    write(c: Buffer, _enc, cb) {
      text += c.toString();
      onLine?.(c.toString());
      cb();
    },
  });
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

const waitUntil = async (cond: () => boolean, what: string, maxMs = 10_000): Promise<void> => {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('starts: home 0700, identity 0600, socket 0600, one ready line written once UDP and the control socket serve', async () => {
  const home = path.join(dir, 'home');
  // At the moment the ready line is written the control socket exists, and a client connecting
  // then is answered.
  let socketAtReady: boolean | null = null;
  let answeredAtReady: Promise<string> | null = null;
  onLine = (line) => {
    if (answeredAtReady === null && line.includes('"msg":"ready"')) {
      socketAtReady = fs.existsSync(path.join(home, 'control.sock'));
      answeredAtReady = connect({ home }).then(async (cl) => {
        try {
          return await cl.id();
        } finally {
          cl.close();
        }
      });
    }
  };
  const d = await start({ flags: { port: 0, host: '127.0.0.1', mtu: 1400 } });
  expect(fs.statSync(home).mode & 0o777).toBe(0o700);
  expect(fs.statSync(d.paths.identity).mode & 0o777).toBe(0o600);
  expect(fs.statSync(d.paths.control).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(d.paths.lock, 'utf8')).toMatch(new RegExp(`^${process.pid}\nkind=daemon\n`));
  const ready = lines().filter((l) => l.msg === 'ready');
  expect(ready).toHaveLength(1);
  const { time: _t, pid: _p, ...fields } = ready[0]!;
  expect(fields).toEqual({
    level: 30,
    msg: 'ready',
    port: d.node.port,
    host: '127.0.0.1',
    mtu: 1400,
    mtuSource: 'configured',
    maxDatagramBytes: { ipv4: 1372, ipv6: 1352 },
    config: null,
    home,
    control: d.paths.control,
    publicKey: d.node.publicKey,
    fingerprint: fingerprint(d.node.publicKey),
    identityCreated: true,
    logLevel: 'info',
    metrics: null,
    version: expect.stringMatching(/^\d+\.\d+\.\d+/),
  });
  expect(d.node.port).toBeGreaterThan(0);
  expect(socketAtReady).toBe(true);
  expect(await answeredAtReady).toBe(d.node.publicKey);
  // No other startup line of the daemon's own (the node may log its own).
  expect(lines().filter((l) => l.msg === 'udpvault daemon started')).toHaveLength(0);

  await d.stop();
  running.splice(0);
  text = '';
  const again = await start({ config: writeConfig({ logLevel: 'debug', mtu: 'auto' }) });
  const second = lines().find((l) => l.msg === 'ready')!;
  expect(second).toMatchObject({ identityCreated: false, logLevel: 'debug', config: path.join(dir, 'cfg.json'), publicKey: again.node.publicKey, level: 30 });
  expect(['detected', 'fallback']).toContain(second.mtuSource);
  expect(second.maxDatagramBytes).toEqual({ ipv4: (second.mtu as number) - 28, ipv6: (second.mtu as number) - 48 });
  const c = await connect({ home });
  const st = await c.status();
  expect(st.daemon).toEqual({ mtuSource: second.mtuSource, maxDatagramBytes: second.maxDatagramBytes, configFile: path.join(dir, 'cfg.json'), logLevel: 'debug', metricsUrl: null });
  c.close();
});

function writeConfig(o: Record<string, unknown>): string {
  const cfg = path.join(dir, 'cfg.json');
  fs.writeFileSync(cfg, JSON.stringify(o));
  return cfg;
}

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
  // Logged with its stack.
  expect(lines()).toEqual([expect.objectContaining({ level: 50, msg: 'udpvault daemon could not start', err: expect.objectContaining({ message: 'boom', stack: expect.stringContaining('Error: boom') }) })]);
});

test('reload applies a new configuration, keeps the old one when the new is invalid', async () => {
  const cfg = path.join(dir, 'cfg.json');
  fs.writeFileSync(cfg, JSON.stringify({ subscriberBufferMessages: 5 }));
  const d = await start({ config: cfg });
  expect(d.settings.subscriberBufferMessages).toBe(5);
  fs.writeFileSync(cfg, JSON.stringify({ subscriberBufferMessages: 7, logLevel: 'debug' }));
  await d.reload();
  expect(d.settings.subscriberBufferMessages).toBe(7);
  const reloaded = (): Record<string, unknown>[] => lines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('configuration reloaded'));
  expect(reloaded()).toEqual([
    expect.objectContaining({
      level: 30,
      msg: 'configuration reloaded: applied subscriberBufferMessages, logLevel; peer store reloaded: no change',
      applied: ['subscriberBufferMessages', 'logLevel'],
      needsRestart: [],
      changes: { subscriberBufferMessages: { from: 5, to: 7 }, logLevel: { from: 'info', to: 'debug' } },
      peersAdded: [],
    }),
  ]);
  expect((await connect({ home: d.paths.home }).then(async (c) => [await c.status(), c.close()][0]))).toMatchObject({ daemon: { logLevel: 'debug' } });

  fs.writeFileSync(cfg, JSON.stringify({ subscriberBufferMessages: 7, logLevel: 'debug', mtu: 1400 }));
  await d.reload();
  expect(lines().filter((l) => l.level === 40 && l.msg === 'mtu: changes take effect after a restart')).toEqual([expect.objectContaining({ needsRestart: ['mtu'] })]);
  expect(reloaded()[1]).toMatchObject({
    msg: 'configuration reloaded: no setting changed that a reload applies; needs a restart to change: mtu; peer store reloaded: no change',
    changes: { mtu: { from: 'auto', to: 1400 } },
  });
  expect(d.settings.mtu).toBe('auto'); // what runs until a restart

  fs.writeFileSync(cfg, JSON.stringify({ subscriberBufferMessages: -1 }));
  await d.reload();
  expect(d.settings.subscriberBufferMessages).toBe(7);
  const failed = lines().find((l) => l.msg === 'configuration reload failed; keeping the current configuration');
  // Errors are logged with their stack, code and message.
  expect(failed?.err).toMatchObject({
    code: 'ERR_BAD_CONFIG',
    message: expect.stringMatching(/invalid setting "subscriberBufferMessages" in .*cfg\.json/),
    stack: expect.stringContaining('at '),
  });
});

test('a handshake from an identity that is not a peer is logged at warn, summarised per interval', async () => {
  const scheduler = new ManualScheduler();
  const d = await start({ scheduler });
  let stranger: UdpVaultNode | null = await createNode({ port: 0, host: '127.0.0.1' });
  try {
    const strangerPort = stranger.port;
    const strangerStatic = staticFingerprint(ed25519PkToX25519(decodeKey(stranger.publicKey)));
    await stranger.addPeer({ endpoint: `127.0.0.1:${d.node.port}`, key: d.node.publicKey });
    await waitUntil(() => (d.node.status().counters.drops.unknownPeer ?? 0) >= 1, 'a refused handshake');
    await stranger.close();
    stranger = null;
    const refused = d.node.status().counters.drops.unknownPeer!;
    expect(lines().filter((l) => l.level === 40 && l.event !== undefined)).toEqual([]); // nothing before the interval ends
    await scheduler.advance(10_000);
    await scheduler.advance(10_000); // a quiet interval writes nothing
    expect(lines().filter((l) => l.level === 40 && l.event !== undefined)).toEqual([
      expect.objectContaining({
        msg: 'security: refused handshakes from identities that are not peers', event: 'unknown-identity', count: refused, intervalS: 10, total: refused,
        // The source address and the fingerprint of the static the stranger claimed (never a key).
        samples: [{ source: `127.0.0.1:${strangerPort}`, fingerprint: strangerStatic }],
      }),
    ]);
  } finally {
    await stranger?.close();
  }
});

test('a TOFU peer presenting another key is logged at warn with both fingerprints, never the keys', async () => {
  const scheduler = new ManualScheduler();
  const d = await start({ scheduler });
  const nodes: UdpVaultNode[] = [];
  try {
    const first = await createNode({ port: 0, host: '127.0.0.1' });
    nodes.push(first);
    const endpoint = `127.0.0.1:${first.port}`;
    await d.node.addPeer({ endpoint, name: 'carol' }); // no key: trust on first use
    await first.addPeer({ endpoint: `127.0.0.1:${d.node.port}`, key: d.node.publicKey });
    // Data on the session confirms it (a TOFU key is recorded once a session is proven).
    await first.send(d.node.publicKey, 'hello');
    await waitUntil(() => d.node.peers()[0]?.trust === 'tofu', 'the first key recorded');
    await first.close();
    const impostor = await createNode({ port: first.port, host: '127.0.0.1' });
    nodes.push(impostor);
    await impostor.addPeer({ endpoint: `127.0.0.1:${d.node.port}`, key: d.node.publicKey });
    await waitUntil(() => (d.node.status().counters.drops.keyChanged ?? 0) >= 1, 'the refused key');
    await impostor.close();
    const refused = d.node.status().counters.drops.keyChanged!;
    await scheduler.advance(10_000);
    // The daemon's summaries (the node may log the event itself too).
    const warn = lines().filter((l) => l.level === 40 && l.event !== undefined);
    expect(warn).toEqual([
      expect.objectContaining({
        msg: "security: refused handshakes signed by a key other than the peer's recorded key",
        event: 'key-changed',
        count: refused,
        samples: [{ peer: 'carol', source: endpoint, fingerprint: fingerprint(impostor.publicKey), recordedFingerprint: fingerprint(first.publicKey) }],
      }),
    ]);
    expect(JSON.stringify(warn)).not.toContain(impostor.publicKey);
    expect(d.node.peers()[0]!.key).toBe(first.publicKey);
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

test('a key the user replaced is an info line; a refused one is a security sample', async () => {
  const scheduler = new ManualScheduler();
  const fake = new FakeNode();
  const d = await start({ scheduler, createNode: async () => fake });
  const peer = await fake.addPeer({ endpoint: '127.0.0.1:7000', key: KEY_A, name: 'dave' });
  fake.emit('peer', { type: 'key-changed', peer, offeredKey: KEY_A }); // --replace-key: the offered key is the peer's now
  fake.emit('peer', { type: 'key-changed', peer, offeredKey: KEY_B }); // refused
  fake.nodeCounters.drops.keyChanged = 1;
  await scheduler.advance(10_000);
  expect(lines().filter((l) => l.msg === 'peer key-changed')).toEqual([expect.objectContaining({ level: 30, peer: 'dave', fingerprint: fingerprint(KEY_A) })]);
  expect(lines().filter((l) => l.level === 40)).toEqual([
    expect.objectContaining({ event: 'key-changed', count: 1, samples: [{ peer: 'dave', source: '127.0.0.1:7000', fingerprint: fingerprint(KEY_B), recordedFingerprint: fingerprint(KEY_A) }] }),
  ]);
  await d.stop();
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
