/**
 * What a handshake leaves on a session (issue 12): the peer's identity is one array per peer —
 * the peer's own key when it is the recorded one — and never a view of a received datagram or
 * of a decrypted payload (which would keep that whole buffer alive for the session's life).
 */
import { SimWorld, SIM_PORT, established } from '../../sim/harness';
import { nativeLinkOf } from '../../node/internals';
import type { UdpVaultNode } from '../../../src/node/types';
import type { Session } from '../../../src/crypto/session';
import { KEY_SLAB_BYTES } from '../../../src/peer/trust';

const A = '127.0.3.1';
const B = '127.0.3.2';

/** Every session the node keeps with the peer `name`, and the peer's key array. */
function sessionsOf(node: UdpVaultNode, name: string): { sessions: Session[]; key: Uint8Array | null } {
  const link = nativeLinkOf(node, name);
  const limits = link.rules().limits;
  const now = link.ctx.clock.monotonic();
  const sessions = [link.keypairs.current(now, limits), link.keypairs.next].filter((s): s is Session => s !== null);
  return { sessions, key: link.peer.key };
}

/** An array that owns exactly its 32 bytes (not a view into something larger). */
const ownBytes = (b: Uint8Array): [number, number, number] => [b.length, b.byteOffset, b.buffer.byteLength];
/** A 32-byte slot of a peer-key slab (trust.ts): [length, offset within a slot boundary, slab size]. */
const slabSlot = (b: Uint8Array): [number, number, number] => [b.length, b.byteOffset % 32, b.buffer.byteLength];

describe('session identity after a handshake', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(21);
    w.net.setDefaultLink({ latencyMs: 5 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('pinned peers (IK): each side\'s session holds the peer\'s own key array, not a copy', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b, ['b', 'a']);
    for (const [node, name] of [[a, 'b'], [b, 'a']] as const) {
      const { sessions, key } = sessionsOf(node, name);
      expect(sessions.length).toBeGreaterThanOrEqual(1);
      for (const s of sessions) expect(s.remoteStatic).toBe(key);
      expect(slabSlot(key!)).toEqual([32, 0, KEY_SLAB_BYTES]);
    }
  });

  test('TOFU (XX): the recorded key is a slab slot and the sessions\' identity owns its 32 bytes; the sessions share the recorded key once it is recorded', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, name: 'a' });
    await w.scheduler.advance(2_000);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, name: 'b' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 3_000)).toBe(true);
    for (const [node, name, other] of [[a, 'b', b], [b, 'a', a]] as const) {
      const { sessions, key } = sessionsOf(node, name);
      expect(Buffer.from(key!).toString('base64url')).toBe(other.publicKey);
      expect(slabSlot(key!)).toEqual([32, 0, KEY_SLAB_BYTES]);
      expect(sessions.length).toBeGreaterThanOrEqual(1);
      for (const s of sessions) {
        expect(ownBytes(s.remoteStatic)).toEqual([32, 0, 32]);
        expect(Buffer.from(s.remoteStatic).equals(Buffer.from(key!))).toBe(true);
      }
    }
    // a rekey's session, made after the key was recorded, holds the recorded array itself
    await w.scheduler.advance(200_000);
    expect(established(a, 'b') && established(b, 'a')).toBe(true);
    for (const [node, name] of [[a, 'b'], [b, 'a']] as const) {
      const { sessions, key } = sessionsOf(node, name);
      expect(sessions.length).toBeGreaterThanOrEqual(1);
      for (const s of sessions) expect(s.remoteStatic).toBe(key);
    }
  });
});
