/** The controller named by the `congestionControl` setting, as a PacketSpace factory. */
import type { RttStats } from '../reliable/rtt';
import type { CongestionController, ControllerResume } from './controller';
import { Cubic } from './cubic';
import { NewReno } from './newreno';

export type CongestionControlName = 'cubic' | 'newreno';

export type ControllerFactory = (rtt: RttStats, resume?: ControllerResume) => CongestionController;

/** One factory per (name, size), shared by every peer (issue 12: not a closure per peer). */
const factories = new Map<string, ControllerFactory>();

/** The last one asked for (pack19: a folded packet space made again asks at each wake; no key string then). */
let last: { name: CongestionControlName; mss: number; f: ControllerFactory } | null = null;

export function controllerFactory(name: CongestionControlName, maxDatagramBytes: number): ControllerFactory {
  if (last !== null && last.name === name && last.mss === maxDatagramBytes) return last.f;
  const key = `${name}:${maxDatagramBytes}`;
  let f = factories.get(key);
  if (f === undefined) {
    // No spread per call (idle15: every wake of a resting packet space makes a controller).
    f = name === 'newreno' ? (rtt, resume) => new NewReno({ rtt, maxDatagramBytes, resume }) : (rtt, resume) => new Cubic({ rtt, maxDatagramBytes, resume });
    factories.set(key, f);
  }
  last = { name, mss: maxDatagramBytes, f };
  return f;
}
