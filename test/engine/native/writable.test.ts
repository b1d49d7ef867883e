/**
 * The 'writable' event (datagram mode's back-pressure signal, link.ts notifyWritable): owed
 * after an ERR_QUEUE_FULL, emitted once when the window-wait queue is down to half its limits,
 * after the refused promises' handlers ran; never without a refusal.
 */
import { SimWorld, bytesOf } from '../../sim/harness';
import type { UdpVaultError } from '../../../src/errors';
import type { UdpVaultNode, WritableEvent } from '../../../src/index';

const A = '10.8.0.1';
const B = '10.8.0.2';

let w: SimWorld;
beforeEach(() => {
  w = new SimWorld(17);
});
afterEach(async () => {
  await w.closeAll();
});

interface LinkView { path: { waiting: { size: number } } }
const linkOf = (n: UdpVaultNode): LinkView => (n as unknown as { linkOf(r: string): LinkView }).linkOf('b');

/** Sends `n` 1 KiB messages; each outcome is logged in order with the 'writable' events. */
function sendLogged(a: UdpVaultNode, n: number, log: string[], from = 0): void {
  for (let i = 0; i < n; i++) {
    a.send('b', bytesOf(1024, from + i)).then(
      () => log.push(`sent ${from + i}`),
      (e: UdpVaultError) => log.push(`${e.code} ${from + i}`),
    );
  }
}

describe("the 'writable' event", () => {
  test('after ERR_QUEUE_FULL it is emitted once, when the window-wait queue is down to half, after every refusal was seen', async () => {
    const a = await w.node(A, { settings: { queueMaxMessages: 4 } });
    const b = await w.node(B);
    await w.pair(a, b);
    const log: string[] = [];
    const events: WritableEvent[] = [];
    a.on('writable', (ev) => {
      events.push(ev);
      log.push('writable');
    });
    w.net.partition(A, B, true); // no acks: the 4 waiting stay until they expire (50 ms)
    sendLogged(a, 30, log); // 10 go (the pacer's initial burst, express), 4 wait, 16 refused
    await w.scheduler.advance(0);
    expect(linkOf(a).path.waiting.size).toBe(4);
    expect(log).toEqual([...Array.from({ length: 10 }, (_, i) => `sent ${i}`), ...Array.from({ length: 16 }, (_, i) => `ERR_QUEUE_FULL ${14 + i}`)]);
    await w.scheduler.advance(10);
    expect(events).toEqual([]); // the queue is still full
    // The loss timer's probe takes the oldest waiting message; the other 3 expire (ERR_CONGESTION):
    // the queue is empty, the event goes on a later turn.
    await w.scheduler.advance(60);
    expect(log.slice(26)).toEqual(['sent 10', 'ERR_CONGESTION 11', 'ERR_CONGESTION 12', 'ERR_CONGESTION 13', 'writable']);
    expect(events.length).toBe(1);
    expect(events[0]!.peer.key).toBe(b.publicKey);
    expect(events[0]!.peer.name).toBe('b');
    // Owed once: nothing more until another refusal.
    await w.scheduler.advance(1_000);
    expect(events.length).toBe(1);
  });

  test('emitted when the acks drain the queue to half (not before), and owed again by the next refusal', async () => {
    const a = await w.node(A, { settings: { queueMaxMessages: 8 } });
    const b = await w.node(B);
    await w.pair(a, b);
    const log: string[] = [];
    let waitingAtEvent = -1;
    a.on('writable', () => {
      log.push('writable');
      waitingAtEvent = linkOf(a).path.waiting.size;
    });
    sendLogged(a, 30, log); // 10 express, 8 wait, 12 refused; the acks then let the 8 go
    expect(await w.scheduler.runUntil(() => log.includes('writable'), 5_000)).toBe(true);
    expect(waitingAtEvent).toBeLessThanOrEqual(4);
    expect(log.filter((l) => l.startsWith('ERR_QUEUE_FULL')).length).toBe(12);
    expect(log.indexOf('writable')).toBeGreaterThan(log.lastIndexOf('ERR_QUEUE_FULL 29'));
    expect(log.filter((l) => l === 'writable').length).toBe(1);
    // A second refusal episode owes a second event.
    expect(await w.scheduler.runUntil(() => log.filter((l) => l.startsWith('sent')).length === 18, 5_000)).toBe(true);
    sendLogged(a, 40, log, 100);
    expect(await w.scheduler.runUntil(() => log.filter((l) => l === 'writable').length === 2, 5_000)).toBe(true);
    expect(log.filter((l) => l.startsWith('ERR_QUEUE_FULL 1')).length).toBeGreaterThan(0);
  });

  test('refused and drained in the same flush: the event still comes after every refused promise was rejected', async () => {
    const a = await w.node(A, { settings: { queueMaxMessages: 2 } });
    const b = await w.node(B);
    await w.pair(a, b);
    const log: string[] = [];
    a.on('writable', () => log.push('writable'));
    // 256 B messages go through the flush: it admits 2, refuses 38 and sends the 2 at once (the
    // window has room): the queue is empty at the end of that same pump.
    for (let i = 0; i < 40; i++) a.send('b', bytesOf(256, i)).then(() => log.push(`sent ${i}`), (e: UdpVaultError) => log.push(`${e.code} ${i}`));
    await w.scheduler.advance(0);
    expect(log).toEqual([...Array.from({ length: 38 }, (_, i) => `ERR_QUEUE_FULL ${i + 2}`), 'sent 0', 'sent 1', 'writable']);
  });

  test('never emitted without a refusal', async () => {
    const a = await w.node(A, { settings: { queueMaxMessages: 4 } });
    const b = await w.node(B);
    await w.pair(a, b);
    let events = 0;
    a.on('writable', () => events++);
    const log: string[] = [];
    sendLogged(a, 14, log); // 10 express, 4 wait: nothing refused
    expect(await w.scheduler.runUntil(() => log.length === 14, 5_000)).toBe(true);
    expect(log.every((l) => l.startsWith('sent'))).toBe(true);
    await w.scheduler.advance(1_000);
    expect(events).toBe(0);
  });

  test('not emitted for a peer removed before the queue had room', async () => {
    const a = await w.node(A, { settings: { queueMaxMessages: 4 } });
    const b = await w.node(B);
    await w.pair(a, b);
    let events = 0;
    a.on('writable', () => events++);
    w.net.partition(A, B, true);
    const log: string[] = [];
    sendLogged(a, 30, log);
    await w.scheduler.advance(0);
    expect(log.filter((l) => l.startsWith('ERR_QUEUE_FULL')).length).toBe(16);
    await a.removePeer('b');
    await w.scheduler.advance(1_000);
    expect(events).toBe(0);
  });
});
