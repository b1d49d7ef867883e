/** Peer options and records: validation of addPeer input, conversion to/from the peer store, settings checks. */
import { BadInputError } from '../errors';
import { decodeKey } from '../crypto/identity';
import { parseEndpoint, type Endpoint, type EndpointSpec } from '../peer/endpoint';
import type { PeerTable } from '../peer/table';
import { staticKeyOf } from '../peer/trust';
import type { Settings } from '../config/schema';
import type { StoredPeer } from '../store/peer-store';
import type { Peer } from '../peer/peer';
import type { AddPeerOptions } from './types';
import type { NodeContext } from '../engine/context';

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** Checks addPeer input; every refusal names the argument and why. */
export function parseAddPeer(o: AddPeerOptions, ownKey: string): { spec: EndpointSpec; key: Uint8Array | null } {
  const spec = parseEndpoint(o.endpoint);
  const key = o.key !== undefined ? decodeKey(o.key) : null;
  if (o.name !== undefined && !NAME_RE.test(o.name)) {
    throw new BadInputError('ERR_BAD_ARGUMENT', `invalid peer name "${o.name.slice(0, 64)}": use 1-64 letters, digits, ".", "_" or "-"`);
  }
  if (o.compat !== undefined && o.compat !== 'vault-v2') throw new BadInputError('ERR_BAD_ARGUMENT', `unknown compat mode "${String(o.compat)}": expected vault-v2`);
  if (o.allowPlaintext && o.compat !== 'vault-v2') throw new BadInputError('ERR_BAD_ARGUMENT', '--allow-plaintext is only valid with --compat vault-v2');
  if (key && o.key === ownKey) throw new BadInputError('ERR_BAD_ARGUMENT', "that key is this node's own identity");
  return { spec, key };
}

/**
 * The existing peer an addPeer call is about (same key, name or endpoint), or undefined for a
 * new one. Refuses what would re-key or rename silently: another key without `replaceKey`
 * (ERR_KEY_CONFLICT), a name used by another peer or a new name for a named peer (ERR_NAME_CONFLICT).
 */
export function matchExisting(peers: PeerTable, o: AddPeerOptions, key: Uint8Array | null, endpoint: Endpoint): Peer | undefined {
  const named = o.name !== undefined ? peers.byName(o.name) : undefined;
  const peer = (o.key !== undefined ? peers.byKey(o.key) : undefined) ?? named ?? peers.byEndpoint(endpoint.address, endpoint.port);
  if (!peer) return undefined;
  if (named && named !== peer) {
    throw new BadInputError('ERR_NAME_CONFLICT', `peer name "${o.name}" is already used by another peer (${named.keyString ?? named.endpointString})`);
  }
  if (o.name !== undefined && peer.name !== null && peer.name !== o.name) {
    throw new BadInputError('ERR_NAME_CONFLICT', `that peer is already named "${peer.name}"; remove it first to add it under another name`);
  }
  if (key && peer.keyString !== null && peer.keyString !== o.key && !o.replaceKey) {
    throw new BadInputError('ERR_KEY_CONFLICT', `peer ${peer.label()} has another key pinned; to change it, add the peer again with --replace-key`);
  }
  return peer;
}

/**
 * Refuses a key whose X25519 form (the Noise static the handshake authenticates) equals this
 * node's own or that of a peer other than `peer` (the one the add is about): distinct Ed25519
 * keys (e.g. the same point with the sign bit flipped) can convert to the same X25519 key, so
 * they name the same handshake identity — the handshake would refuse it, the add must too.
 */
export function checkKeyAlias(peers: PeerTable, key: Uint8Array | null, ownKey: string, peer: Peer | undefined): void {
  if (!key) return;
  const sk = staticKeyOf(key);
  if (sk === null) return;
  if (sk === staticKeyOf(decodeKey(ownKey))) {
    throw new BadInputError('ERR_KEY_ALIAS', "that key is another encoding of this node's own identity (its X25519 form, the handshake key, is this node's); refused");
  }
  const other = peers.byStatic(sk);
  if (other && other !== peer) {
    throw new BadInputError('ERR_KEY_ALIAS', `that key is another encoding of the identity of peer ${other.label()} (both convert to the same X25519 handshake key); refused — use that peer, or remove it first`);
  }
}

export function toStored(p: Peer): StoredPeer {
  return {
    key: p.keyString,
    name: p.name,
    endpoint: `${p.spec.host.includes(':') ? `[${p.spec.host}]` : p.spec.host}:${p.spec.port}`,
    compat: p.compat,
    allowPlaintext: p.allowPlaintext,
    trust: p.trust.level,
    lastHandshakeTs: p.lastHandshakeTs,
    lastHandshakeAt: p.lastHandshakeAt,
  };
}

export function fromStored(s: StoredPeer): AddPeerOptions {
  const o: AddPeerOptions = { endpoint: s.endpoint };
  if (s.key) o.key = s.key;
  if (s.name) o.name = s.name;
  if (s.compat) o.compat = s.compat;
  if (s.allowPlaintext) o.allowPlaintext = true;
  return o;
}

export function limitsOf(s: Settings): NodeContext['limits'] {
  return { rekeyAfterMs: s.rekeyAfterMs, rekeyAfterMessages: s.rekeyAfterMessages, rejectAfterMs: s.rejectAfterMs };
}
