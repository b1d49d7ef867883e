/**
 * Receiving from vault-v2 peers (SPEC §6), for datagrams from the IP of at least one vault-v2
 * peer: plaintext body or encrypted envelope → sender → announcement and/or payload.
 *
 * - Plaintext announcement: verified (signature and signed content), then it belongs to the
 *   vault-v2 peer at (source IP, announced port); the source port is random for the reference.
 * - Encrypted datagram: the sender is found by trying the learned X25519 keys of the vault-v2
 *   peers on the source IP; freshness and the inner-nonce replay cache are checked on opening.
 * - Plaintext payload: delivered (encrypted: false) only from a peer added with allowPlaintext.
 *
 * Drops attributed to a peer are counted here through ctx.drop(); unattributed refusals are
 * thrown as DropError for the caller to count.
 */
import { DropError } from '../../errors';
import { formatEndpoint } from '../../peer/endpoint';
import type { Datagram } from '../../net/transport';
import type { MessageEvent } from '../../api/types';
import type { Peer } from '../../peer/peer';
import { decodePayload } from '../../compat/vault-v2-codec';
import { decodeBody, type VaultV2Body } from '../../compat/vault-v2-body';
import { parseAnnouncement } from '../../compat/vault-v2-announce';
import { classify, openEnvelope } from '../../compat/vault-v2-envelope';
import type { VaultV2NonceCache } from '../../compat/vault-v2-nonce-cache';
import type { VaultV2OwnKeys } from '../../compat/vault-v2-keys';
import { countReceived, type NodeContext } from '../context';
import { acceptAnnouncement, type VaultV2PeerState } from './peer-keys';

/** What the receive path needs from the vault-v2 engine. */
export interface VaultV2ReceiveHost {
  readonly ctx: NodeContext;
  readonly own: VaultV2OwnKeys;
  readonly seen: VaultV2NonceCache;
  state(peer: Peer): VaultV2PeerState;
  /** An announcement from `peer` taught us a key we did not hold. */
  onKeysLearned(peer: Peer): void;
}

/** Runs `fn`; a DropError is counted against `peer` and null returned. */
function attempt<T>(ctx: NodeContext, peer: Peer, fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof DropError)) throw e;
    ctx.drop(e.reason, peer, e.message);
    return null;
  }
}

/** Handles one datagram from the IP of the vault-v2 peers `candidates` (non-empty). */
export function receiveVaultV2(host: VaultV2ReceiveHost, d: Datagram, candidates: readonly Peer[]): void {
  const kind = classify(d.data);
  if (kind.kind === 'plaintext') onPlaintext(host, d, kind.body, candidates);
  else onEncrypted(host, d, candidates);
}

function onPlaintext(host: VaultV2ReceiveHost, d: Datagram, body: VaultV2Body, candidates: readonly Peer[]): void {
  const { ctx } = host;
  let sender: Peer | undefined;
  if (body.c.length > 0) {
    const ann = parseAnnouncement(body.c); // malformed / authFailure: not attributable yet
    sender = candidates.find((p) => p.endpoint.port === ann.port);
    if (!sender) throw new DropError('unknownPeer', `vault-v2 announcement for port ${ann.port}: no vault-v2 peer at that address`);
    const peer = sender;
    if (!admit(ctx, peer, d)) return;
    const learned = attempt(ctx, peer, () => acceptAnnouncement(ctx, peer, host.state(peer), ann, ctx.clock.monotonic()));
    if (learned === null) return;
    if (learned) host.onKeysLearned(peer);
  }
  if (body.p.length === 0) return;
  if (!sender) {
    const allowed = candidates.filter((p) => p.allowPlaintext);
    if (allowed.length > 1) {
      throw new DropError('unknownPeer', 'plaintext vault-v2 payload from an address shared by several peers that allow plaintext: sender unknown');
    }
    if (allowed.length === 0) {
      const only = candidates.length === 1 ? candidates[0] : undefined;
      ctx.drop('plaintextRefused', only, 'plaintext vault-v2 payload refused: peer not added with allowPlaintext');
      return;
    }
    sender = allowed[0]!;
    if (!admit(ctx, sender, d)) return;
  } else if (!sender.allowPlaintext) {
    ctx.drop('plaintextRefused', sender, 'plaintext vault-v2 payload refused: peer not added with allowPlaintext');
    return;
  }
  deliverPayload(host, sender, d, body.p, false);
}

function onEncrypted(host: VaultV2ReceiveHost, d: Datagram, candidates: readonly Peer[]): void {
  let tried = 0;
  for (const peer of candidates) {
    if (!host.state(peer).encPk) continue;
    tried++;
    if (openFrom(host, peer, d)) return;
  }
  if (tried === 0) throw new DropError('authFailure', 'encrypted vault-v2 datagram, but no vault-v2 peer on that address has announced its key (yet)');
  throw new DropError('authFailure', 'vault-v2 datagram does not authenticate with the key of any vault-v2 peer on that address');
}

/**
 * Tries to open an encrypted datagram with `peer`'s announced key. False when it does not
 * authenticate with that key (try the next peer); true when it was this peer's (handled or
 * refused and counted on the peer).
 */
export function openFrom(host: VaultV2ReceiveHost, peer: Peer, d: Datagram): boolean {
  const { ctx } = host;
  const st = host.state(peer);
  if (!st.encPk) return false;
  let inner: Uint8Array;
  try {
    inner = openEnvelope(d.data, { senderEncPk: st.encPk, receiverEncSk: host.own.encSk, clock: ctx.clock, seen: host.seen });
  } catch (e) {
    if (!(e instanceof DropError)) throw e;
    if (e.reason === 'authFailure') return false; // not this peer's key
    ctx.drop(e.reason, peer, e.message); // stale / replay: authenticated as this peer
    return true;
  }
  if (!admit(ctx, peer, d)) return true;
  const body = attempt(ctx, peer, () => decodeBody(inner));
  if (!body) return true;
  if (body.c.length > 0 && !onEncryptedAnnouncement(host, peer, body.c)) return true;
  if (body.p.length > 0) deliverPayload(host, peer, d, body.p, true);
  return true;
}

/** An announcement inside an authenticated datagram: refreshes (or updates) the sender's keys. */
function onEncryptedAnnouncement(host: VaultV2ReceiveHost, peer: Peer, c: Uint8Array): boolean {
  const { ctx } = host;
  const ann = attempt(ctx, peer, () => parseAnnouncement(c));
  if (!ann) return false;
  if (ann.port !== peer.endpoint.port) {
    ctx.drop('malformed', peer, `vault-v2 announcement for port ${ann.port} inside a datagram from the peer at port ${peer.endpoint.port}`);
    return false;
  }
  const learned = attempt(ctx, peer, () => acceptAnnouncement(ctx, peer, host.state(peer), ann, ctx.clock.monotonic()));
  if (learned === null) return false;
  if (learned) host.onKeysLearned(peer);
  return true;
}

/** Per-peer rate limit and counters for a datagram attributed to `peer`. */
function admit(ctx: NodeContext, peer: Peer, d: Datagram): boolean {
  if (!peer.limiter.take()) {
    ctx.drop('rateLimited', peer, 'peer packet rate limit');
    return false;
  }
  countReceived(peer, d.data.length);
  return true;
}

function deliverPayload(host: VaultV2ReceiveHost, peer: Peer, d: Datagram, p: Uint8Array, encrypted: boolean): void {
  const { ctx } = host;
  const data = attempt(ctx, peer, () => decodePayload(p, ctx.settings.maxMessageBytes));
  if (!data) return;
  const ev: MessageEvent = {
    peer: peer.keyString ?? '',
    addr: formatEndpoint(d),
    data,
    reliable: false,
    encrypted,
    receivedAt: new Date(ctx.clock.now()),
  };
  if (!ctx.emitMessage(peer.name ? { ...ev, name: peer.name } : ev)) {
    ctx.drop('inboxFull', peer, 'no reader and the inbox is full');
    return;
  }
  peer.counters.messagesIn++;
  ctx.counters.messagesIn++;
}
