/**
 * The handshake entry points the rest of the native engine uses (timers, flush, link start):
 * the v4 driver (handshake-v4.ts) does the work.
 */
import type { NativeLink } from './link';

/** Starts (or restarts) a handshake: a new attempt, the retry timer armed. */
export function initiateHandshake(link: NativeLink): void {
  link.engine.v4.initiate(link);
}

/** Tries once more at once (crossing handshakes) with a fresh init. */
export function resendPendingInit(link: NativeLink): void {
  link.engine.v4.resendPending(link);
}
