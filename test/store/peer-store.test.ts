import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UdpVaultError } from '../../src/errors';
import { PeerStore, type StoredPeer } from '../../src/store/peer-store';
import { FakeFs, SimulatedCrash } from '../../src/store/fake-fs';

const KEY1 = Buffer.alloc(32, 1).toString('base64url');
const KEY2 = Buffer.alloc(32, 2).toString('base64url');

const peer = (over: Partial<StoredPeer> = {}): StoredPeer => ({
  key: KEY1,
  name: 'alice',
  endpoint: '127.0.0.1:11001',
  compat: null,
  allowPlaintext: false,
  trust: 'pinned',
  lastHandshakeTs: 1_800_000_000_000,
  lastHandshakeAt: '2027-01-15T08:00:00.000Z',
  ...over,
});

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-store-'));
  file = path.join(dir, 'peers.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function corrupt(content: string | Buffer): UdpVaultError {
  fs.writeFileSync(file, content);
  const before = fs.readFileSync(file);
  let err: unknown;
  try {
    new PeerStore(file).load();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UdpVaultError);
  expect((err as UdpVaultError).code).toBe('ERR_STORE_CORRUPT');
  expect(fs.readFileSync(file).equals(before)).toBe(true); // never silently replaced
  expect(fs.readdirSync(dir)).toEqual(['peers.json']);
  return err as UdpVaultError;
}

describe('PeerStore', () => {
  test('a missing store is an empty list', () => {
    expect(new PeerStore(file).load()).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
  });

  test('save then load round-trips; the file is mode 0600 and no temp file is left', () => {
    const peers = [peer(), peer({ key: null, name: null, trust: 'unknown', endpoint: 'host.example:1', lastHandshakeTs: null, lastHandshakeAt: null }), peer({ key: KEY2, name: 'v2', compat: 'vault-v2', allowPlaintext: true, trust: 'tofu' })];
    const store = new PeerStore(file);
    store.save(peers);
    expect(store.load()).toEqual(peers);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['peers.json']);
    store.save([]);
    expect(store.load()).toEqual([]);
  });

  test('only the StoredPeer fields are written', () => {
    const store = new PeerStore(file);
    store.save([{ ...peer(), secret: 'x' } as StoredPeer]);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('secret');
  });

  test('atomic: a replaced store is complete, an interrupted write (stray temp file) changes nothing', () => {
    const store = new PeerStore(file);
    store.save([peer()]);
    // A crash between writing the temp file and the rename leaves the old store intact.
    fs.writeFileSync(path.join(dir, '.peers.json.12345.abc.tmp'), '{"version":1,"peers":[{"key":');
    expect(store.load()).toEqual([peer()]);
    store.save([peer(), peer({ key: KEY2, name: 'bob' })]);
    expect(store.load()).toHaveLength(2);
  });

  test('save refuses invalid peers and leaves the store as it was', () => {
    const store = new PeerStore(file);
    store.save([peer()]);
    expect(() => store.save([peer(), peer({ name: 'other' })])).toThrow(/peers\[1\]\.key appears twice/);
    expect(() => store.save([peer({ trust: 'unknown' })])).toThrow(/trust does not match/);
    expect(store.load()).toEqual([peer()]);
    expect(fs.readdirSync(dir)).toEqual(['peers.json']);
  });

  test('the corrupt-store message names the file, says it was left untouched and how to recover', () => {
    const e = corrupt('{"version":1,"peers":[{"key":"');
    expect(e.message).toBe(
      `peer store ${file} is corrupt (not valid JSON: the file is torn or was edited badly); it was left untouched. ` +
        `Repair it, or move it away (mv ${file} ${file}.bad) and add the peers again with "udpvault peer add", then restart`,
    );
  });

  test.each([
    ['empty file', '', /the file is empty/],
    ['binary garbage', Buffer.from([0xff, 0x00, 0x81, 0x7b]), /not valid JSON/],
    ['not an object', '[]', /not a JSON object/],
    ['wrong version', '{"version":2,"peers":[]}', /unsupported version 2, expected 1/],
    ['missing version', '{"peers":[]}', /unsupported version missing/],
    ['peers not an array', '{"version":1,"peers":{}}', /"peers" is not an array/],
    ['peer not an object', '{"version":1,"peers":[1]}', /peers\[0\] is not an object/],
    ['bad key', JSON.stringify({ version: 1, peers: [peer({ key: 'short' })] }), /peers\[0\]\.key/],
    ['bad endpoint', JSON.stringify({ version: 1, peers: [peer({ endpoint: '' })] }), /peers\[0\]\.endpoint/],
    ['bad compat', JSON.stringify({ version: 1, peers: [{ ...peer(), compat: 'v1' }] }), /peers\[0\]\.compat/],
    ['bad trust', JSON.stringify({ version: 1, peers: [{ ...peer(), trust: 'yes' }] }), /peers\[0\]\.trust/],
    ['bad allowPlaintext', JSON.stringify({ version: 1, peers: [{ ...peer(), allowPlaintext: 'no' }] }), /allowPlaintext/],
    ['bad timestamp', JSON.stringify({ version: 1, peers: [{ ...peer(), lastHandshakeTs: -1 }] }), /lastHandshakeTs/],
    ['bad date', JSON.stringify({ version: 1, peers: [{ ...peer(), lastHandshakeAt: 'yesterday' }] }), /lastHandshakeAt/],
    ['duplicate name', JSON.stringify({ version: 1, peers: [peer(), peer({ key: KEY2 })] }), /peers\[1\]\.name appears twice/],
  ])('refuses a store with %s', (_what, content, why) => {
    expect(corrupt(content).message).toMatch(why);
  });

  test('an unreadable store is reported, not replaced', () => {
    if (process.getuid?.() === 0) return; // root reads anything
    fs.writeFileSync(file, '{}');
    fs.chmodSync(file, 0o000);
    expect(() => new PeerStore(file).load()).toThrow(/cannot read peer store .* \(EACCES\); it was left untouched/);
  });
});

describe('PeerStore through the filesystem seam', () => {
  const FILE = '/h/peers.json';
  const home = (): FakeFs => {
    const f = new FakeFs();
    f.mkdir('/h', 0o700);
    return f;
  };

  test('save is durable when it returns: written, fsync’d, renamed, directory fsync’d — in that order', () => {
    const f = home();
    const store = new PeerStore(FILE, f);
    f.ops.length = 0;
    store.save([peer()]);
    const ops = f.ops.map((o) => o.op);
    expect(ops).toEqual(['open', 'write', 'fsync', 'close', 'rename', 'fsyncDir']);
    expect(f.ops[4]).toMatchObject({ op: 'rename', to: FILE });
    expect(f.ops[5]).toEqual({ op: 'fsyncDir', path: '/h' });
    expect(new PeerStore(FILE, f.crash()).load()).toEqual([peer()]); // power loss right after the ack
  });

  test('a crash at any step of a save leaves the old store or the new one, never a torn or missing one', () => {
    const next = [peer(), peer({ key: KEY2, name: 'bob' })];
    for (let step = 0; step < 6; step++) {
      const f = home();
      new PeerStore(FILE, f).save([peer()]);
      f.killAt(step);
      expect(() => new PeerStore(FILE, f).save(next)).toThrow(SimulatedCrash);
      for (const mode of ['lose', 'keep', 'torn'] as const) {
        const loaded = new PeerStore(FILE, f.crash({ data: mode, entries: mode === 'keep' ? 'keep' : 'lose' })).load();
        expect([[peer()], next]).toContainEqual(loaded);
      }
    }
  });

  test('a hand-written entry may leave out everything but the endpoint', () => {
    fs.writeFileSync(
      file,
      JSON.stringify({ version: 1, peers: [{ endpoint: 'a.example:1' }, { key: KEY1, name: 'alice', endpoint: '127.0.0.1:2' }, { key: KEY2, endpoint: 'b:3', trust: 'tofu' }] }),
    );
    expect(new PeerStore(file).load()).toEqual([
      { key: null, name: null, endpoint: 'a.example:1', compat: null, allowPlaintext: false, trust: 'unknown', lastHandshakeTs: null, lastHandshakeAt: null },
      { key: KEY1, name: 'alice', endpoint: '127.0.0.1:2', compat: null, allowPlaintext: false, trust: 'pinned', lastHandshakeTs: null, lastHandshakeAt: null },
      { key: KEY2, name: null, endpoint: 'b:3', compat: null, allowPlaintext: false, trust: 'tofu', lastHandshakeTs: null, lastHandshakeAt: null },
    ]);
    corrupt(JSON.stringify({ version: 1, peers: [{ name: 'x' }] })); // the endpoint is required
  });
});

describe('PeerStore.changedOnDisk', () => {
  test('tells a hand edit made since the last load or save, so a save does not silently overwrite it', () => {
    const store = new PeerStore(file);
    expect(store.changedOnDisk()).toBe(true); // nothing known yet
    expect(store.load()).toEqual([]);
    expect(store.changedOnDisk()).toBe(false); // missing, as loaded
    store.save([peer()]);
    expect(store.changedOnDisk()).toBe(false);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('127.0.0.1:11001', '127.0.0.1:11002')); // the operator edits it
    expect(store.changedOnDisk()).toBe(true);
    expect(store.load()[0]!.endpoint).toBe('127.0.0.1:11002');
    expect(store.changedOnDisk()).toBe(false);
    fs.rmSync(file);
    expect(store.changedOnDisk()).toBe(true);
  });
});
