/** NoiseError → drop reason, for the v4 handshake paths (handshake-v4.ts, handshake-v4-responder.ts). */
import { DropError, type DropReason } from '../../errors';
import { NoiseError } from '../../crypto/noise/handshake-state';

export const NOISE_DROP: Record<NoiseError['reason'], DropReason> = { malformed: 'malformed', authFailure: 'authFailure', state: 'malformed', refused: 'unknownPeer' };

/** Runs `fn`; a NoiseError becomes the matching DropError. */
export function noise<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NoiseError) throw new DropError(NOISE_DROP[e.reason], e.message);
    throw e;
  }
}
