/**
 * Ack thinning (the ack-frequency draft's reasoning, decided by the receiver): the ack-eliciting
 * packets that arrive in one smoothed RTT estimate the peer's window in packets; about eight
 * acks per window (ACKS_PER_ROUND) keep its ack clock and packet-threshold loss detection working;
 * while thinned, the ack delay is a quarter of the smoothed RTT (1…25 ms), so the tail of a
 * burst is not held 25 ms. Only once this side has an RTT sample and at ≥
 * THIN_MIN_PACKETS_PER_MS. Gaps and reordering are still acknowledged at once; a window that
 * shrank is seen one round later. Before a sample, rounds of RTT_PROBE_ROUND_MS judge the rate
 * only: a fast flow without a sample fresher than 8 srtt (25 ms … 1 s) asks for one
 * (PacketSpace.takeRttProbe; a pure receiver of datagram-mode traffic sends nothing else
 * ack-eliciting). PacketSpace counts the rounds; this file says what a round ends with.
 */
import { DEFAULT_ACK_POLICY, adaptiveAckEvery, type AckPolicy } from './ack-tracker';
import { MAX_ACK_DELAY_MS } from './rtt';

/**
 * Acks per round trip the receiver aims at when it thins acks. Eight, not the draft's four: the
 * estimate lags a round and two flows sharing a bottleneck stayed fair with eight (1.04 in
 * test/sim/congestion.test.ts) but not with four (1.54).
 */
export const ACKS_PER_ROUND = 8;
/**
 * Thinning only from this arrival rate on (5,000 ack-eliciting packets/s, ~56 Mbit/s of full
 * datagrams): acks cost CPU per packet only at such rates, while on slower paths the ack clock
 * of every 2nd packet keeps the queue and the sharing of a bottleneck as RFC 9002 expects (with
 * thinning at 10 Mbit/s the sim's bulk overflowed the queue more, 3.4% against < 3%, and two
 * flows split the link 1.74 : 1).
 */
export const THIN_MIN_PACKETS_PER_MS = 5;
/**
 * The sparsest thinning: every 32nd ack-eliciting packet (ack16; 10 before). On loopback ~150
 * datagrams arrive per smoothed RTT, so eight acks per round are every ~18th; the cap of 10
 * made it 15 per round (0.10–0.11 ack datagrams per data datagram, each a sendmsg on the
 * receiver and a receive on the sender). It bounds the damage of a receiver whose smoothed RTT
 * is too high (its rounds count too many packets): at most 32 packets between acks.
 */
export const THIN_MAX_ACK_EVERY = 32;
/** Before the first RTT sample, the arrival rate is judged over rounds of this length (RTT probes, rtt-probe.ts). */
export const RTT_PROBE_ROUND_MS = MAX_ACK_DELAY_MS;

/** Whether a round of `packets` ack-eliciting arrivals over `elapsedMs` is a fast flow's. */
export function fastRound(packets: number, elapsedMs: number): boolean {
  return packets / elapsedMs >= THIN_MIN_PACKETS_PER_MS;
}

/**
 * The ack policy a round measured with an RTT sample leaves (from `p`, the current one), or null
 * when it stays as it is.
 */
export function thinnedPolicy(fast: boolean, roundPackets: number, smoothedMs: number, p: AckPolicy): AckPolicy | null {
  const every = fast ? adaptiveAckEvery(roundPackets, ACKS_PER_ROUND, THIN_MAX_ACK_EVERY) : DEFAULT_ACK_POLICY.ackEveryPackets;
  // Thinned, the last packets of a burst wait for the delay: a quarter RTT (≥ 1 ms), not 25 ms.
  const delay = every > DEFAULT_ACK_POLICY.ackEveryPackets ? Math.min(MAX_ACK_DELAY_MS, Math.max(1, Math.ceil(smoothedMs / 4))) : DEFAULT_ACK_POLICY.maxAckDelayMs;
  if (every !== p.ackEveryPackets || delay !== p.maxAckDelayMs) return { ...p, ackEveryPackets: every, maxAckDelayMs: delay };
  return null;
}
