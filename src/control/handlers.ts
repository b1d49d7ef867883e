/** The control ops (docs/CONTROL.md): argument checks, then the node call. */
import type { UdpVaultNode } from '../node/types';
import { BadInputError } from '../errors';
import { isKeyString } from '../crypto/identity';
import { OPS, CONTROL_PROTOCOL_VERSION, type AddPeerRequest, type ControlOp, type OpResults, type RequestId, type WireMessage } from './protocol';
import { countersJson, peerJson, safeFingerprint, type DaemonInfo } from './views';
import { checkCompat, checkKey, checkName, parseEndpoint } from './validate';
import { packageVersion } from './version';

/** What the ops need from the server and the connection they arrived on. */
export interface HandlerContext {
  readonly node: UdpVaultNode;
  readonly home: string | null;
  /** What the daemon around the node reports in `status` (null for a bare node). */
  daemonInfo(): DaemonInfo | null;
  maxMessageBytes(): number;
  subscriberCount(): number;
  connectionCount(): number;
  /** Registers a subscription on the current connection under the request id. */
  /** Returns how many inbox messages were taken for it (`backlog`). */
  subscribe(id: RequestId, filter: string | null, matches: (m: WireMessage) => boolean, backlog: boolean): number;
  unsubscribe(id: RequestId): boolean;
}

export type Request = Record<string, unknown> & { id: RequestId; op: string };

const bad = (message: string): BadInputError => new BadInputError('ERR_BAD_REQUEST', message);

function reqString(r: Request, k: string): string {
  const v = r[k];
  if (typeof v !== 'string') throw bad(`op "${r.op}": field "${k}" is required and must be a string`);
  return v;
}
function optString(r: Request, k: string): string | undefined {
  const v = r[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`op "${r.op}": field "${k}" must be a string`);
  return v;
}
function optBool(r: Request, k: string): boolean | undefined {
  const v = r[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad(`op "${r.op}": field "${k}" must be true or false`);
  return v;
}
function optInt(r: Request, k: string, min: number, max: number): number | undefined {
  const v = r[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw bad(`op "${r.op}": field "${k}" must be an integer ${min}..${max}`);
  return v;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function payload(r: Request, limit: number): Uint8Array {
  const b64 = optString(r, 'base64');
  const text = optString(r, 'text');
  if ((b64 === undefined) === (text === undefined)) throw bad('op "send": give exactly one of "base64" (the payload bytes) or "text" (UTF-8)');
  let data: Uint8Array;
  if (b64 !== undefined) {
    if (!BASE64_RE.test(b64)) throw bad('op "send": field "base64" is not standard base64 (A-Z a-z 0-9 + /, padded with =)');
    data = new Uint8Array(Buffer.from(b64, 'base64'));
  } else {
    data = new Uint8Array(Buffer.from(text!, 'utf8'));
  }
  if (data.byteLength > limit) {
    throw new BadInputError('ERR_TOO_LARGE', `message is ${data.byteLength} bytes; the limit (setting maxMessageBytes) is ${limit} bytes`);
  }
  return data;
}

/** A subscription filter: a key string, or the name or endpoint of a current peer. */
function matcher(node: UdpVaultNode, ref: string): (m: WireMessage) => boolean {
  const find = (): string | null => node.peers().find((p) => p.name === ref || p.endpoint === ref || p.key === ref)?.key ?? null;
  const known = node.peers().some((p) => p.name === ref || p.endpoint === ref || p.key === ref);
  if (!known && !isKeyString(ref)) {
    throw new BadInputError('ERR_UNKNOWN_PEER', `unknown peer "${ref.slice(0, 80)}": not the name, key or endpoint of any peer (see "udpvault peer list")`);
  }
  let key: string | null = isKeyString(ref) ? ref : find();
  return (m) => {
    if (m.peer === ref || m.name === ref || m.addr === ref) return true;
    if (key === null) key = find(); // a TOFU peer's key becomes known on its first handshake
    return key !== null && m.peer === key;
  };
}

export async function handleRequest(ctx: HandlerContext, r: Request): Promise<OpResults[ControlOp]> {
  const node = ctx.node;
  switch (r.op as ControlOp) {
    case 'hello':
    case 'version':
      return { protocol: CONTROL_PROTOCOL_VERSION, version: packageVersion(), publicKey: node.publicKey, ops: [...OPS] };
    case 'id':
      return { publicKey: node.publicKey };
    case 'status': {
      const st = node.status();
      return {
        ...st,
        counters: countersJson(st.counters),
        fingerprint: safeFingerprint(st.publicKey) ?? '',
        home: ctx.home,
        version: packageVersion(),
        subscribers: ctx.subscriberCount(),
        connections: ctx.connectionCount(),
        daemon: ctx.daemonInfo(),
      };
    }
    case 'peers':
      return { peers: node.peers().map(peerJson) };
    case 'peer.add': {
      const endpoint = reqString(r, 'endpoint');
      parseEndpoint(endpoint, 'field "endpoint"');
      const key = optString(r, 'key');
      const name = optString(r, 'name');
      const compat = optString(r, 'compat');
      const allowPlaintext = optBool(r, 'allowPlaintext');
      const replaceKey = optBool(r, 'replaceKey');
      if (key !== undefined) checkKey(key, 'field "key"');
      if (name !== undefined) checkName(name, 'field "name"');
      if (compat !== undefined) checkCompat(compat, 'field "compat"');
      if (allowPlaintext && compat === undefined) throw bad('op "peer.add": "allowPlaintext" is only for peers with "compat": "vault-v2"');
      // replaceKey is handed on: the node refuses to change a recorded key without it (ERR_KEY_CONFLICT).
      const opts: AddPeerRequest = {
        endpoint,
        ...(key !== undefined && { key }),
        ...(name !== undefined && { name }),
        ...(compat !== undefined && { compat: 'vault-v2' as const }),
        ...(allowPlaintext !== undefined && { allowPlaintext }),
        ...(replaceKey !== undefined && { replaceKey }),
      };
      return { peer: peerJson(await node.addPeer(opts)) };
    }
    case 'peer.remove':
      return { peer: peerJson(await node.removePeer(reqString(r, 'peer'))) };
    case 'send': {
      const peer = reqString(r, 'peer');
      const data = payload(r, ctx.maxMessageBytes());
      const reliable = optBool(r, 'reliable') ?? false;
      const timeoutMs = optInt(r, 'timeoutMs', 1, 86_400_000);
      await node.send(peer, data, { reliable, ...(timeoutMs !== undefined && { timeoutMs }) });
      return { size: data.byteLength, reliable };
    }
    case 'subscribe': {
      const ref = optString(r, 'peer') ?? null;
      const backlog = optBool(r, 'backlog') ?? false;
      const taken = ctx.subscribe(r.id, ref, ref === null ? () => true : matcher(node, ref), backlog);
      return backlog ? { peer: ref, backlog, backlogMessages: taken } : { peer: ref, backlog };
    }
    case 'unsubscribe': {
      const sub = r.subscription;
      if (typeof sub !== 'number' && typeof sub !== 'string') throw bad('op "unsubscribe": field "subscription" must be the id of a subscribe request');
      if (!ctx.unsubscribe(sub)) throw bad(`op "unsubscribe": no subscription ${JSON.stringify(sub)} on this connection`);
      return {};
    }
    default:
      throw new BadInputError('ERR_UNKNOWN_OP', `unknown op "${String(r.op).slice(0, 40)}"; known ops: ${OPS.join(', ')}`);
  }
}
