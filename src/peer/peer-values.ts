/** Small value helpers of Peer (peer.ts): one shared host string, compact handshake times, the replay mark's max. */
import type { Endpoint, EndpointSpec } from './endpoint';

/**
 * The endpoint with the configured host's string as its address when they are equal (a
 * configured IP address): one string per peer, not two copies (issue 12).
 */
export function sharedHost(e: Endpoint, spec: EndpointSpec): Endpoint {
  return e.address === spec.host ? { ...e, address: spec.host } : e;
}

/** The configured endpoint, or null when it is the endpoint's address and port (Peer.spec gives it back from the endpoint). */
export function specUnlessSame(spec: EndpointSpec, e: Endpoint): EndpointSpec | null {
  return spec.host === e.address && spec.port === e.port ? null : spec;
}

/** An ISO time as its ms when the ms give back exactly that string (else the string, or null). */
export function isoAsMs(iso: string | null): number | string | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms : iso;
}

/** The greater, as the value given (not a new number: the peer's timestamp and its session's can share one box). */
export function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a >= b ? a : b;
}
