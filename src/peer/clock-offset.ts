/**
 * Clock independence: peers' wall clocks need not agree. Each handshake carries both sides'
 * wall clock (the signed timestamps); from them each side measures the offset of the peer's
 * clock for the session, and judges the timestamps of that session's data frames against it.
 *
 *   offset = peer clock − our wall clock       (per session, measured at the handshake)
 *   a frame is fresh when |frame.t − (now + offset)| ≤ freshnessWindowMs
 *
 * A frame that authenticates but is stale means a clock stepped (or the frame was held back):
 * the link starts a new handshake, which measures the offset again; a measured offset that
 * moved by more than CLOCK_SKEW_REPORT_MS from the last reported one (initially 0) is
 * reported (peer event 'clock-skew', counter clockSkew).
 */

/** A measured offset this far from the last reported one (initially 0) is reported. */
export const CLOCK_SKEW_REPORT_MS = 10_000;

/** Responder: the initiator's init timestamp against our wall clock when it arrived (one-way delay ignored). */
export function responderOffset(initTsMs: number, wallNowMs: number): number {
  return initTsMs - wallNowMs;
}

/**
 * Initiator: the responder's timestamp against the midpoint of our round trip, on our wall
 * clock: the init left at `initWallMs` (its timestamp minus our bias), the response arrived now.
 */
export function initiatorOffset(responseTsMs: number, initWallMs: number, wallNowMs: number): number {
  return Math.round(responseTsMs - (initWallMs + wallNowMs) / 2);
}

/** Whether a frame timestamp is within the window of where the peer's clock should be now. */
export function frameIsFresh(frameTsMs: number, wallNowMs: number, offsetMs: number, windowMs: number): boolean {
  return Math.abs(frameTsMs - (wallNowMs + offsetMs)) <= windowMs;
}

/**
 * Our handshake timestamps (init and response) strictly increase (the peer's replay check
 * compares them with our earlier ones): `max(now, previous + 1)`. When our clock stepped back,
 * the timestamp runs ahead of it by `biasMs`, which the session adds to its frame timestamps so
 * that the offset the peer measured stays true.
 */
export function nextHandshakeTimestamp(state: { last: number }, wallNowMs: number): { tsMs: number; biasMs: number } {
  state.last = Math.max(wallNowMs, state.last + 1);
  return { tsMs: state.last, biasMs: state.last - wallNowMs };
}
