/** The controller named by the `congestionControl` setting, as a PacketSpace factory. */
import type { RttStats } from '../reliable/rtt';
import type { CongestionController } from './controller';
import { Cubic } from './cubic';
import { NewReno } from './newreno';

export type CongestionControlName = 'cubic' | 'newreno';

export function controllerFactory(name: CongestionControlName, maxDatagramBytes: number): (rtt: RttStats) => CongestionController {
  return name === 'newreno' ? (rtt) => new NewReno({ rtt, maxDatagramBytes }) : (rtt) => new Cubic({ rtt, maxDatagramBytes });
}
