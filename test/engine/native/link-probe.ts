/** Test helpers for the native engine's links: a node's link, and the frames sealed from now on. */
import { Session } from '../../../src/crypto/session';
import { DATA_HEADER_BYTES } from '../../../src/constants';
import type { UdpVaultNode } from '../../../src/index';
import type { NativeLink } from '../../../src/engine/native/link';

/** The link of peer `ref` on node `n` (its private accessor). */
export function linkOf(n: UdpVaultNode, ref: string): NativeLink {
  return (n as unknown as { linkOf(r: string): NativeLink }).linkOf(ref);
}

export interface Sealed {
  header: number[];
  plain: number[];
  session?: Session;
}

/** Every frame sealed in this process from now on: its data header and plaintext (copied before the seal). */
export function captureSeals(): Sealed[] {
  const out: Sealed[] = [];
  const orig = Session.prototype.sealInto;
  jest.spyOn(Session.prototype, 'sealInto').mockImplementation(function (this: Session, buf: Uint8Array, frameBytes: number, nowMs: number) {
    const plain = Array.from(buf.subarray(DATA_HEADER_BYTES, DATA_HEADER_BYTES + frameBytes));
    const n = orig.call(this, buf, frameBytes, nowMs);
    out.push({ header: Array.from(buf.subarray(0, DATA_HEADER_BYTES)), plain, session: this });
    return n;
  });
  return out;
}
