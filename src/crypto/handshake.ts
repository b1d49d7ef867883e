/**
 * The v3 handshake as pure functions (no I/O, no clock, no randomness of its own): one round
 * trip, both sides sign their ephemeral X25519 key and the transcript with their Ed25519
 * identity; session keys come from the ephemeral DH (crypto_kx) bound to the transcript hash.
 *
 *   initiator                                   responder
 *   init  = 0x31 sid_i ts_i S_i S_r E_i sig_i  ──►  verify sig_i with the PINNED S_i
 *   resp  = 0x32 sid_r sid_i ts_r S_r E_r sig_r ◄──  sig_r covers init ‖ resp
 *   keys  = H(kx(E_i, E_r), H(init ‖ resp))          (same keys, directions swapped)
 */
import { DropError } from '../errors';
import { PUBLIC_KEY_BYTES } from '../constants';
import {
  encodeInitUnsigned,
  encodeResponseUnsigned,
  INIT_SIGNED_BYTES,
  RESPONSE_SIGNED_BYTES,
  type InitMessage,
  type ResponseMessage,
} from '../wire/packet';
import { genericHash, kxClientKeys, kxServerKeys, signDetached, verifyDetached, wipe, type KeyPair } from './sodium';
import type { Identity } from './identity';

const enc = new TextEncoder();
const INIT_LABEL = enc.encode('udpvault v3 init\0');
const RESP_LABEL = enc.encode('udpvault v3 resp\0');
const KEY_LABEL = enc.encode('udpvault v3 data key\0');
export const ZERO_KEY = new Uint8Array(PUBLIC_KEY_BYTES);

export interface HandshakeKeys {
  sendKey: Uint8Array;
  recvKey: Uint8Array;
  localSid: number;
  remoteSid: number;
  initiator: boolean;
  remoteStatic: Uint8Array;
  remoteTimestampMs: number;
}

export interface PendingInit {
  localSid: number;
  ephemeral: KeyPair;
  init: Uint8Array;
  /** The responder key the init was addressed to (zero = unknown, TOFU). */
  responderStatic: Uint8Array;
  /** The signed timestamp of the init. */
  timestampMs: number;
}

/**
 * Replay defence of handshake inits: an identity's timestamp is compared only with that
 * identity's earlier ones (as WireGuard's TAI64N), never with our clock — peers' wall clocks
 * need not agree.
 */
export interface ReplayInput {
  /** Highest init timestamp accepted from this identity (persisted once confirmed), or null. */
  lastTimestampMs: number | null;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Rejects an init timestamp not newer than the last one accepted from the same identity. */
export function checkHandshakeReplay(tsMs: number, r: ReplayInput): void {
  if (r.lastTimestampMs !== null && tsMs <= r.lastTimestampMs) throw new DropError('replay', 'handshake timestamp not newer than the last accepted one');
}

export function createInit(p: {
  identity: Identity;
  responderStatic: Uint8Array | null;
  localSid: number;
  ephemeral: KeyPair;
  timestampMs: number;
}): PendingInit {
  const responderStatic = p.responderStatic ?? ZERO_KEY;
  const init = encodeInitUnsigned({
    senderSid: p.localSid,
    timestampMs: p.timestampMs,
    initiatorStatic: p.identity.publicKey,
    responderStatic,
    ephemeral: p.ephemeral.publicKey,
  });
  init.set(signDetached(concat(INIT_LABEL, init.subarray(0, INIT_SIGNED_BYTES)), p.identity.privateKey), INIT_SIGNED_BYTES);
  return { localSid: p.localSid, ephemeral: p.ephemeral, init, responderStatic, timestampMs: p.timestampMs };
}

/**
 * Responder: verifies an init against the pinned key of the identity it names (the caller
 * looked the identity up and decided trust; never verify only against an unvetted key).
 */
export function verifyInit(init: InitMessage, pinnedStatic: Uint8Array, ownStatic: Uint8Array, r: ReplayInput): void {
  if (!equalBytes(init.responderStatic, ownStatic) && !equalBytes(init.responderStatic, ZERO_KEY)) {
    throw new DropError('unknownPeer', 'handshake init addressed to another identity');
  }
  if (!equalBytes(init.initiatorStatic, pinnedStatic)) throw new DropError('keyChanged', 'handshake init from a key that is not the pinned one');
  checkHandshakeReplay(init.timestampMs, r);
  if (!verifyDetached(init.signature, concat(INIT_LABEL, init.bytes.subarray(0, INIT_SIGNED_BYTES)), pinnedStatic)) {
    throw new DropError('authFailure', 'handshake init signature invalid');
  }
}

function deriveKeys(rx: Uint8Array, tx: Uint8Array, init: Uint8Array, resp: Uint8Array): [Uint8Array, Uint8Array] {
  const h = genericHash(32, concat(init, resp));
  const recvKey = genericHash(32, concat(KEY_LABEL, h), rx);
  const sendKey = genericHash(32, concat(KEY_LABEL, h), tx);
  wipe(rx);
  wipe(tx);
  return [recvKey, sendKey];
}

/** Responder: builds the signed response and the session keys. Wipes the ephemeral secret. */
export function createResponse(p: {
  identity: Identity;
  init: InitMessage;
  localSid: number;
  ephemeral: KeyPair;
  timestampMs: number;
}): { response: Uint8Array; keys: HandshakeKeys } {
  const resp = encodeResponseUnsigned({
    senderSid: p.localSid,
    receiverSid: p.init.senderSid,
    timestampMs: p.timestampMs,
    responderStatic: p.identity.publicKey,
    ephemeral: p.ephemeral.publicKey,
  });
  const signed = concat(RESP_LABEL, p.init.bytes, resp.subarray(0, RESPONSE_SIGNED_BYTES));
  resp.set(signDetached(signed, p.identity.privateKey), RESPONSE_SIGNED_BYTES);
  let rx: Uint8Array;
  let tx: Uint8Array;
  try {
    [rx, tx] = kxServerKeys(p.ephemeral.publicKey, p.ephemeral.privateKey, p.init.ephemeral);
  } catch {
    throw new DropError('malformed', 'weak ephemeral key');
  } finally {
    wipe(p.ephemeral.privateKey);
  }
  const [recvKey, sendKey] = deriveKeys(rx, tx, p.init.bytes, resp);
  return {
    response: resp,
    keys: {
      sendKey,
      recvKey,
      localSid: p.localSid,
      remoteSid: p.init.senderSid,
      initiator: false,
      remoteStatic: new Uint8Array(p.init.initiatorStatic),
      remoteTimestampMs: p.init.timestampMs,
    },
  };
}

/**
 * Initiator: verifies the response against the pinned responder key and derives the keys. The
 * response's timestamp is not replay-checked: its signature covers our init (fresh ephemeral
 * key and session id), so it cannot be replayed; it only tells the responder's clock.
 */
export function consumeResponse(pending: PendingInit, resp: ResponseMessage, pinnedStatic: Uint8Array): HandshakeKeys {
  if (resp.receiverSid !== pending.localSid) throw new DropError('unknownSession', 'response for another handshake');
  if (!equalBytes(resp.responderStatic, pinnedStatic)) throw new DropError('keyChanged', 'handshake response from a key that is not the pinned one');
  const signed = concat(RESP_LABEL, pending.init, resp.bytes.subarray(0, RESPONSE_SIGNED_BYTES));
  if (!verifyDetached(resp.signature, signed, pinnedStatic)) throw new DropError('authFailure', 'handshake response signature invalid');
  let rx: Uint8Array;
  let tx: Uint8Array;
  try {
    [rx, tx] = kxClientKeys(pending.ephemeral.publicKey, pending.ephemeral.privateKey, resp.ephemeral);
  } catch {
    throw new DropError('malformed', 'weak ephemeral key');
  }
  wipe(pending.ephemeral.privateKey);
  const [recvKey, sendKey] = deriveKeys(rx, tx, pending.init, resp.bytes);
  return {
    sendKey,
    recvKey,
    localSid: pending.localSid,
    remoteSid: resp.senderSid,
    initiator: true,
    remoteStatic: new Uint8Array(resp.responderStatic),
    remoteTimestampMs: resp.timestampMs,
  };
}
