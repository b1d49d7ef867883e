/**
 * Observation hooks the node may call for what a scrape cannot see afterwards (a duration).
 * They import nothing (not prom-client either), so calling one costs a loop over the running
 * exporters: nothing when the metrics endpoint is off.
 */

type Sink = (ms: number) => void;

const handshakeSinks = new Set<Sink>();

/**
 * A handshake completed after `ms` milliseconds (first datagram sent → session established).
 * Every running metrics endpoint of this process records it; ignored when none runs, or when
 * `ms` is not a finite, non-negative number.
 */
export function observeHandshake(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) return;
  for (const sink of handshakeSinks) sink(ms);
}

/** Registers a sink for observeHandshake; returns its removal. For the exporter. */
export function onHandshake(sink: Sink): () => void {
  const own: Sink = (ms) => sink(ms); // a distinct entry even if the same function registers twice
  handshakeSinks.add(own);
  return () => handshakeSinks.delete(own);
}
