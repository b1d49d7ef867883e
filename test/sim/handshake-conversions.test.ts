/**
 * Ed25519 → X25519 conversions of a first contact (hs19, issue 12): each costs more than an
 * X25519 DH, and each side used to convert the peer's key ~6 times between addPeer and the
 * session. Now each key is converted once per process while remembered (identityStatic), and the
 * responder binds an init's identity to the peer its table found by the static without converting
 * it again. Counted exactly with the backend's conversion wrapped.
 */
import { SimWorld, SIM_PORT, established } from './harness';
import { decodeKey } from '../../src/crypto/identity';
import type { UdpVaultNode } from '../../src/node/types';

/** Every Ed25519 public key the backend converted, as hex, in order. */
const converted: string[] = [];
jest.mock('../../src/crypto/sodium', () => {
  const actual = jest.requireActual('../../src/crypto/sodium');
  return {
    ...actual,
    ed25519PkToX25519: (pk: Uint8Array): Uint8Array => {
      converted.push(Buffer.from(pk).toString('hex'));
      return actual.ed25519PkToX25519(pk);
    },
  };
});

const endpoint = (n: UdpVaultNode): string => `${n.status().host}:${SIM_PORT}`;
const hexKey = (n: UdpVaultNode): string => Buffer.from(decodeKey(n.publicKey)).toString('hex');

test('a first contact, crossing inits and a second handshake convert no key again: each node converted its own key once, at start', async () => {
  const w = new SimWorld(1919);
  w.net.setDefaultLink({ latencyMs: 1 });
  try {
    const a = await w.node('127.0.19.1');
    const b = await w.node('127.0.19.2');
    const counts = (): number[] => [a, b].map((n) => converted.filter((h) => h === hexKey(n)).length);
    expect(counts()).toEqual([1, 1]); // the node's own static (noiseStaticFromIdentity)
    // both add at once: the inits cross, both are read in full (one ignored, one answered)
    await a.addPeer({ endpoint: endpoint(b), key: b.publicKey, name: 'peer' });
    await b.addPeer({ endpoint: endpoint(a), key: a.publicKey, name: 'peer' });
    expect(await w.scheduler.runUntil(() => established(a, 'peer') && established(b, 'peer'), 5_000)).toBe(true);
    expect(counts()).toEqual([1, 1]);
    // removed and added again: a fresh link (new cookie generator, static-static DH, attempt)
    await a.removePeer('peer');
    await b.removePeer('peer');
    await w.scheduler.advance(1_000);
    await b.addPeer({ endpoint: endpoint(a), key: a.publicKey, name: 'peer' });
    await a.addPeer({ endpoint: endpoint(b), key: b.publicKey, name: 'peer' });
    expect(await w.scheduler.runUntil(() => established(a, 'peer') && established(b, 'peer'), 5_000)).toBe(true);
    expect(counts()).toEqual([1, 1]);
  } finally {
    await w.closeAll();
  }
}, 60_000);
