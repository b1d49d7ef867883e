/**
 * vault-v2 (SPEC §6) for the whole node: this node's vault-v2 keys, the replay cache, the
 * per-source-IP limit, the links of vault-v2 peers, and the entry point for datagrams from the
 * IP of a vault-v2 peer (receive.ts). See docs/VAULT-V2.md.
 */
import type { Datagram } from '../../net/transport';
import type { Peer } from '../../peer/peer';
import { KeyedRateLimiter } from '../../net/ratelimit';
import { DropError } from '../../errors';
import { TYPE_DATA } from '../../constants';
import { isHandshakeOrCookieType } from '../../wire/handshake-v4';
import { VAULT_V2_MTU_OVERHEAD } from '../../compat/vault-v2-body';
import { VAULT_V2_BOX_NONCE_BYTES, VAULT_V2_ENVELOPE_OVERHEAD } from '../../compat/vault-v2-envelope';
import { VaultV2NonceCache } from '../../compat/vault-v2-nonce-cache';
import { deriveOwnKeys, type VaultV2OwnKeys } from '../../compat/vault-v2-keys';
import type { NodeContext } from '../context';
import { receiveVaultV2, type VaultV2ReceiveHost } from './receive';
import type { VaultV2PeerState } from './peer-keys';
import { VaultV2Link } from './link';

/**
 * Datagrams per second per source IP accepted for vault-v2 processing, checked before any
 * public-key operation (signature check, key trials). Ten times the reference's default limit.
 */
export const VAULT_V2_PACKETS_PER_SECOND_PER_IP = 1000;
const IP_LIMITER_KEYS = 4096;
/** Largest growth of a padded body over the effective MTU (bin32 header instead of bin8). */
const PADDING_HEADER_GROWTH = 3;
/** A type byte of the native protocol (data, v4 handshake, cookie reply). */
export const isNativeType = (b: number | undefined): boolean => b === TYPE_DATA || isHandshakeOrCookieType(b);

export class VaultV2Engine implements VaultV2ReceiveHost {
  readonly ctx: NodeContext;
  readonly own: VaultV2OwnKeys;
  readonly seen = new VaultV2NonceCache();
  readonly #ipLimiter: KeyedRateLimiter;
  readonly #links = new Map<Peer, VaultV2Link>();

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
    this.#ipLimiter = new KeyedRateLimiter({
      ratePerSecond: VAULT_V2_PACKETS_PER_SECOND_PER_IP,
      burst: 2 * VAULT_V2_PACKETS_PER_SECOND_PER_IP,
      maxKeys: IP_LIMITER_KEYS,
      clock: ctx.clock,
    });
    this.own = deriveOwnKeys(ctx.identity, ctx.transport.port);
  }

  open(peer: Peer): VaultV2Link {
    const link = new VaultV2Link(this, peer);
    this.#links.set(peer, link);
    return link;
  }

  /** Called by a closing link. */
  forget(link: VaultV2Link): void {
    if (this.#links.get(link.peer) === link) this.#links.delete(link.peer);
  }

  state(peer: Peer): VaultV2PeerState {
    const link = this.#links.get(peer);
    if (!link) throw new DropError('unknownPeer', 'not a vault-v2 peer');
    return link.state;
  }

  onKeysLearned(peer: Peer): void {
    this.#links.get(peer)?.onKeysLearned();
  }

  /**
   * Handles a datagram that is not native v3 (or, as a fallback, one whose first byte is a v3
   * type but that the native path refused: an envelope's random nonce starts with 0x41-0x47 in
   * 7 of 256 datagrams). Returns false when it is not from the IP of a vault-v2 peer; in the
   * fallback, also when no vault-v2 peer's key authenticates it (the native reason then counts).
   */
  onDatagram(d: Datagram): boolean {
    const candidates = this.ctx.peers.vaultV2AtAddress(d.address).filter((p) => this.#links.has(p));
    if (candidates.length === 0) return false;
    const fallback = isNativeType(d.data[0]);
    try {
      if (!this.#ipLimiter.allow(d.address)) throw new DropError('rateLimited', 'vault-v2 packet rate limit for the source address');
      receiveVaultV2(this, d, candidates);
    } catch (e) {
      if (fallback) return false;
      if (e instanceof DropError) this.ctx.drop(e.reason, undefined, e.message);
      else this.ctx.drop('malformed', undefined, e instanceof Error ? e.message : 'vault-v2 datagram refused');
    }
    return true;
  }

  /**
   * Randomness for sealing: the 24-byte box nonce (the datagram's first bytes) never starts with
   * a v3 type byte, so our envelopes always take the vault-v2 path at a udpvault receiver.
   */
  readonly sealRandom = (n: number): Uint8Array => {
    const r = this.ctx.random.bytes(n);
    if (n === VAULT_V2_BOX_NONCE_BYTES) while (isNativeType(r[0])) r[0] = this.ctx.random.bytes(1)[0]!;
    return r;
  };

  readonly randomBytes = (n: number): Uint8Array => this.ctx.random.bytes(n);

  /** The MTU used for the vault-v2 padding rule: the node's MTU, lowered where needed so a sealed datagram never exceeds the largest datagram of the family. */
  bodyMtu(peer: Peer): number {
    const maxBody = this.ctx.maxDatagram[peer.endpoint.family] - VAULT_V2_ENVELOPE_OVERHEAD;
    return Math.min(this.ctx.mtu, maxBody + VAULT_V2_MTU_OVERHEAD - PADDING_HEADER_GROWTH);
  }

  close(err: Error): void {
    for (const link of [...this.#links.values()]) link.close(err);
    this.own.encSk.fill(0); // the static X25519 secret derived from the identity seed
  }
}
