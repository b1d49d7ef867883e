/**
 * End to end through the CLI: two real daemons (separate processes, temp homes, free ports),
 * keys exchanged with `id` and `peer add --key`, `subscribe --json` in the background.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connect } from '../../src/control/client';
import { cli, Daemon, pairedDaemons, peerState, requireBuild, subscribe, tempDir, waitFor, type Proc } from './cli-helpers';

jest.setTimeout(90_000);

let root: string;
let a: Daemon;
let b: Daemon;
const procs: Proc[] = [];

beforeAll(() => requireBuild());
beforeEach(async () => {
  root = tempDir();
  ({ a, b } = await pairedDaemons(root));
  procs.push(a, b);
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  fs.rmSync(root, { recursive: true, force: true });
});

const SPEC_FIELDS = ['peer', 'name', 'addr', 'size', 'base64', 'text', 'receivedAt', 'reliable', 'encrypted'];

test('text, binary --file and stdin arrive exactly; subscribe --json has the SPEC fields', async () => {
  const sub = await subscribe(b.home);
  procs.push(sub);

  const text = await cli(['send', 'bob', 'hello, bob ✓', '--home', a.home]);
  expect(text).toMatchObject({ code: 0, stdout: `sent ${Buffer.byteLength('hello, bob ✓')} bytes to bob\n` });

  const bin = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), crypto.randomBytes(5000)]);
  const file = path.join(root, 'blob.bin');
  fs.writeFileSync(file, bin);
  // (whole results compared: a failure shows the command's stderr)
  expect(await cli(['send', 'bob', '--file', file, '--home', a.home])).toMatchObject({ code: 0, stderr: '' });
  expect(await cli(['send', b.publicKey, '--home', a.home], { input: 'from stdin\n' })).toMatchObject({ code: 0, stderr: '' });
  expect(await cli(['send', `127.0.0.1:${b.port}`, '', '--home', a.home])).toMatchObject({ code: 0, stderr: '' });

  await waitFor(() => sub.jsonLines().length >= 4, 10_000, 'four messages');
  const [m1, m2, m3, m4] = sub.jsonLines();
  for (const m of [m1!, m2!, m3!, m4!]) {
    for (const k of Object.keys(m)) expect(SPEC_FIELDS).toContain(k);
    expect(m).toMatchObject({ peer: a.publicKey, name: 'alice', addr: `127.0.0.1:${a.port}`, reliable: false, encrypted: true });
    expect(new Date(m.receivedAt as string).toISOString()).toBe(m.receivedAt);
  }
  expect(m1).toMatchObject({ text: 'hello, bob ✓', size: Buffer.byteLength('hello, bob ✓'), base64: Buffer.from('hello, bob ✓').toString('base64') });
  expect(m2).not.toHaveProperty('text');
  expect(m2!.size).toBe(bin.length);
  expect(Buffer.from(m2!.base64 as string, 'base64').equals(bin)).toBe(true);
  expect(m3).toMatchObject({ text: 'from stdin\n' });
  expect(m4).toMatchObject({ text: '', size: 0, base64: '' });
});

test('reliable send is acknowledged; a large file is fragmented and reassembled exactly', async () => {
  const sub = await subscribe(b.home, ['--peer', 'alice']);
  procs.push(sub);
  const r = await cli(['send', 'bob', 'ack me', '--reliable', '--timeout', '10', '--home', a.home]);
  expect(r).toMatchObject({ code: 0, stdout: 'delivered (acknowledged) 6 bytes to bob\n' });
  const big = crypto.randomBytes(300 * 1024);
  const file = path.join(root, 'big.bin');
  fs.writeFileSync(file, big);
  expect((await cli(['send', 'bob', '--file', file, '--reliable', '--home', a.home])).code).toBe(0);
  await waitFor(() => sub.jsonLines().length >= 2, 15_000, 'two messages');
  const [m1, m2] = sub.jsonLines();
  expect(m1).toMatchObject({ text: 'ack me', reliable: true });
  expect(Buffer.from(m2!.base64 as string, 'base64').equals(big)).toBe(true);
});

test('peer list, status and send --all; the exported client sends and subscribes', async () => {
  expect((await cli(['send', 'bob', 'warm up', '--home', a.home])).code).toBe(0);
  await waitFor(async () => (await peerState(a.home, 'bob')) === 'established', 10_000, 'established');
  const list = JSON.parse((await cli(['peer', 'list', '--json', '--home', a.home])).stdout) as Record<string, unknown>[];
  expect(list).toHaveLength(1);
  expect(list[0]).toMatchObject({ name: 'bob', key: b.publicKey, endpoint: `127.0.0.1:${b.port}`, trust: 'pinned', state: 'established' });
  const human = await cli(['peer', 'list', '--home', a.home]);
  const fpB = (await cli(['id', '--fingerprint', '--home', b.home])).stdout.trim();
  expect(fpB).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){5}$/);
  expect(human.stdout).toMatch(new RegExp(`\\nbob +${fpB.slice(0, 9)} +127\\.0\\.0\\.1:${b.port} +established +(just now|\\d+ s ago) +(-|\\d+\\.\\d ms|\\d+ ms|\\d+\\.\\d+ s) +`));
  expect(list[0]).toMatchObject({ fingerprint: fpB });
  const st = JSON.parse((await cli(['status', '--json', '--home', a.home])).stdout) as Record<string, unknown>;
  expect(st).toMatchObject({ publicKey: a.publicKey, port: a.port, peers: 1, home: a.home });
  expect(st.counters).toHaveProperty('drops');
  expect((await cli(['status', '--home', a.home])).stdout).toContain(`public key   ${a.publicKey}`);

  const client = await connect({ home: b.home });
  try {
    const sub = client.subscribe();
    await sub.ready();
    const all = await cli(['send', '--all', 'to everyone', '--home', a.home]);
    expect(all).toMatchObject({ code: 0, stdout: 'sent 11 bytes to bob\n' });
    const first = await sub.next();
    expect(first.value).toMatchObject({ text: 'to everyone', peer: a.publicKey });
    await client.send('alice', new Uint8Array([1, 2, 3]));
    expect((await client.peers())[0]).toMatchObject({ name: 'alice', key: a.publicKey });
    sub.close();
  } finally {
    client.close();
  }
});

test('restart: identity, peers and sessions come back; SIGTERM cleans up', async () => {
  const portB = b.port;
  await b.stop('SIGTERM');
  expect(b.exitCode).toBe(0);
  expect(fs.existsSync(path.join(b.home, 'control.sock'))).toBe(false);
  expect(fs.existsSync(path.join(b.home, 'daemon.lock'))).toBe(false);
  expect(b.jsonLines().some((l) => l.msg === 'udpvault daemon stopped')).toBe(true);
  // Nothing secret in the logs.
  expect(b.stdout).not.toMatch(/privateKey|secretKey|sessionKey/);
  expect((await cli(['status', '--home', b.home])).code).toBe(3);

  const b2 = await Daemon.start(b.home, portB);
  procs.push(b2);
  expect(b2.publicKey).toBe(b.publicKey);
  const list = JSON.parse((await cli(['peer', 'list', '--json', '--home', b.home])).stdout) as Record<string, unknown>[];
  expect(list).toEqual([expect.objectContaining({ name: 'alice', key: a.publicKey, trust: 'pinned' })]);
  const sub = await subscribe(b.home);
  procs.push(sub);
  await waitFor(async () => (await cli(['send', 'bob', 'after restart', '--home', a.home])).code === 0 && sub.jsonLines().length > 0, 20_000, 'delivery after restart');
  expect(sub.jsonLines()[0]).toMatchObject({ text: 'after restart', name: 'alice' });
});

test('kill -9 mid-stream: the sender reports failure, the subscriber exits 3, both recover after a restart', async () => {
  const sub = await subscribe(b.home);
  procs.push(sub);
  const portB = b.port;
  let sent = 0;
  const stream = (async () => {
    while (b.running && sent < 200) {
      await cli(['send', 'bob', `m${sent++}`, '--home', a.home]);
    }
  })();
  await waitFor(() => sub.jsonLines().length >= 3, 15_000, 'stream flowing');
  await b.stop('SIGKILL');
  await stream;
  await sub.exited;
  expect(sub.exitCode).toBe(3);
  expect(sub.stderr).toContain('lost the connection to the udpvault daemon');

  const fail = await cli(['send', 'bob', 'anyone?', '--reliable', '--timeout', '2', '--home', a.home]);
  expect(fail.code).toBe(1);
  expect(fail.stderr).toMatch(/^udpvault send: .+/);

  // The killed daemon left its lock and socket behind: a restart takes them over.
  expect(fs.existsSync(path.join(b.home, 'daemon.lock'))).toBe(true);
  const b2 = await Daemon.start(b.home, portB);
  procs.push(b2);
  const sub2 = await subscribe(b.home);
  procs.push(sub2);
  await waitFor(async () => (await cli(['send', 'bob', 'back', '--reliable', '--timeout', '3', '--home', a.home])).code === 0, 30_000, 'recovery');
  await waitFor(() => sub2.jsonLines().some((m) => m.text === 'back'), 10_000, 'message after recovery');
});

test('SIGHUP reloads the configuration; an invalid one is logged and the old one kept', async () => {
  const cfg = path.join(root, 'cfg.json');
  fs.writeFileSync(cfg, JSON.stringify({ logLevel: 'info' }));
  const c = await Daemon.start(path.join(root, 'c'), 0, ['--config', cfg]);
  procs.push(c);
  fs.writeFileSync(cfg, JSON.stringify({ logLevel: 'debug' }));
  c.kill('SIGHUP');
  await waitFor(() => c.jsonLines().some((l) => l.msg === 'configuration reloaded: applied logLevel; peer store reloaded: no change'), 10_000, 'reload');
  fs.writeFileSync(cfg, JSON.stringify({ logLevel: 'loud' }));
  c.kill('SIGHUP');
  await waitFor(() => c.jsonLines().some((l) => typeof l.msg === 'string' && l.msg.startsWith('configuration reload failed')), 10_000, 'reload failure');
  expect(c.running).toBe(true);
  expect((await cli(['status', '--home', c.home])).code).toBe(0);
});
