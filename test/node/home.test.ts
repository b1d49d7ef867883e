/**
 * The node's home: one process per home (the lock), peer changes durable before addPeer /
 * removePeer resolve (shown through the filesystem seam: kill -9 keeps the page cache, only a
 * simulated power loss shows an fsync was missing), and hand edits of the peer store applied,
 * never overwritten.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNode } from '../../src/node/node';
import { sodiumReady } from '../../src/crypto/sodium';
import { openHome } from '../../src/store/open-home';
import { FakeFs } from '../../src/store/fake-fs';
import { PeerStore, type StoredPeer } from '../../src/store/peer-store';
import type { UdpVaultNode } from '../../src/node/types';

const KEY_A = 'A'.repeat(42) + 'E';
const KEY_B = 'B'.repeat(42) + 'E';

let dir: string;
const open: UdpVaultNode[] = [];
beforeAll(() => sodiumReady());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-nodehome-'));
});
afterEach(async () => {
  for (const n of open.splice(0)) await n.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const start = async (o: Parameters<typeof createNode>[0]): Promise<UdpVaultNode> => {
  const n = await createNode({ host: '127.0.0.1', port: 0, settings: { mtu: 1500 }, ...o });
  open.push(n);
  return n;
};

const record = (o: Partial<StoredPeer> & { endpoint: string }): StoredPeer => ({
  key: null, name: null, compat: null, allowPlaintext: false, trust: o.key ? 'pinned' : 'unknown', lastHandshakeTs: null, lastHandshakeAt: null, ...o,
});

describe('createNode({home})', () => {
  test('holds the home lock: a second node on the same home is refused with the holder named; after close it starts', async () => {
    const home = path.join(dir, 'h');
    const a = await start({ home });
    await expect(createNode({ home, host: '127.0.0.1', port: 0 })).rejects.toMatchObject({
      code: 'ERR_HOME_LOCKED',
      message: `another udpvault node (pid ${process.pid}) is already running with home ${home}; stop it first or start this one with another --home`,
    });
    await a.close();
    const b = await start({ home });
    expect(b.publicKey).toBe(a.publicKey);
  });

  test('addPeer and removePeer are on disk (file and directory fsync\'d) when they resolve', async () => {
    const fake = new FakeFs();
    const opened = openHome('/home/u', { kind: 'node', fs: fake });
    const node = await start({ openedHome: opened });
    const file = opened.paths.peers;
    await node.addPeer({ endpoint: '127.0.0.1:9', key: KEY_A, name: 'alice' });
    // A power loss right after the promise resolved keeps the change.
    expect(new PeerStore(file, fake.crash()).load().map((p) => [p.name, p.key])).toEqual([['alice', KEY_A]]);
    await node.addPeer({ endpoint: '127.0.0.1:10', key: KEY_B, name: 'bob' });
    await node.removePeer('alice');
    expect(new PeerStore(file, fake.crash()).load().map((p) => p.name)).toEqual(['bob']);
    await node.close();
    await opened.close();
  });

  test('a failing save fails addPeer (no change is reported that is not on disk)', async () => {
    const fake = new FakeFs();
    const opened = openHome('/home/u', { kind: 'node', fs: fake });
    const node = await start({ openedHome: opened });
    fake.failNext('fsync', 'EIO');
    await expect(node.addPeer({ endpoint: '127.0.0.1:9', key: KEY_A, name: 'alice' })).rejects.toThrow(/EIO/);
    expect(new PeerStore(opened.paths.peers, fake.crash()).load()).toEqual([]);
    await node.close();
    await opened.close();
  });

  test('reload applies hand edits: addition, removal, rename, endpoint change; nothing is written back', async () => {
    const home = path.join(dir, 'h');
    const node = await start({ home });
    await node.addPeer({ endpoint: '127.0.0.1:9', key: KEY_A, name: 'alice' });
    await node.addPeer({ endpoint: '127.0.0.1:10', key: KEY_B, name: 'bob' });
    const file = path.join(home, 'peers.json');
    const edited = [record({ endpoint: '127.0.0.1:19', key: KEY_A, name: 'alice2' }), record({ endpoint: '127.0.0.1:11', name: 'carol' })];
    const text = `${JSON.stringify({ version: 1, peers: edited }, null, 2)}\n`;
    fs.writeFileSync(file, text);
    const changes = await node.reload();
    expect(changes).toEqual({ added: ['carol'], removed: ['bob'], changed: ['alice2'], failed: [] });
    expect(node.peers().map((p) => [p.name, p.endpoint, p.key]).sort()).toEqual([
      ['alice2', '127.0.0.1:19', KEY_A],
      ['carol', '127.0.0.1:11', null],
    ]);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  test('a control change after an unapplied hand edit applies the edit first, then saves both', async () => {
    const home = path.join(dir, 'h');
    const node = await start({ home });
    await node.addPeer({ endpoint: '127.0.0.1:9', key: KEY_A, name: 'alice' });
    const file = path.join(home, 'peers.json');
    fs.writeFileSync(file, `${JSON.stringify({ version: 1, peers: [record({ endpoint: '127.0.0.1:9', key: KEY_A, name: 'alice' }), record({ endpoint: '127.0.0.1:11', name: 'carol' })] })}\n`);
    await node.addPeer({ endpoint: '127.0.0.1:10', key: KEY_B, name: 'bob' });
    expect(new PeerStore(file).load().map((p) => p.name)).toEqual(['alice', 'carol', 'bob']);
  });
});
