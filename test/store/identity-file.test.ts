import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { sodiumReady } from '../../src/crypto/sodium';
import * as identityModule from '../../src/crypto/identity';
import { identityFromSeed, isKeyString } from '../../src/crypto/identity';
import { base64DecodeBytes, base64EncodeBytes, createIdentityFile, loadOrCreateIdentity, readIdentity } from '../../src/store/identity-file';
import { FakeFs } from '../../src/store/fake-fs';
import { UdpVaultError } from '../../src/errors';
import { main } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';

let dir: string;
beforeAll(() => sodiumReady());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-id-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function io(): CliIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (c: Buffer) => (o += c.toString()));
  stderr.on('data', (c: Buffer) => (e += c.toString()));
  return { stdout, stderr, stdin: new PassThrough(), env: {}, onInterrupt: () => () => undefined, out: () => o, err: () => e };
}

describe('identity key file', () => {
  test('a group/world-readable key file is refused with the exact message', () => {
    const file = path.join(dir, 'identity.key');
    loadOrCreateIdentity(file);
    fs.chmodSync(file, 0o644);
    let err: unknown;
    try {
      loadOrCreateIdentity(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UdpVaultError);
    expect((err as UdpVaultError).code).toBe('ERR_KEY_FILE_PERMISSIONS');
    expect((err as Error).message).toBe(`identity key file ${file} is readable by group or others (mode 644); fix with: chmod 600 ${file}`);
  });

  test('udpvault id creates the home and identity on first use, then prints the same key', async () => {
    const home = path.join(dir, 'home');
    const a = io();
    expect(await main(['id', '--home', home], a)).toBe(0);
    const key = a.out().trim();
    expect(isKeyString(key)).toBe(true);
    expect(a.err()).toContain(`created a new identity in ${path.join(home, 'identity.key')}`);
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(home, 'identity.key')).mode & 0o777).toBe(0o600);
    const b = io();
    expect(await main(['id', '--json', `--home=${home}`], b)).toBe(0);
    expect(JSON.parse(b.out())).toEqual({ publicKey: key, home });
    expect(b.err()).toBe('');
  });

  test('udpvault id refuses an insecure key file (exit 1, the message says how to fix it)', async () => {
    const home = path.join(dir, 'home');
    expect(await main(['id', '--home', home], io())).toBe(0);
    const file = path.join(home, 'identity.key');
    fs.chmodSync(file, 0o640);
    const r = io();
    expect(await main(['id', '--home', home], r)).toBe(1);
    expect(r.err()).toBe(`udpvault id: identity key file ${file} is readable by group or others (mode 640); fix with: chmod 600 ${file}\n`);
    expect(r.out()).toBe('');
  });

  test('udpvault id uses $UDPVAULT_HOME', async () => {
    const home = path.join(dir, 'envhome');
    const r = io();
    expect(await main(['id'], { ...r, env: { UDPVAULT_HOME: home } })).toBe(0);
    expect(fs.existsSync(path.join(home, 'identity.key'))).toBe(true);
  });
});

describe('identity key file through the filesystem seam', () => {
  const FILE = '/h/identity.key';

  function withSeed(seed: Buffer): FakeFs {
    const f = new FakeFs();
    f.mkdir('/h', 0o700);
    f.put(FILE, `udpvault-identity-v1\n${seed.toString('base64')}\n`, 0o600);
    return f;
  }

  test('read into a Buffer that is zeroed after the key pair is derived; the seed never becomes a string', () => {
    const seed = Buffer.alloc(32, 7);
    const b64 = seed.toString('base64');
    const f = withSeed(seed);
    let content: Buffer | undefined;
    const readAll = f.readAll.bind(f);
    f.readAll = (fd: number): Buffer => (content = readAll(fd));
    const derive = jest.spyOn(identityModule, 'identityFromSeed');
    const seen: Buffer[] = [];
    const realToString = Buffer.prototype.toString;
    const toString = jest.spyOn(Buffer.prototype, 'toString').mockImplementation(function (this: Buffer, ...args: unknown[]) {
      seen.push(Buffer.from(this));
      return realToString.apply(this, args as []);
    });
    let id;
    try {
      id = readIdentity(FILE, f);
    } finally {
      toString.mockRestore();
    }
    expect(id.publicKey).toEqual(identityFromSeed(new Uint8Array(seed)).publicKey);
    expect(content).toBeDefined();
    expect(content!.every((b) => b === 0)).toBe(true);
    const seedArg = derive.mock.calls[0]![0] as Uint8Array;
    expect(seedArg.every((b) => b === 0)).toBe(true);
    derive.mockRestore();
    for (const s of seen) {
      expect(s.includes(Buffer.from(b64))).toBe(false);
      expect(s.includes(seed)).toBe(false);
    }
  });

  test('group/world access is refused from the open file’s mode, with the chmod fix', () => {
    for (const mode of [0o640, 0o604, 0o620, 0o660]) {
      const f = withSeed(Buffer.alloc(32, 1));
      f.chmod(FILE, mode);
      expect(() => readIdentity(FILE, f)).toThrow(`identity key file ${FILE} is readable by group or others (mode ${mode.toString(8)}); fix with: chmod 600 ${FILE}`);
      expect(f.ops.filter((o) => o.op === 'read')).toEqual([]); // refused before reading a byte
    }
    const ok = withSeed(Buffer.alloc(32, 1));
    ok.chmod(FILE, 0o400);
    expect(() => readIdentity(FILE, ok)).not.toThrow();
  });

  test.each([
    ['no header', 'AAAA\n'],
    ['short seed', `udpvault-identity-v1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['long seed', `udpvault-identity-v1\n${Buffer.alloc(33).toString('base64')}\n`],
    ['bad base64', `udpvault-identity-v1\n${'*'.repeat(44)}\n`],
    ['padding inside', `udpvault-identity-v1\nAA==${'A'.repeat(40)}\n`],
    ['empty', ''],
  ])('an invalid key file (%s) is refused without its content in the message', (_what, content) => {
    const f = new FakeFs();
    f.mkdir('/h', 0o700);
    f.put(FILE, content);
    expect(() => readIdentity(FILE, f)).toThrow(`identity key file ${FILE} is not a udpvault identity (expected "udpvault-identity-v1" and a base64 seed)`);
  });

  test('created complete, exclusively and durably: temp 0600 fsync’d, linked, directory fsync’d; an existing file is never replaced', () => {
    const f = new FakeFs();
    f.mkdir('/h', 0o700);
    f.ops.length = 0;
    const { identity, created } = loadOrCreateIdentity(FILE, f);
    expect(created).toBe(true);
    const tmp = f.ops.find((o) => o.op === 'open' && o.flags === 'wx') as { path: string };
    expect(f.ops.filter((o) => o.op !== 'open' || o.path !== FILE).slice(-7)).toEqual([
      { op: 'open', path: tmp.path, flags: 'wx' },
      { op: 'write', path: tmp.path, bytes: 21 + 44 + 1 },
      { op: 'fsync', path: tmp.path, async: false },
      { op: 'close', path: tmp.path },
      { op: 'link', from: tmp.path, to: FILE },
      { op: 'unlink', path: tmp.path },
      { op: 'fsyncDir', path: '/h' },
    ]);
    const after = f.crash();
    expect(after.readdir('/h')).toEqual(['identity.key']);
    expect(after.stat(FILE).mode & 0o777).toBe(0o600);
    expect(readIdentity(FILE, after).keyString).toBe(identity.keyString);
    const before = after.peek(FILE);
    expect(createIdentityFile(FILE, identityFromSeed(new Uint8Array(32).fill(9)), after)).toBe(false);
    expect(after.peek(FILE)).toEqual(before);
    expect(after.readdir('/h')).toEqual(['identity.key']);
  });

  test('byte base64 agrees with Buffer’s for every length; malformed input is null', () => {
    for (let n = 0; n < 40; n++) {
      const data = Buffer.from(Array.from({ length: n }, (_, i) => (i * 97 + n) & 255));
      const enc = base64EncodeBytes(data);
      expect(enc.toString()).toBe(data.toString('base64'));
      expect(base64DecodeBytes(enc)).toEqual(data);
    }
    expect(base64DecodeBytes(Buffer.from('AAA'))).toBeNull();
    expect(base64DecodeBytes(Buffer.from('A=AA'))).toBeNull();
    expect(base64DecodeBytes(Buffer.from('AA-_'))).toBeNull();
  });
});
