/** Test-only views into a node's internals (secrets that must be wiped). */
import type { UdpVaultNode } from '../../src/node/types';
import type { NodeContext } from '../../src/node/context';

function contextOf(node: UdpVaultNode): NodeContext {
  return (node as unknown as { context: NodeContext }).context;
}

/** The ephemeral X25519 secret keys of the peer's pending handshake attempts (the live buffers). */
export function pendingEphemeralSecrets(node: UdpVaultNode, name: string): Uint8Array[] {
  const peer = contextOf(node).peers.find(name);
  if (!peer) throw new Error(`no peer ${name}`);
  return [peer.pending, ...peer.olderPendings].filter((p) => p !== null).map((p) => p.ephemeral.privateKey);
}
