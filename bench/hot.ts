/**
 * `node dist/bench/hot.js [workload ids…]` — the focused hot-path measurement (issue 12): runs
 * only the named workloads of bench/rounds.ts (default raw-1024 uv-dgram-1024 raw-64 uv-dgram-64;
 * also raw-N, floor-dgram-N (bench/roles/floor.ts) and ladder-R-N (bench/roles/ladder.ts, rung R)),
 * `BENCH_ROUNDS` times (default 1), each on a fresh pair of processes, and prints the CPU µs per
 * delivered message of each side. On a shared machine compare those µs, not the rates.
 * BENCH_VERBOSE: also both udpvault nodes' counters over a second run of each udpvault workload.
 * BENCH_NODE_ARGS passes flags to the bench processes (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { BenchProcess, sleep } from './proc';
import { measure, WORKLOADS, type Workload } from './rounds';
import type { Connected } from './protocol';

/** BENCH_VERBOSE: one udpvault workload again, printing both nodes' counters (sent, received, drops by reason). */
async function counters(w: Workload, ms: number): Promise<void> {
  const [[recv, rh], [send, sh]] = await Promise.all([BenchProcess.start(w.role), BenchProcess.start(w.role)]);
  try {
    await Promise.all([recv.ask<Connected>({ cmd: 'connect', port: sh.port, key: sh.key, initiator: false }), send.ask<Connected>({ cmd: 'connect', port: rh.port, key: rh.key, initiator: true })]);
    await Promise.all([recv.ask({ cmd: 'count' }), send.ask({ cmd: 'count' })]);
    await send.ask({ cmd: 'blast', mode: w.mode, size: w.size, batch: 64, port: rh.port, inflight: w.inflight });
    await sleep(ms);
    await send.ask({ cmd: 'stop' });
    await sleep(200);
    const [r, s] = await Promise.all([recv.ask({ cmd: 'report' }), send.ask({ cmd: 'report' })]);
    console.log(`  sender counters   ${JSON.stringify(s['counters'])}`);
    // The datagram blaster parks at an ERR_QUEUE_FULL until the node's 'writable' event (BENCH_WRITABLE=0:
    // it offers 64 messages every turn whatever the window, and the sender's CPU per delivered message
    // includes every refused one). Its base-build counterpart has no event: 'writable' wake-ups -.
    console.log(`  sender refused    ${JSON.stringify(s['refused'])}  'writable' wake-ups ${String(s['wakes'] ?? '-')}, parked ${String(s['parkedMs'] ?? '-')} ms, event loop utilisation ${String(s['elu'] ?? '-')} (receiver ${String(r['elu'] ?? '-')})`);
    console.log(`  sender path       ${JSON.stringify(s['path'])}`);
    console.log(`  receiver counters ${JSON.stringify(r['counters'])}`);
    // The receiver's srtt: in datagram mode its only samples are its RTT probes (rtt21: it lags the sender's after a backlog).
    console.log(`  receiver path     ${JSON.stringify(r['path'])}`);
  } finally {
    await Promise.all([recv.exit(), send.exit()]);
  }
}

async function main(): Promise<void> {
  const ids = process.argv.slice(2);
  const want = ids.length > 0 ? ids : ['raw-1024', 'uv-dgram-1024', 'raw-64', 'uv-dgram-64'];
  const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 1));
  const t = { durationMs: Number(process.env['BENCH_MS'] ?? 3000), warmupMs: Number(process.env['BENCH_WARMUP_MS'] ?? 500) };
  for (let r = 0; r < rounds; r++) {
    for (const id of want) {
      // raw-N for any N: raw dgram of N bytes (e.g. raw-1472, the size of udpvault's padded 1 KiB datagram).
      // floor-dgram-N: raw dgram plus only the unavoidable (bench/roles/floor.ts): the ceiling of any design here.
      // ladder-R-N: rung R of bench/roles/ladder.ts (the floor with udpvault's parts added one by one).
      const rung = /^ladder-(\d+)-(\d+)$/.exec(id);
      const rawSize = /^(raw|floor-dgram)-(\d+)$/.exec(id) ?? (rung ? [id, 'ladder', rung[2]] : null);
      const role = rawSize?.[1] === 'raw' ? ('raw' as const) : rawSize?.[1] === 'ladder' ? ('ladder' as const) : ('floor' as const);
      const w = WORKLOADS.find((x) => x.id === id) ?? (rawSize ? { id, group: 'g1k' as const, role, mode: 'datagram' as const, size: Number(rawSize[2]), inflight: 0, ...(rung ? { rung: Number(rung[1]) } : {}) } : undefined);
      if (!w) throw new Error(`no workload ${id} (${WORKLOADS.map((x) => x.id).join(', ')})`);
      const m = await measure(w, t);
      const cpu = m.cpuPerMessageUs;
      console.log(
        `${id.padEnd(16)} ${Math.round(m.messagesPerSec).toLocaleString('en-US').padStart(9)} msg/s` +
          (cpu ? `  CPU µs/msg send ${cpu.send.toFixed(2)} recv ${cpu.recv.toFixed(2)}` : '') +
          `  cores send ${m.cpuShare.send.toFixed(2)} recv ${m.cpuShare.recv.toFixed(2)}` +
          (process.env['BENCH_VERBOSE'] && m.sleepsPerKMsg ? `  sleeps/1k msg send ${m.sleepsPerKMsg.send.toFixed(1)} recv ${m.sleepsPerKMsg.recv.toFixed(1)}` : ''),
      );
      if (process.env['BENCH_VERBOSE'] && w.role === 'udpvault') await counters(w, t.durationMs);
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
