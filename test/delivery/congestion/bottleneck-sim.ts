/**
 * A deterministic discrete-event model of senders and receivers sharing one bottleneck, driving
 * the pure modules (LossDetector + NewReno + Pacer on the send side, AckTracker + credit on the
 * receive side; acks cross the binary ack codec) on a ManualClock. No sockets, no sleeps.
 *
 * Link: drop-tail queue of `queueBytes` in front of a `rateBytesPerMs` serializer, then
 * `oneWayDelayMs` of propagation; the reverse path (acks) has the same delay and no queue.
 * Impairments: drop everything entering the link inside given [from, to) windows.
 */
import { NewReno } from '../../../src/delivery/congestion/newreno';
import { Pacer } from '../../../src/delivery/congestion/pacer';
import { ReceiveCredit, SendCredit } from '../../../src/delivery/flow';
import { AckTracker, ackPolicyForWindow, type AckPolicy } from '../../../src/delivery/reliable/ack-tracker';
import { LossDetector } from '../../../src/delivery/reliable/loss';
import { RttStats } from '../../../src/delivery/reliable/rtt';
import { ManualClock } from '../../../src/runtime/clock';
import { decodeAck, encodeAck } from '../../../src/wire/ack';
import { EventQueue } from './event-queue';

export const WIRE_BYTES = 1200;
export const PAYLOAD_BYTES = 1150;

export interface LinkSpec {
  rateBytesPerMs: number;
  queueBytes: number;
  oneWayDelayMs: number;
  dropWindows?: readonly [number, number][];
}

export interface FlowSpec {
  startMs: number;
  /** No new data after this time (retransmissions go on); default never. */
  stopNewDataMs?: number;
  /** Receiver's credit window (bytes of payload); default 64 MiB. */
  windowBytes?: number;
  /** The receiving application reads nothing inside these windows. */
  readerStalls?: readonly [number, number][];
  /** Receiver's ack policy (default: every 2nd packet or 25 ms). */
  ackPolicy?: AckPolicy;
  /** The receiver follows ackPolicyForWindow(sender's window), as an ACK_FREQUENCY frame would ask. */
  adaptiveAcks?: boolean;
}

export class Sim {
  readonly clock = new ManualClock(0, 0);
  readonly #q = new EventQueue();
  readonly #link: LinkSpec;
  #busyUntil = 0;
  readonly flows: Flow[] = [];
  linkDrops = 0;
  queueDrops = 0;

  constructor(link: LinkSpec) {
    this.#link = link;
  }

  /** Exact event time (the ManualClock follows it; float sums could drift from it). */
  #now = 0;
  get now(): number { return this.#now; }

  at(t: number, fn: () => void): void {
    this.#q.push(Math.max(t, this.now), fn);
  }

  addFlow(spec: FlowSpec): Flow {
    const f = new Flow(this, spec);
    this.flows.push(f);
    this.at(spec.startMs, () => f.trySend());
    return f;
  }

  /** A datagram enters the bottleneck now; `deliver` runs when it reaches the far end. */
  forward(bytes: number, deliver: () => void): void {
    const now = this.now;
    if (this.#link.dropWindows?.some(([a, b]) => now >= a && now < b)) {
      this.linkDrops++;
      return;
    }
    const backlog = Math.max(0, this.#busyUntil - now) * this.#link.rateBytesPerMs;
    if (backlog + bytes > this.#link.queueBytes) {
      this.queueDrops++;
      return;
    }
    this.#busyUntil = Math.max(now, this.#busyUntil) + bytes / this.#link.rateBytesPerMs;
    this.at(this.#busyUntil + this.#link.oneWayDelayMs, deliver);
  }

  /** The reverse path: no queue, just the delay. */
  backward(deliver: () => void): void {
    this.at(this.now + this.#link.oneWayDelayMs, deliver);
  }

  /** Events processed (a runaway model fails instead of hanging). */
  events = 0;

  run(untilMs: number, maxEvents = 5_000_000): void {
    for (;;) {
      if (++this.events > maxEvents) throw new Error(`simulation exceeded ${maxEvents} events at t=${this.now}`);
      const e = this.#q.pop();
      if (e === undefined) break;
      if (e.at > untilMs) {
        this.#q.push(e.at, e.fn);
        break;
      }
      this.#setNow(e.at);
      e.fn();
    }
    this.#setNow(untilMs);
  }

  #setNow(t: number): void {
    if (t <= this.#now) return;
    this.clock.advance(t - this.clock.monotonic());
    this.#now = t;
  }
}

export class Flow {
  readonly #sim: Sim;
  readonly #spec: FlowSpec;
  readonly rtt = new RttStats();
  readonly cc = new NewReno({ rtt: this.rtt, maxDatagramBytes: WIRE_BYTES });
  readonly ld = new LossDetector<number>({ rtt: this.rtt, cc: this.cc });
  readonly pacer = new Pacer({ rate: () => this.cc.pacingRateBytesPerMs(), maxDatagramBytes: WIRE_BYTES });
  readonly sendCredit: SendCredit;
  // receiver side
  readonly tracker: AckTracker;
  readonly recvCredit: ReceiveCredit;
  readonly #delivered = new Set<number>();
  #unread = 0;

  readonly #retransmit: number[] = [];
  readonly #everSent = new Set<number>();
  #nextChunk = 0;
  #probes = 0;
  #wakeAt = Infinity;
  #lossTimerGen = 0;
  #ackTimerGen = 0;
  readonly #cwndTrace: [number, number][] = [];
  #windowFrom: number;
  #windowTo: number;
  stats = { sentPackets: 0, retransmittedPackets: 0, duplicateChunks: 0, windowChunks: 0, acksSent: 0 };

  constructor(sim: Sim, spec: FlowSpec) {
    this.#sim = sim;
    this.#spec = spec;
    this.tracker = new AckTracker(spec.ackPolicy);
    const windowBytes = spec.windowBytes ?? 64 * 1024 * 1024;
    this.recvCredit = new ReceiveCredit({ windowBytes, windowMessages: 1_000_000 });
    this.sendCredit = new SendCredit(this.recvCredit.takeLimits());
    [this.#windowFrom, this.#windowTo] = [0, Infinity];
    for (const [, b] of spec.readerStalls ?? []) sim.at(b, () => this.#readAll());
  }

  /** Counts deliveries inside [fromMs, toMs) from now on (stats.windowChunks restarts at 0). */
  measure(fromMs: number, toMs: number): void {
    [this.#windowFrom, this.#windowTo] = [fromMs, toMs];
    this.stats.windowChunks = 0;
  }

  get nextChunk(): number { return this.#nextChunk; }
  get deliveredChunks(): number { return this.#delivered.size; }
  allDelivered(): boolean {
    return this.#delivered.size === this.#nextChunk;
  }
  cwndAt(t: number): number {
    for (let k = this.#cwndTrace.length - 1; k >= 0; k--) if (this.#cwndTrace[k]![0] <= t) return this.#cwndTrace[k]![1];
    return this.#cwndTrace.length > 0 ? this.#cwndTrace[0]![1] : this.cc.windowBytes;
  }
  minCwndBetween(a: number, b: number): number {
    let m = Infinity;
    for (const [t, w] of this.#cwndTrace) if (t >= a && t <= b && w < m) m = w;
    return m;
  }

  // ---- sender ----
  trySend(): void {
    const now = this.#sim.now;
    for (;;) {
      const probe = this.#probes > 0;
      if (!probe && !this.cc.canSend(this.ld.bytesInFlight)) break;
      let chunk = this.#retransmit.length > 0 ? this.#retransmit[0]! : -1;
      if (chunk < 0) {
        const stop = this.#spec.stopNewDataMs ?? Infinity;
        if (now >= stop) {
          if (!probe) break;
          const old = this.ld.oldestUnacked();
          if (old === undefined) break;
          chunk = old.frames[0]!;
        } else {
          if (!this.sendCredit.canSend(PAYLOAD_BYTES, 1)) break; // paused for credit: not a loss
          chunk = this.#nextChunk;
        }
      }
      if (!probe) {
        const wait = this.pacer.timeUntilSend(now, WIRE_BYTES);
        if (wait > 0) {
          if (now + wait < this.#wakeAt) {
            this.#wakeAt = now + wait;
            this.#sim.at(now + wait, () => {
              this.#wakeAt = Infinity;
              this.trySend();
            });
          }
          break;
        }
      } else this.#probes--;
      if (this.#retransmit.length > 0 && this.#retransmit[0] === chunk) this.#retransmit.shift();
      if (chunk === this.#nextChunk) {
        this.#nextChunk++;
        this.sendCredit.onSent(PAYLOAD_BYTES, 1);
      }
      if (this.#everSent.has(chunk)) this.stats.retransmittedPackets++;
      this.#everSent.add(chunk);
      const pn = this.ld.onPacketSent(now, WIRE_BYTES, true, [chunk]);
      this.pacer.onPacketSent(now, WIRE_BYTES);
      this.stats.sentPackets++;
      const policy = this.#spec.adaptiveAcks === true ? ackPolicyForWindow(this.cc.windowBytes, WIRE_BYTES) : null;
      this.#sim.forward(WIRE_BYTES, () => {
        if (policy !== null) this.tracker.setPolicy(policy);
        this.#onData(pn, chunk);
      });
    }
    this.#armLossTimer();
  }

  #armLossTimer(): void {
    const gen = ++this.#lossTimerGen;
    const d = this.ld.deadline();
    if (d === null) return;
    this.#sim.at(d, () => {
      if (gen !== this.#lossTimerGen) return;
      const res = this.ld.onTimeout(this.#sim.now);
      for (const p of res.lost) this.#retransmit.push(p.frames[0]!);
      this.#probes += res.probes;
      this.#trace();
      this.trySend();
    });
  }

  #onAck(bytes: Uint8Array): void {
    const ack = decodeAck(bytes);
    const res = this.ld.onAckReceived(ack.ranges, ack.ackDelayMs, this.#sim.now);
    for (const p of res.lost) this.#retransmit.push(p.frames[0]!);
    this.sendCredit.onCredit(ack);
    if (res.acked.length > 0 || res.lost.length > 0) this.#trace();
    this.trySend();
  }

  #trace(): void {
    const last = this.#cwndTrace[this.#cwndTrace.length - 1];
    if (last === undefined || last[1] !== this.cc.windowBytes) this.#cwndTrace.push([this.#sim.now, this.cc.windowBytes]);
  }

  // ---- receiver ----
  #stalled(now: number): boolean {
    return (this.#spec.readerStalls ?? []).some(([a, b]) => now >= a && now < b);
  }

  #onData(pn: number, chunk: number): void {
    const now = this.#sim.now;
    if (!this.tracker.onPacketReceived(pn, true, now)) return;
    if (this.#delivered.has(chunk)) {
      this.stats.duplicateChunks++;
    } else if (this.recvCredit.onReceived(PAYLOAD_BYTES, 1)) {
      this.#delivered.add(chunk);
      if (now >= this.#windowFrom && now < this.#windowTo) this.stats.windowChunks++;
      this.#unread++;
      if (!this.#stalled(now)) this.#readAll();
    }
    if (this.tracker.ackDue(now)) this.#sendAck();
    else this.#armAckTimer();
  }

  #readAll(): void {
    this.recvCredit.onReleased(this.#unread * PAYLOAD_BYTES, this.#unread);
    this.#unread = 0;
    if (this.recvCredit.updateDue()) this.#sendAck(); // window update
  }

  #armAckTimer(): void {
    const gen = ++this.#ackTimerGen;
    const d = this.tracker.deadline();
    if (d === null) return;
    this.#sim.at(d, () => {
      if (gen === this.#ackTimerGen && this.tracker.ackDue(this.#sim.now)) this.#sendAck();
    });
  }

  #sendAck(): void {
    const ack = this.tracker.takeAck(this.#sim.now);
    ++this.#ackTimerGen;
    if (ack === null) return;
    const bytes = encodeAck({ ...ack, ...this.recvCredit.takeLimits() });
    this.stats.acksSent++;
    this.#sim.backward(() => this.#onAck(bytes));
  }
}
