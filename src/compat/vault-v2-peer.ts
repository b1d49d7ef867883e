/**
 * vault-v2 peer behaviour (SPEC §6) on top of the codec: announcements, key learning,
 * sender identification by source IP, encrypted/plaintext payloads. (Stub: being built.)
 */
import type { Datagram } from '../net/transport';
import type { Peer } from '../peer/peer';
import type { NodeContext } from '../node/context';
import { UdpVaultError } from '../errors';

export class VaultV2Mode {
  #ctx: NodeContext;
  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }
  /** Handles a datagram that is not native v3; returns false when it is not vault-v2 either. */
  onDatagram(_d: Datagram): boolean {
    return false;
  }
  /** Sends one message to a vault-v2 peer. */
  send(peer: Peer, _data: Uint8Array): Promise<void> {
    return Promise.reject(new UdpVaultError('ERR_BAD_ARGUMENT', `vault-v2 peer ${peer.label()}: not implemented`));
  }
  /** Called when a vault-v2 peer is added or updated: announce at once. */
  onPeerAdded(_peer: Peer): void {}
  /** Called from the node's periodic tick (every 100 ms): re-announce, forget stale keys. */
  tick(): void {
    void this.#ctx;
  }
}
