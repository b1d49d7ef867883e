/**
 * Restart after idle (RFC 5681 §4.1, RFC 7661's motivation; Linux tcp_cwnd_restart is the
 * model): a window learned before an idle spell says nothing about the path now — other flows
 * may have taken it, or (as the bench's 1 Gbit/s calibration before a 2 Mbit/s transfer shows)
 * the path itself changed. When an ack-eliciting packet leaves with nothing else in flight after
 * more than one probe timeout of silence, the window halves once per probe timeout of the idle
 * spell, down to the initial window, and the slow-start threshold keeps ¾ of the old window, so
 * slow start climbs back quickly to where it was. Shared by the controllers.
 */

export interface RestartedWindow {
  windowBytes: number;
  ssthreshBytes: number;
}

/** The window after `idleMs` without sending, or null when nothing changes. */
export function restartAfterIdle(windowBytes: number, ssthreshBytes: number, idleMs: number, ptoMs: number, initialWindowBytes: number): RestartedWindow | null {
  if (!(idleMs > ptoMs) || windowBytes <= initialWindowBytes) return null;
  const ssthresh = ssthreshBytes === Infinity ? Infinity : Math.max(ssthreshBytes, Math.floor(0.75 * windowBytes));
  let w = windowBytes;
  for (let d = idleMs - ptoMs; d > 0 && w > initialWindowBytes; d -= ptoMs) w /= 2;
  return { windowBytes: Math.max(Math.floor(w), initialWindowBytes), ssthreshBytes: ssthresh };
}
