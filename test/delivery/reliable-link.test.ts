/** Sender and receiver wired through a simulated lossy, duplicating, reordering channel (fake time). */
import { ManualClock } from '../../src/runtime/clock';
import { fragment } from '../../src/delivery/fragment';
import { ReliableReceiver, type ReliableAck, type ReliableMessage } from '../../src/delivery/reliable-receiver';
import { ReliableSender, type ReliableItem } from '../../src/delivery/reliable-sender';
import { mulberry32 } from '../helpers/lossy-proxy';

const STREAM = 0x5eed0001;

type Packet = { at: number; n: number } & ({ kind: 'data'; r: [number, number]; items: ReliableItem[] } | { kind: 'ack'; ack: ReliableAck });

interface LinkOptions {
  seed: number;
  window: number;
  loss: number;
  duplicate: number;
  latencyMs: number;
  jitterMs: number;
  itemsPerFrame: number;
  ackLoss?: number;
  maxBufferedBytes?: number;
  maxMessageBytes?: number;
  /** Drops every data item for which it returns true. */
  dropItem?: (item: ReliableItem) => boolean;
}

class Link {
  readonly clock = new ManualClock();
  readonly sender: ReliableSender;
  receiver: ReliableReceiver;
  readonly delivered: ReliableMessage[] = [];
  maxInFlight = 0;
  framesSent = 0;
  #net: Packet[] = [];
  #n = 0;
  readonly #rng: () => number;

  constructor(readonly o: LinkOptions) {
    this.#rng = mulberry32(o.seed);
    this.sender = new ReliableSender({ clock: this.clock, stream: STREAM, window: o.window, rtoInitialMs: 200, rtoMinMs: 50, rtoMaxMs: 2000 });
    this.receiver = this.newReceiver();
  }

  newReceiver(): ReliableReceiver {
    return new ReliableReceiver({ maxBufferedItems: this.o.window, maxBufferedBytes: this.o.maxBufferedBytes ?? 1 << 20, maxMessageBytes: this.o.maxMessageBytes ?? 1 << 20 });
  }

  now(): number {
    return this.clock.monotonic();
  }

  #wire(p: Packet, loss: number): void {
    const [rLoss, rDup, j1, j2] = [this.#rng(), this.#rng(), this.#rng(), this.#rng()];
    if (rLoss < loss) return;
    const copies = rDup < this.o.duplicate ? [j1, j2] : [j1];
    for (const j of copies) this.#net.push({ ...p, at: this.now() + this.o.latencyMs + Math.floor(j * this.o.jitterMs), n: this.#n++ });
  }

  #pump(): void {
    while (this.sender.hasWork()) {
      const items = this.sender.take(this.o.itemsPerFrame);
      this.maxInFlight = Math.max(this.maxInFlight, this.sender.inFlight);
      const kept = items.filter((i) => !this.o.dropItem?.(i));
      this.framesSent++;
      if (kept.length > 0) this.#wire({ kind: 'data', r: [this.sender.stream, this.sender.base], items: kept, at: 0, n: 0 }, this.o.loss);
    }
  }

  #arrive(p: Packet): void {
    if (p.kind === 'ack') {
      this.sender.onAck(...p.ack);
      return;
    }
    for (const it of p.items) this.delivered.push(...this.receiver.onItem(p.r[0], p.r[1], it.seq, it.flags, it.data, it.index, it.count));
    const ack = this.receiver.ackNeeded ? this.receiver.ack() : null;
    if (ack) this.#wire({ kind: 'ack', ack, at: 0, n: 0 }, this.o.ackLoss ?? this.o.loss);
  }

  /** Runs until `done()` or nothing is pending, or simulated time reaches `untilMs`. */
  run(done: () => boolean = () => this.sender.pendingMessages === 0, untilMs = Infinity): void {
    for (;;) {
      this.#pump();
      const now = this.now();
      const due = this.#net.filter((p) => p.at <= now).sort((a, b) => a.at - b.at || a.n - b.n);
      this.#net = this.#net.filter((p) => p.at > now);
      for (const p of due) this.#arrive(p);
      const d = this.sender.nextDeadline();
      if (d !== null && d <= now) this.sender.tick();
      this.#pump();
      if (done()) return;
      let next = this.sender.nextDeadline() ?? Infinity;
      for (const p of this.#net) next = Math.min(next, p.at);
      if (next === Infinity || next > untilMs) return;
      if (next > now) this.clock.advance(next - now);
    }
  }
}

type Outcome = { state: 'pending' | 'resolved' | 'rejected'; error?: unknown };
function track(p: Promise<void>): Outcome {
  const t: Outcome = { state: 'pending' };
  p.then(
    () => (t.state = 'resolved'),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  );
  return t;
}
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function messages(count: number, seed: number, maxBytes: number): Uint8Array[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, (_, k) => {
    const m = new Uint8Array(Math.floor(rng() * (maxBytes + 1)));
    for (let i = 0; i < m.length; i++) m[i] = (k * 7 + i * 13) & 0xff;
    return m;
  });
}

describe('reliable sender + receiver over a lossy channel', () => {
  it('delivers 1,000 messages exactly once, in order, byte-exact (20% loss, 5% duplication, reordering)', async () => {
    const link = new Link({ seed: 42, window: 64, loss: 0.2, duplicate: 0.05, latencyMs: 10, jitterMs: 30, itemsPerFrame: 4 });
    const sent = messages(1000, 7, 500);
    const outcomes: Outcome[] = [];
    const promises: Promise<void>[] = [];
    for (const [k, m] of sent.entries()) {
      const p = link.sender.push(fragment(m, 100), k % 3 === 0 ? 1 : 0, 600_000);
      promises.push(p);
      outcomes.push(track(p));
    }
    link.run();
    await Promise.all(promises);
    await flush();
    expect(outcomes.filter((o) => o.state === 'resolved').length).toBe(1000);
    expect(link.delivered.length).toBe(1000);
    for (const [k, m] of link.delivered.entries()) {
      expect(m.flags).toBe(k % 3 === 0 ? 3 : 2);
      if (Buffer.compare(m.data, sent[k]!) !== 0) throw new Error(`message ${k} differs`);
    }
    expect(link.delivered.map((m) => m.data.length)).toEqual(sent.map((m) => m.length));
    expect(link.receiver.duplicates).toBeGreaterThan(0);
    expect(link.sender.retransmissions).toBeGreaterThan(0);
    expect(link.maxInFlight).toBe(64);
    expect([link.sender.inFlight, link.sender.queued, link.sender.pendingMessages]).toEqual([0, 0, 0]);
    expect([link.receiver.bufferedItems, link.receiver.bufferedBytes]).toEqual([0, 0]);
  });

  it('never has more than `window` items in flight under loss', () => {
    const link = new Link({ seed: 3, window: 16, loss: 0.3, duplicate: 0, latencyMs: 5, jitterMs: 20, itemsPerFrame: 8 });
    for (const m of messages(300, 1, 300)) void link.sender.push(fragment(m, 64), 0, 600_000);
    link.run();
    expect(link.maxInFlight).toBe(16);
    expect(link.delivered.length).toBe(300);
  });

  it('carries a 1 MiB message in 1 KiB fragments through 10% loss intact', async () => {
    const link = new Link({ seed: 9, window: 1024, loss: 0.1, duplicate: 0, latencyMs: 5, jitterMs: 10, itemsPerFrame: 1, maxBufferedBytes: 2 << 20 });
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    const chunks = fragment(big, 1024);
    expect(chunks.length).toBe(1024);
    const p = link.sender.push(chunks, 0, 600_000);
    link.run();
    await p;
    expect(link.delivered.length).toBe(1);
    expect(link.delivered[0]!.flags).toBe(2);
    expect(Buffer.compare(link.delivered[0]!.data, big)).toBe(0);
    expect(link.sender.retransmissions).toBeGreaterThan(0);
  });

  it('rejects at the deadline, not before, when acknowledgements never arrive', async () => {
    const link = new Link({ seed: 1, window: 64, loss: 0, duplicate: 0, latencyMs: 10, jitterMs: 0, itemsPerFrame: 4, ackLoss: 1 });
    const start = link.now();
    const m = track(link.sender.push([Uint8Array.of(1)], 0, start + 5000));
    link.run(() => false, start + 4999);
    await flush();
    expect(link.now()).toBeLessThan(5000);
    expect(m.state).toBe('pending');
    link.run();
    await flush();
    expect(link.now()).toBe(5000);
    expect(m.state).toBe('rejected');
    expect(m.error).toMatchObject({ code: 'ERR_NOT_ACKNOWLEDGED', message: 'not acknowledged within 5000 ms' });
    expect(link.delivered.length).toBe(1); // it arrived; only the sender cannot know
    expect(link.sender.retransmissions).toBeGreaterThan(3);
  });

  it('resolves only what the receiver acknowledged', async () => {
    let mute = false;
    const link = new Link({ seed: 1, window: 64, loss: 0, duplicate: 0, latencyMs: 10, jitterMs: 0, itemsPerFrame: 4, dropItem: () => mute });
    const a = track(link.sender.push([Uint8Array.of(1)], 0, 1000));
    link.run();
    mute = true;
    const b = track(link.sender.push([Uint8Array.of(2)], 0, link.now() + 1000));
    link.run();
    await flush();
    expect([a.state, b.state]).toEqual(['resolved', 'rejected']);
    expect(link.delivered.map((m) => [...m.data])).toEqual([[1]]);
  });

  it('continues after the receiver restarts (new receiver object, same stream)', async () => {
    const link = new Link({ seed: 5, window: 32, loss: 0.1, duplicate: 0.05, latencyMs: 10, jitterMs: 20, itemsPerFrame: 4 });
    const sent = messages(400, 11, 250);
    const promises = sent.map((m) => link.sender.push(fragment(m, 100), 0, 600_000));
    link.run(() => link.delivered.length >= 150);
    const before = link.delivered.splice(0);
    link.receiver = link.newReceiver();
    link.run();
    await Promise.all(promises);
    const after = link.delivered;
    const k = sent.length - after.length; // the new receiver starts at the sender's base
    expect(k).toBeGreaterThan(0);
    expect(k).toBeLessThanOrEqual(before.length);
    for (const [i, m] of before.entries()) expect(Buffer.compare(m.data, sent[i]!)).toBe(0);
    for (const [i, m] of after.entries()) expect(Buffer.compare(m.data, sent[k + i]!)).toBe(0);
  });

  it('moves the receiver past a message the sender abandoned', async () => {
    const link = new Link({ seed: 2, window: 64, loss: 0, duplicate: 0, latencyMs: 10, jitterMs: 0, itemsPerFrame: 2, dropItem: (i) => i.seq === 3 });
    const bytes = (n: number): Uint8Array => Uint8Array.of(n, n, n);
    const m1 = track(link.sender.push([bytes(1)], 0, 60_000)); // seq 1
    const m2 = track(link.sender.push(fragment(bytes(2), 1), 0, 1000)); // seqs 2..4, seq 3 always lost
    const rest = [3, 4, 5].map((n) => track(link.sender.push([bytes(n)], 0, 60_000))); // seqs 5..7
    link.run(() => link.now() >= 999 && link.delivered.length >= 1, 999);
    expect(link.delivered.map((m) => m.data[0])).toEqual([1]);
    expect(link.receiver.bufferedItems).toBe(5);
    link.run();
    await flush();
    expect(m1.state).toBe('resolved');
    expect(m2.state).toBe('rejected');
    expect(rest.map((o) => o.state)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(link.delivered.map((m) => m.data[0])).toEqual([1, 3, 4, 5]);
    expect(link.receiver.skipped).toBe(2);
    expect(link.receiver.cum).toBe(7);
  });

  it('announces a base that moved past an abandoned message once an earlier one is acknowledged', async () => {
    let firstSends = 0;
    const dropItem = (i: ReliableItem): boolean => i.seq === 2 || (i.seq === 1 && firstSends++ === 0);
    const link = new Link({ seed: 2, window: 64, loss: 0, duplicate: 0, latencyMs: 10, jitterMs: 0, itemsPerFrame: 1, dropItem });
    const m1 = track(link.sender.push([Uint8Array.of(1)], 0, 60_000)); // seq 1: first transmission lost
    const m2 = track(link.sender.push([Uint8Array.of(2)], 0, 100)); // seq 2: always lost, abandoned at 100
    const m3 = track(link.sender.push([Uint8Array.of(3)], 0, 60_000)); // seq 3: SACKed, then waits
    link.run();
    await flush();
    expect([m1.state, m2.state, m3.state]).toEqual(['resolved', 'rejected', 'resolved']);
    expect(link.now()).toBeLessThan(1000);
    expect(link.delivered.map((m) => m.data[0])).toEqual([1, 3]);
    expect(link.receiver.cum).toBe(3);
  });
});
