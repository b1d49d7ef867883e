/** PeerTable indexes (kept current by the peers' own change methods) and PeerTrust's policy. */
import { PeerTable } from '../../src/peer/table';
import { Peer } from '../../src/peer/peer';
import { PeerTrust } from '../../src/peer/trust';
import { TokenBucket } from '../../src/net/ratelimit';
import { ManualClock } from '../../src/runtime/clock';
import { encodeKey } from '../../src/crypto/identity';
import { DropError } from '../../src/errors';
import type { PeerEvent } from '../../src/node/types';
import { Session } from '../../src/crypto/session';

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);

function peer(events: PeerEvent[], o: { key?: number; name?: string; address: string; port: number; compat?: 'vault-v2' }): Peer {
  return new Peer({
    key: o.key !== undefined ? key(o.key) : null, trust: o.key !== undefined ? 'pinned' : 'unknown', name: o.name ?? null,
    spec: { host: o.address, port: o.port }, endpoint: { address: o.address, port: o.port, family: 4 }, compat: o.compat ?? null,
    allowPlaintext: false, lastHandshakeTs: null, lastHandshakeAt: null, limiter: new TokenBucket(1, 1, new ManualClock()),
    emit: (e) => void events.push(e),
  });
}

const sessionWith = (sid: number): Session =>
  new Session({ sendKey: new Uint8Array(32).fill(1), recvKey: new Uint8Array(32).fill(2), localSid: sid, remoteSid: 9, initiator: true, remoteStatic: new Uint8Array(32), remoteTimestampMs: 1 }, 0);

describe('PeerTable', () => {
  test('the session-id map holds the session itself, its peer in Session.owner (mem20: no {peer, session} object per session)', () => {
    const events: PeerEvent[] = [];
    const t = new PeerTable();
    const p = peer(events, { key: 1, name: 'p', address: '10.0.0.1', port: 1000 });
    const q = peer(events, { key: 2, name: 'q', address: '10.0.0.2', port: 1000 });
    t.add(p);
    t.add(q);
    const [a, b, c] = [sessionWith(0xfffffff0), sessionWith(2), sessionWith(3)];
    t.bindSession(p, a);
    t.bindSession(q, b);
    expect([t.session(0xfffffff0), t.ownerOf(t.session(0xfffffff0)), t.session(2), t.ownerOf(t.session(2))]).toEqual([a, p, b, q]);
    expect(t.session(2) === b && t.ownerOf(b) === q).toBe(true);
    expect([t.session(3), t.ownerOf(t.session(3)), t.ownerOf(c), t.sidInUse(2), t.sidInUse(3)]).toEqual([undefined, undefined, undefined, true, false]);
    t.unbindSession(c); // not bound: nothing changes
    expect(t.ownerOf(t.session(2))).toBe(q);
    t.unbindSession(b);
    expect([t.session(2), b.owner, t.sidInUse(2)]).toEqual([undefined, null, false]);
    t.remove(p); // its sessions go with it
    expect([t.session(0xfffffff0), a.owner, t.ownerOf(t.session(0xfffffff0))]).toEqual([undefined, null, undefined]);
  });

  test('lookups follow renames, moves, key records and removal', () => {
    const events: PeerEvent[] = [];
    const t = new PeerTable();
    const p = peer(events, { name: 'p', address: '10.0.0.1', port: 1000, compat: 'vault-v2' });
    const q = peer(events, { key: 2, name: 'q', address: '10.0.0.1', port: 2000, compat: 'vault-v2' });
    t.add(p);
    t.add(q);
    expect([t.find('p'), t.find(encodeKey(key(2))), t.find('10.0.0.1:1000'), t.byEndpoint('10.0.0.1', 2000)]).toEqual([p, q, p, q]);
    expect(t.vaultV2AtAddress('10.0.0.1')).toEqual([p, q]);
    p.update({ name: 'p2', spec: p.spec, endpoint: p.endpoint });
    expect([t.find('p'), t.find('p2')]).toEqual([undefined, p]);
    expect(p.moveTo({ address: '10.0.0.9', port: 9, family: 4 })).toBe(true);
    expect(p.moveTo({ address: '10.0.0.9', port: 9, family: 4 })).toBe(false);
    // the configured endpoint (kept as the endpoint's address and port until the move: rest18) stays
    expect([p.spec, p.endpointString]).toEqual([{ host: '10.0.0.1', port: 1000 }, '10.0.0.9:9']);
    expect(p.moveTo({ address: '10.0.0.1', port: 1000, family: 4 })).toBe(true);
    expect(p.moveTo({ address: '10.0.0.9', port: 9, family: 4 })).toBe(true);
    expect(p.spec).toEqual({ host: '10.0.0.1', port: 1000 });
    expect([t.byEndpoint('10.0.0.1', 1000), t.byEndpoint('10.0.0.9', 9), t.find('10.0.0.1:1000')]).toEqual([undefined, p, p]); // configured host:port still finds it
    expect(t.vaultV2AtAddress('10.0.0.1')).toEqual([q]);
    expect(p.recordTofu(key(1))).toBe(true);
    expect(p.recordTofu(key(3))).toBe(false);
    expect(t.byKey(encodeKey(key(1)))).toBe(p);
    expect(events.map((e) => e.type)).toEqual(['endpoint-changed', 'endpoint-changed', 'endpoint-changed', 'tofu']);
    t.remove(p);
    expect([t.find('p2'), t.byKey(encodeKey(key(1))), t.byEndpoint('10.0.0.9', 9), t.size]).toEqual([undefined, undefined, undefined, 1]);
    p.update({ name: 'again', spec: p.spec, endpoint: p.endpoint }); // detached: the table does not follow
    expect(t.find('again')).toBeUndefined();
  });

  test('peers sharing an address and an endpoint: all found in order, down to one and none', () => {
    const events: PeerEvent[] = [];
    const t = new PeerTable();
    const [a, b, c] = [1, 2, 3].map((k) => peer(events, { key: k, address: '10.0.0.7', port: 7, compat: 'vault-v2' }));
    for (const p of [a!, b!, c!]) t.add(p);
    expect(t.vaultV2AtAddress('10.0.0.7')).toEqual([a, b, c]);
    expect(t.byEndpoint('10.0.0.7', 7)).toBe(a);
    t.remove(a!);
    expect([t.vaultV2AtAddress('10.0.0.7'), t.byEndpoint('10.0.0.7', 7), t.find('10.0.0.7:7')]).toEqual([[b, c], b, b]);
    t.remove(b!);
    expect([t.vaultV2AtAddress('10.0.0.7'), t.byEndpoint('10.0.0.7', 7)]).toEqual([[c], c]);
    t.add(a!);
    expect(t.vaultV2AtAddress('10.0.0.7')).toEqual([c, a]);
    t.remove(c!);
    t.remove(a!);
    expect([t.vaultV2AtAddress('10.0.0.7'), t.byEndpoint('10.0.0.7', 7), t.size]).toEqual([[], undefined, 0]);
  });

  test('native peers are not indexed by address; a vault-v2 peer is from when it becomes one; a change leaves the other indexes in place', () => {
    const events: PeerEvent[] = [];
    const t = new PeerTable();
    const [a, b] = [1, 2].map((k) => peer(events, { key: k, address: '10.0.0.7', port: 7 }));
    t.add(a!);
    t.add(b!);
    expect([t.vaultV2AtAddress('10.0.0.7'), t.byEndpoint('10.0.0.7', 7)]).toEqual([[], a]);
    a!.update({ spec: a!.spec, endpoint: a!.endpoint, compat: 'vault-v2' });
    expect(t.vaultV2AtAddress('10.0.0.7')).toEqual([a]);
    // Renaming a touches only the name index: a stays first at the shared endpoint (was moved behind b by a re-add).
    a!.update({ name: 'renamed', spec: a!.spec, endpoint: a!.endpoint });
    expect([t.byEndpoint('10.0.0.7', 7), t.find('renamed'), t.byKey(encodeKey(key(1)))]).toEqual([a, a, a]);
    a!.moveTo({ address: '10.0.0.8', port: 8, family: 4 });
    expect([t.vaultV2AtAddress('10.0.0.7'), t.vaultV2AtAddress('10.0.0.8'), t.byEndpoint('10.0.0.7', 7), t.byEndpoint('10.0.0.8', 8), t.find('10.0.0.7:7')]).toEqual([[], [a], b, a, b]);
    t.remove(a!);
    expect([t.vaultV2AtAddress('10.0.0.8'), t.byEndpoint('10.0.0.8', 8), t.find('renamed')]).toEqual([[], undefined, undefined]);
  });

  test('handshake records: the ISO time kept as ms reads back the same; the replay mark kept apart only while above the persisted timestamp', () => {
    const events: PeerEvent[] = [];
    const p = peer(events, { key: 1, address: '10.0.0.1', port: 1 });
    expect([p.lastHandshakeAt, p.lastHandshakeTs, p.handshakeMark]).toEqual([null, null, null]);
    p.acceptHandshakeTs(5_000); // verified, not confirmed: the mark rises in memory only
    expect([p.lastHandshakeTs, p.handshakeMark]).toEqual([null, 5_000]);
    p.recordHandshake(4_000, Date.UTC(2027, 0, 2, 3, 4, 5, 678) + 0.9);
    expect([p.lastHandshakeAt, p.info().lastHandshake, p.lastHandshakeTs, p.handshakeMark]).toEqual(['2027-01-02T03:04:05.678Z', '2027-01-02T03:04:05.678Z', 4_000, 5_000]);
    p.recordHandshake(6_000, Date.UTC(2027, 0, 2));
    expect([p.lastHandshakeTs, p.handshakeMark]).toEqual([6_000, 6_000]);
    p.restore('pinned', 7_000, '2027-01-02 03:04:05'); // a restored string that is not toISOString's form is kept as it is
    expect([p.lastHandshakeAt, p.lastHandshakeTs, p.handshakeMark]).toEqual(['2027-01-02 03:04:05', 7_000, 7_000]);
    p.restore('pinned', 6_500, '2026-12-01T15:00:00.000Z');
    expect([p.lastHandshakeAt, p.lastHandshakeTs, p.handshakeMark]).toEqual(['2026-12-01T15:00:00.000Z', 6_500, 7_000]);
    p.replaceKey(key(9));
    expect([p.lastHandshakeTs, p.handshakeMark]).toEqual([null, null]);
  });

  test('state changes emit their event once per entry', () => {
    const events: PeerEvent[] = [];
    const p = peer(events, { key: 1, address: '10.0.0.1', port: 1 });
    p.setState('handshaking');
    p.setState('established');
    p.setState('established');
    p.setState('unreachable');
    p.setState('unreachable');
    p.setState('established');
    expect(events.map((e) => e.type)).toEqual(['handshake', 'unreachable', 'handshake']);
  });
});

describe('PeerTrust', () => {
  test('a TOFU key refuses other keys, reporting each offered key once', () => {
    const t = new PeerTrust(null, 'unknown');
    const reports: string[] = [];
    const report = (k: string): void => void reports.push(k);
    expect(t.verifyingKey(key(1), report)).toEqual(key(1)); // no key yet: the offered one (TOFU)
    expect(t.recordFirst(key(1))).toBe(true);
    expect(t.level).toBe('tofu');
    for (const k of [2, 2, 3, 2]) expect(() => t.verifyingKey(key(k), report)).toThrow(DropError);
    expect(reports).toEqual([encodeKey(key(2)), encodeKey(key(3)), encodeKey(key(2))]);
    expect(t.verifyingKey(key(1), report)).toEqual(key(1));
  });

  test('a pinned key refuses others without reports; pin replaces it', () => {
    const t = new PeerTrust(key(1), 'pinned');
    const reports: string[] = [];
    expect(() => t.verifyingKey(key(2), (k) => void reports.push(k))).toThrow(expect.objectContaining({ reason: 'keyChanged' }));
    expect(reports).toEqual([]);
    t.pin(key(2));
    expect([t.keyString, t.level]).toEqual([encodeKey(key(2)), 'pinned']);
  });
});
