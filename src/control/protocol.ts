/**
 * The control protocol (docs/CONTROL.md): one JSON object per line over the Unix socket
 * home/control.sock. Version 1.
 *
 *   request   {"v":1,"id":7,"op":"send","peer":"alice","base64":"aGk=","reliable":true}
 *   response  {"v":1,"id":7,"ok":true,"result":{...}}
 *             {"v":1,"id":7,"ok":false,"error":{"code":"ERR_UNKNOWN_PEER","message":"...","kind":"bad-input"}}
 *   stream    {"v":1,"id":3,"type":"message",...}   (id = the subscribe request's id)
 */
import type { AddPeerOptions, MessageEvent, NodeStatus } from '../node/types';
import { reviveError, type ErrorKind, type UdpVaultError } from '../api/errors';
import type { CountersJson, DaemonInfo, PeerJson } from './views';

export const CONTROL_PROTOCOL_VERSION = 1;

export const OPS = ['hello', 'version', 'id', 'status', 'peers', 'peer.add', 'peer.remove', 'send', 'subscribe', 'unsubscribe'] as const;
export type ControlOp = (typeof OPS)[number];

/** A request id: echoed in the response. */
export type RequestId = number | string;

/** Longest request line accepted: 4 MiB of JSON plus a base64 payload of maxMessageBytes. */
export function maxRequestLineBytes(maxMessageBytes: number): number {
  return 4 * 1024 * 1024 + Math.ceil(maxMessageBytes / 3) * 4;
}

// ---- results ---------------------------------------------------------------------------

export interface HelloResult {
  protocol: number;
  version: string;
  publicKey: string;
  ops: ControlOp[];
}
export interface IdResult {
  publicKey: string;
}
export interface StatusResult extends Omit<NodeStatus, 'counters'> {
  counters: CountersJson;
  /** `udpvault id --fingerprint` of publicKey. */
  fingerprint: string;
  home: string | null;
  version: string;
  /** Active subscriptions (each `udpvault subscribe` is one). */
  subscribers: number;
  /** Open control connections, the one asking included. */
  connections: number;
  /** MTU source, datagram sizes per family, config file, log level; null without a daemon around the node. */
  daemon: DaemonInfo | null;
}
export interface PeersResult {
  peers: PeerJson[];
}
export interface PeerResult {
  peer: PeerJson;
}

/** `peer.add` arguments: the node's options plus `replaceKey` (changing a recorded key needs it). */
export type AddPeerRequest = AddPeerOptions & { replaceKey?: boolean };
export interface SendResult {
  size: number;
  reliable: boolean;
}
export interface SubscribeResult {
  peer: string | null;
  backlog: boolean;
  /** With backlog: how many kept messages follow first. */
  backlogMessages?: number;
}

export interface OpResults {
  hello: HelloResult;
  version: HelloResult;
  id: IdResult;
  status: StatusResult;
  peers: PeersResult;
  'peer.add': PeerResult;
  'peer.remove': PeerResult;
  send: SendResult;
  subscribe: SubscribeResult;
  unsubscribe: Record<string, never>;
}

/** Arguments of each op (besides v, id, op). */
export interface OpArgs {
  hello: Record<string, never>;
  version: Record<string, never>;
  id: Record<string, never>;
  status: Record<string, never>;
  peers: Record<string, never>;
  'peer.add': AddPeerRequest;
  'peer.remove': { peer: string };
  /** Exactly one of base64 (the payload bytes) or text (UTF-8). */
  send: { peer: string; base64?: string; text?: string; reliable?: boolean; timeoutMs?: number };
  /** backlog: first the messages kept in the daemon's inbox while no reader was attached. */
  subscribe: { peer?: string; backlog?: boolean };
  unsubscribe: { subscription: RequestId };
}

// ---- errors ----------------------------------------------------------------------------

/** The kind of an error body is the error table's kind of its code (src/api/errors.ts). */
export type { ErrorKind };
export interface ControlErrorBody {
  code: string;
  message: string;
  kind: ErrorKind;
}

export interface OkResponse<R = unknown> {
  v: 1;
  id: RequestId;
  ok: true;
  result: R;
}
export interface ErrorResponse {
  v: 1;
  id: RequestId | null;
  ok: false;
  error: ControlErrorBody;
}
export type ControlResponse = OkResponse | ErrorResponse;

export function errorBody(e: UdpVaultError): ControlErrorBody {
  return { code: e.code, message: e.message, kind: e.kind };
}

/** Rebuilds a typed error from a response (client side); the class comes from the error table. */
export function errorFromBody(b: ControlErrorBody): UdpVaultError {
  return reviveError(b.code, b.message, b.kind);
}

// ---- stream events ---------------------------------------------------------------------

/** A received message as streamed to subscribers (SPEC §1 subscribe --json fields, plus encrypted). */
export interface WireMessage {
  type: 'message';
  /** Sender's public key string. */
  peer: string;
  name?: string;
  addr: string;
  size: number;
  /** The exact payload bytes. */
  base64: string;
  /** Present only when the payload is valid UTF-8. */
  text?: string;
  /** ISO 8601. */
  receivedAt: string;
  reliable: boolean;
  encrypted: boolean;
}
/** `count` messages were dropped for this subscriber because it read too slowly. */
export interface WireLost {
  type: 'lost';
  count: number;
}
/** The daemon is closing the subscription (e.g. it is stopping). */
export interface WireEnd {
  type: 'end';
  reason: string;
}
export type StreamEvent = WireMessage | WireLost | WireEnd;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The payload as text, or undefined when it is not valid UTF-8. */
export function utf8Text(data: Uint8Array): string | undefined {
  try {
    return utf8.decode(data);
  } catch {
    return undefined;
  }
}

export function toWireMessage(ev: MessageEvent): WireMessage {
  const data = ev.data;
  const m: WireMessage = {
    type: 'message',
    peer: ev.peer,
    addr: ev.addr,
    size: data.byteLength,
    base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    receivedAt: ev.receivedAt.toISOString(),
    reliable: ev.reliable,
    encrypted: ev.encrypted,
  };
  if (ev.name !== undefined && ev.name !== null) m.name = ev.name;
  const text = utf8Text(data);
  if (text !== undefined) m.text = text;
  return m;
}

/** Serialises a stream event for subscription `id` (the event body is shared by all subscribers). */
export function streamLine(id: RequestId, body: string): string {
  return `{"v":1,"id":${JSON.stringify(id)},${body.slice(1)}\n`;
}

export function responseLine(r: ControlResponse): string {
  return `${JSON.stringify(r)}\n`;
}
