/** Test-only views into a node's internals (secrets that must be wiped). */
import type { UdpVaultNode } from '../../src/node/types';
import type { PeerLink } from '../../src/engine/link';
import { NativeLink } from '../../src/engine/native/link';

export function nativeLinkOf(node: UdpVaultNode, ref: string): NativeLink {
  const link = (node as unknown as { linkOf(ref: string): PeerLink | undefined }).linkOf(ref);
  if (!(link instanceof NativeLink)) throw new Error(`no native link for ${ref}`);
  return link;
}

/** The live secret buffers (ephemeral secret, chaining key, cipher key) of the peer's pending handshake attempts. */
export function pendingEphemeralSecrets(node: UdpVaultNode, ref: string): Uint8Array[] {
  return nativeLinkOf(node, ref).handshaker.outstanding().flatMap((p) => p.state.secretViews());
}

/** The maxMessageBytes the peer announced to `node` (null before its `limits` item arrived). */
export function announcedLimit(node: UdpVaultNode, ref: string): number | null {
  const link = nativeLinkOf(node, ref);
  return link.engine.reliable.peerMaxMessageBytes(link);
}
