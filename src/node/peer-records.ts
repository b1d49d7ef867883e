/** Peer options and records: validation of addPeer input, conversion to/from the peer store, settings checks. */
import { BadInputError } from '../errors';
import { decodeKey } from '../crypto/identity';
import { parseEndpoint, type EndpointSpec } from '../peer/endpoint';
import { DEFAULT_SETTINGS, type Settings } from '../settings';
import type { StoredPeer } from '../daemon/store';
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

export function validateSettings(s: Partial<Settings>): Partial<Settings> {
  for (const k of Object.keys(s)) {
    if (!(k in DEFAULT_SETTINGS)) throw new BadInputError('ERR_BAD_CONFIG', `unknown setting "${k}"`);
  }
  return s;
}
