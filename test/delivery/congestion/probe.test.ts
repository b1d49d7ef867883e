import { Sim, PAYLOAD_BYTES } from './bottleneck-sim';
import { BULK_ACK_POLICY } from '../../../src/delivery/reliable/ack-tracker';
const cases = [['10M', 1250, 20, {}], ['10M bulk', 1250, 20, { ackPolicy: BULK_ACK_POLICY }], ['10M adapt', 1250, 20, { adaptiveAcks: true }], ['2M', 250, 20, {}], ['2M bulk', 250, 20, { ackPolicy: BULK_ACK_POLICY }], ['2M adapt', 250, 20, { adaptiveAcks: true }], ['10M 1ms', 1250, 0.5, {}], ['10M 1ms adapt', 1250, 0.5, { adaptiveAcks: true }]] as const;
for (const [name, rate, owd, extra] of cases) {
it(name, () => {
  const sim = new Sim({ rateBytesPerMs: rate, queueBytes: rate * 30, oneWayDelayMs: owd });
  const f = sim.addFlow({ startMs: 0, ...extra });
  f.measure(0, 20_000);
  sim.run(20_000);
  const good = (f.stats.windowChunks * PAYLOAD_BYTES) / (rate * 20_000);
  console.log(name, JSON.stringify({ good, retr: f.stats.retransmittedPackets / f.stats.sentPackets, sent: f.stats.sentPackets, acks: f.stats.acksSent, srtt: f.rtt.smoothedMs, min: f.rtt.minMs, cwnd: f.cc.windowBytes, qd: sim.queueDrops }));
  const sim2 = new Sim({ rateBytesPerMs: rate, queueBytes: rate * 30, oneWayDelayMs: owd });
  const a = sim2.addFlow({ startMs: 0, ...extra });
  const b = sim2.addFlow({ startMs: 1000, ...extra });
  a.measure(5000, 30_000); b.measure(5000, 30_000);
  sim2.run(30_000);
  console.log(name, JSON.stringify({ ratio: a.stats.windowChunks / b.stats.windowChunks, util: (a.stats.windowChunks + b.stats.windowChunks) * 1150 / (rate * 25000) }));
});
}
