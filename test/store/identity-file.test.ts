import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { sodiumReady } from '../../src/crypto/sodium';
import { isKeyString } from '../../src/crypto/identity';
import { loadOrCreateIdentity } from '../../src/store/identity-file';
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
