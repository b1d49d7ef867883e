/**
 * PacketSpace's options and the fixed part of them one space keeps: one frozen SpaceConfig per
 * distinct set, shared by the spaces of every peer (issue 12: 5 fields per peer → 1).
 */
import type { CongestionController, ControllerResume } from '../congestion/controller';
import type { CreditLimits, WindowSource } from '../flow';
import { DEFAULT_ACK_POLICY, type AckPolicy } from './ack-tracker';
import type { RttStats } from './rtt';

export interface PacketSpaceOptions {
  maxDatagramBytes: number;
  /** What this node can buffer from the peer (inbox + reassembly budget): fixed, or read when an ack is built. */
  receiveWindow: WindowSource;
  /** What the peer may send before our first ack (INITIAL_CREDIT between nodes); default: the window. */
  initialReceiveCredit?: CreditLimits;
  /** The peer's credit before its first ack (its receive window, from the handshake or a default). */
  initialSendCredit: CreditLimits;
  /**
   * A fixed ack policy. Without it the policy adapts (ack thinning for bulk flows): every 2nd
   * ack-eliciting packet (RFC 9000), up to every 32nd once about 256 arrive per round trip.
   */
  ackPolicy?: AckPolicy;
  maxPtoMs?: number;
  /**
   * A different controller (CUBIC, tests); default NewReno. `resume`: the state an idle period
   * kept (PacketSpace.rest); a factory that ignores it must not be used with rest().
   */
  controller?: (rtt: RttStats, resume?: ControllerResume) => CongestionController;
}

type ControllerFactory = (rtt: RttStats, resume?: ControllerResume) => CongestionController;

/** A space's fixed options; one frozen object per distinct set, shared by the spaces of every peer (issue 12: 5 fields per peer → 1). */
export interface SpaceConfig {
  readonly controller: ControllerFactory | undefined;
  readonly maxDatagramBytes: number;
  readonly maxPtoMs: number | undefined;
  readonly ackPolicy: AckPolicy;
  /** No fixed policy given: ack thinning adapts it. */
  readonly adaptiveAcks: boolean;
}
const configs: SpaceConfig[] = [];
/** Distinct configurations kept (a node has one or two: per-link factories are shared, congestion/select.ts). */
const CONFIGS = 32;
export function spaceConfig(opts: PacketSpaceOptions): SpaceConfig {
  const ackPolicy = opts.ackPolicy ?? DEFAULT_ACK_POLICY;
  const adaptiveAcks = opts.ackPolicy === undefined;
  for (let k = 0; k < configs.length; k++) {
    const c = configs[k]!;
    if (c.controller === opts.controller && c.maxDatagramBytes === opts.maxDatagramBytes && c.maxPtoMs === opts.maxPtoMs && c.ackPolicy === ackPolicy && c.adaptiveAcks === adaptiveAcks) return c;
  }
  const c: SpaceConfig = Object.freeze({ controller: opts.controller, maxDatagramBytes: opts.maxDatagramBytes, maxPtoMs: opts.maxPtoMs, ackPolicy, adaptiveAcks });
  if (configs.length === CONFIGS) configs.shift(); // the oldest goes (tests make many)
  configs.push(c);
  return c;
}
