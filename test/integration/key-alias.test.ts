/**
 * `peer add` with a key that is another Ed25519 encoding of a known identity (issue 10,
 * deliverable 7): the Ed25519 point negated (the sign bit of the last byte flipped) is a
 * different public key with the same Montgomery u, so crypto_sign_ed25519_pk_to_curve25519
 * gives both the same X25519 handshake static. The add is refused — in-process with the typed
 * error, through a real daemon's CLI with exit 2 — when the other encoding belongs to another
 * peer or to the node itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeKey, encodeKey } from '../../src/crypto/identity';
import { ed25519PkToX25519, sodiumReady } from '../../src/crypto/sodium';
import { BadInputError } from '../../src/api/errors';
import type { PeerEvent, UdpVaultNode } from '../../src/node/types';
import { startNode } from '../helpers/nodes';
import { cli, Daemon, requireBuild, tempDir } from './cli-helpers';

jest.setTimeout(60_000);

/** The same key with the sign bit of x flipped: -P, the same y, so the same X25519 u. */
function negated(key: string): string {
  const b = decodeKey(key);
  b[31]! ^= 0x80;
  return encodeKey(b);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

beforeAll(sodiumReady);

describe('the crafted key', () => {
  test('differs from the original in one bit, is accepted by libsodium and converts to the same X25519 key', async () => {
    const n = await startNode();
    try {
      const alias = negated(n.publicKey);
      expect(alias).not.toBe(n.publicKey);
      const [a, b] = [decodeKey(n.publicKey), decodeKey(alias)];
      expect([...a.keys()].filter((i) => a[i] !== b[i])).toEqual([31]);
      expect(a[31]! ^ b[31]!).toBe(0x80);
      expect(hex(ed25519PkToX25519(b))).toBe(hex(ed25519PkToX25519(a)));
    } finally {
      await n.close();
    }
  });
});

describe('in-process addPeer', () => {
  const nodes: UdpVaultNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });
  const start = async (): Promise<UdpVaultNode> => {
    const n = await startNode();
    nodes.push(n);
    return n;
  };

  test("refuses another peer's identity under another encoding, with ERR_KEY_ALIAS, and changes nothing", async () => {
    const [a, b] = [await start(), await start()];
    await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'bob' });
    const events: PeerEvent[] = [];
    a.on('peer', (e) => events.push(e));
    const before = a.peers();

    const add = a.addPeer({ endpoint: '127.0.0.1:9', key: negated(b.publicKey), name: 'mallory' });
    await expect(add).rejects.toBeInstanceOf(BadInputError);
    await expect(add).rejects.toMatchObject({
      code: 'ERR_KEY_ALIAS',
      exitCode: 2,
      message: 'that key is another encoding of the identity of peer bob (both convert to the same X25519 handshake key); refused — use that peer, or remove it first',
    });
    // --replace-key onto another existing peer does not get around it.
    await a.addPeer({ endpoint: '127.0.0.1:10', name: 'carol' });
    await expect(a.addPeer({ endpoint: '127.0.0.1:10', key: negated(b.publicKey), name: 'carol', replaceKey: true })).rejects.toMatchObject({ code: 'ERR_KEY_ALIAS' });
    expect(a.peers().filter((p) => p.name !== 'carol')).toEqual(before);
    expect(a.peers().find((p) => p.name === 'carol')!.key).toBeNull();
    expect(events.map((e) => `${e.type} ${e.peer.name}`)).toEqual(['added carol']);
  });

  test("refuses this node's own identity under another encoding", async () => {
    const a = await start();
    await expect(a.addPeer({ endpoint: '127.0.0.1:9', key: negated(a.publicKey) })).rejects.toMatchObject({
      code: 'ERR_KEY_ALIAS',
      message: "that key is another encoding of this node's own identity (its X25519 form, the handshake key, is this node's); refused",
    });
    expect(a.peers()).toEqual([]);
  });

  test("the peer's own other encoding is a key change like any other: refused without replaceKey", async () => {
    const [a, b] = [await start(), await start()];
    await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'bob' });
    await expect(a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: negated(b.publicKey), name: 'bob' })).rejects.toMatchObject({ code: 'ERR_KEY_CONFLICT' });
    expect(a.peers().map((p) => p.key)).toEqual([b.publicKey]);
  });
});

describe('udpvault peer add on a real daemon', () => {
  let root: string;
  let daemon: Daemon | null = null;
  beforeAll(() => requireBuild());
  beforeEach(() => {
    root = tempDir();
  });
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = null;
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('exit 2 with the reason, for an alias of a peer and of the daemon itself; the peer list is unchanged', async () => {
    const home = path.join(root, 'a');
    daemon = await Daemon.start(home);
    const other = await startNode();
    try {
      expect((await cli(['peer', 'add', `127.0.0.1:${other.port}`, '--key', other.publicKey, '--name', 'bob', '--home', home])).code).toBe(0);
      const list = async (): Promise<unknown> => (JSON.parse((await cli(['peer', 'list', '--json', '--home', home])).stdout) as { name: string; key: string; endpoint: string; trust: string }[]).map(({ name, key, endpoint, trust }) => ({ name, key, endpoint, trust }));
      const listBefore = await list();
      expect(listBefore).toEqual([{ name: 'bob', key: other.publicKey, endpoint: `127.0.0.1:${other.port}`, trust: 'pinned' }]);

      const r1 = await cli(['peer', 'add', '127.0.0.1:9', '--key', negated(other.publicKey), '--name', 'mallory', '--home', home]);
      expect(r1.code).toBe(2);
      expect(r1.stderr).toContain('that key is another encoding of the identity of peer bob (both convert to the same X25519 handshake key); refused');
      expect(r1.stdout).toBe('');

      const r2 = await cli(['peer', 'add', '127.0.0.1:9', '--key', negated(daemon.publicKey), '--home', home]);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain("that key is another encoding of this node's own identity");

      expect(await list()).toEqual(listBefore);
    } finally {
      await other.close();
    }
  });
});
