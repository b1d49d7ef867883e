/**
 * Operating the daemon through the real CLI: readiness (`ready` line, `udpvault wait`),
 * fingerprints, subscribe's exit code when the daemon stops, help and usage exits, and the
 * walkthrough's first status explained.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fingerprint, staticFingerprint } from '../../src/crypto/fingerprint';
import { cli, Daemon, Proc, requireBuild, subscribe, tempDir, waitFor } from './cli-helpers';
import { ed25519PkToX25519, sodiumReady } from '../../src/crypto/sodium';
import { decodeKey } from '../../src/crypto/identity';

jest.setTimeout(60_000);

let root: string;
const procs: Proc[] = [];
beforeAll(async () => {
  requireBuild();
  await sodiumReady();
});
beforeEach(() => {
  root = tempDir();
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  fs.rmSync(root, { recursive: true, force: true });
});

test('wait started before the daemon exits 0 once the daemon answers; the ready line says what it runs with', async () => {
  const home = path.join(root, 'a');
  const wait = new Proc(['wait', '--timeout', '45', '--home', home]);
  procs.push(wait);
  // Nothing can answer yet, so wait cannot have exited (the retry loop itself is proven in-process
  // in test/control/cli-output.test.ts, where connection attempts can be counted).
  expect((await cli(['wait', '--timeout', '0.2', '--home', home])).code).toBe(3);
  expect(wait.running).toBe(true);
  const d = await Daemon.start(home, 0, ['--log-level', 'info']);
  procs.push(d);
  await wait.exited;
  expect(wait.exitCode).toBe(0);
  expect(wait.stdout + wait.stderr).toBe('');

  const ready = d.jsonLines().filter((l) => l.msg === 'ready');
  expect(ready).toHaveLength(1);
  const id = (await cli(['id', '--home', home])).stdout.trim();
  expect(ready[0]).toMatchObject({
    level: 30,
    port: d.port,
    host: '127.0.0.1',
    mtuSource: expect.stringMatching(/^(detected|fallback)$/),
    config: null,
    home,
    control: path.join(home, 'control.sock'),
    publicKey: id,
    fingerprint: fingerprint(id),
    identityCreated: true,
    logLevel: 'info',
  });
  const mtu = ready[0]!.mtu as number;
  expect(ready[0]!.maxDatagramBytes).toEqual({ ipv4: mtu - 28, ipv6: mtu - 48 });
  // Ready means serving: every command works from then on.
  expect((await cli(['status', '--home', home])).code).toBe(0);
  expect((await cli(['wait', '--home', home])).code).toBe(0);
});

test('wait gives up at the timeout with exit 3, naming the home and how to start it', async () => {
  const home = path.join(root, 'none');
  const started = Date.now();
  const r = await cli(['wait', '--timeout', '0.5', '--home', home]);
  expect(r.code).toBe(3);
  expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(
    `udpvault wait: no udpvault daemon answered for home ${home} within 0.5 s (control socket ${home}/control.sock); start one with: udpvault daemon --home ${home}\n`,
  );
});

test('id --fingerprint is the fingerprint status and the ready line show; id --json --fingerprint carries both', async () => {
  const d = await Daemon.start(path.join(root, 'f'));
  procs.push(d);
  const fp = await cli(['id', '--fingerprint', '--home', d.home]);
  expect(fp).toEqual({ code: 0, stdout: `${fingerprint(d.publicKey)}\n`, stderr: '' });
  expect(JSON.parse((await cli(['id', '--json', '--fingerprint', '--home', d.home])).stdout)).toEqual({
    publicKey: d.publicKey, fingerprint: fingerprint(d.publicKey), staticFingerprint: staticFingerprint(ed25519PkToX25519(decodeKey(d.publicKey))), home: d.home,
  });
  expect(JSON.parse((await cli(['id', '--json', '--home', d.home])).stdout)).toEqual({ publicKey: d.publicKey, home: d.home });
  const st = await cli(['status', '--home', d.home]);
  expect(st.stdout).toContain(`\n  fingerprint  ${fingerprint(d.publicKey)}\n`);
  for (const l of st.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(100);
});

test('subscribe exits 3 when the daemon stops, 0 when the user stops it', async () => {
  const d = await Daemon.start(path.join(root, 's'));
  procs.push(d);
  const byUser = await subscribe(d.home);
  procs.push(byUser);
  await byUser.stop('SIGINT');
  expect(byUser.exitCode).toBe(0);

  const sub = await subscribe(d.home);
  procs.push(sub);
  await d.stop('SIGTERM');
  await sub.exited;
  expect(sub.exitCode).toBe(3);
  expect(sub.stderr).toContain(`udpvault subscribe: the daemon of home ${d.home} ended the stream (daemon stopping); start it again with: udpvault daemon --home ${d.home}\n`);
});

test('help exits 0 for every command; send with empty stdin exits 2 with the usage', async () => {
  for (const args of [['peer', '--help'], ['help', 'send'], ['wait', '--help'], ['completion', 'bash']]) {
    const r = await cli(args);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
  }
  expect((await cli(['help', 'send'])).stdout).toMatch(/^usage: udpvault send <peer> \[MESSAGE\]/);
  const d = await Daemon.start(path.join(root, 'e'));
  procs.push(d);
  await cli(['peer', 'add', '127.0.0.1:9', '--name', 'nobody', '--home', d.home]);
  const r = await cli(['send', 'nobody', '--home', d.home], { input: '' });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^udpvault send: no message given: stdin was empty \(to send an empty message, pass "" as MESSAGE\)\n\nusage: udpvault send /);
});

test("the walkthrough's first status: an unknownPeer drop is explained", async () => {
  const a = await Daemon.start(path.join(root, 'alice'));
  const b = await Daemon.start(path.join(root, 'bob'));
  procs.push(a, b);
  // alice adds bob first: her handshake reaches bob before bob knows her, and is refused.
  expect((await cli(['peer', 'add', `127.0.0.1:${b.port}`, '--key', b.publicKey, '--name', 'bob', '--home', a.home])).code).toBe(0);
  await waitFor(async () => ((JSON.parse((await cli(['status', '--json', '--home', b.home])).stdout) as { counters: { drops: { unknownPeer: number } } }).counters.drops.unknownPeer ?? 0) > 0, 10_000, 'refused handshake');
  const st = await cli(['status', '--home', b.home]);
  expect(st.stdout).toMatch(/\n {2}drops {8}\d+ in total\n {15}unknownPeer \d+: a handshake from an identity that is not a peer \(yet\)\n {15}unknownPeer is normal while two daemons add each other/);
});
