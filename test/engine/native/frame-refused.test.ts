/**
 * A frame of another version from an authenticated peer (issue 9, frame v5): a v4 fixmap frame
 * built by hand and sealed under the real session of an established pair is dropped as
 * `unknownVersion` (counted on the peer and globally, never `malformed`), logged at warn once per
 * peer per minute without payload bytes, and delivers nothing; a v5 frame on the same session is
 * still received.
 */
import { SimWorld, messages, text } from '../../sim/harness';
import { nativeLinkOf } from '../../node/internals';
import { pack } from '../../../src/wire/msgpack';
import { encodeFrame } from '../../../src/wire/frame';
import type { Transport } from '../../../src/net/transport';
import type { Logger } from '../../../src/runtime/log';
import type { UdpVaultNode } from '../../../src/node/types';

const A = '127.0.0.2';
const B = '127.0.0.3';

/** Warn lines (object and message); other levels are ignored. */
function capture(): { logger: Logger; warns: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const warns: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const none = (): void => undefined;
  const logger: Logger = { trace: none, debug: none, info: none, error: none, warn: (obj, msg) => warns.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' }), child: () => logger };
  return { logger, warns };
}

const SECRET = 'secret payload 1234';

/** A v4 frame (fixmap, one-letter keys) as an older node writes it, with a payload item. */
function v4Frame(t: number, n: number): Uint8Array {
  return new Uint8Array(pack({ v: 4, t, n, i: 7, p: [[0, new TextEncoder().encode(SECRET)]], c: [[0]], g: new Uint8Array(20) }));
}

describe('a frame of another version from an established peer', () => {
  let w: SimWorld;
  let a: UdpVaultNode;
  let b: UdpVaultNode;
  let bSocket: Transport;
  let warns: ReturnType<typeof capture>['warns'];

  beforeEach(async () => {
    w = new SimWorld(55);
    const log = capture();
    warns = log.warns;
    a = await w.node(A, { logger: log.logger });
    b = await w.node(B, {}, (open) => async (o) => (bSocket = await open(o)));
    await w.pair(a, b);
    await w.scheduler.advance(1_000); // handshake traffic and first acks over
  });
  afterEach(() => w.closeAll());

  /** Seals `frame` under b's current session to a and sends it from b's socket. */
  function sendSealed(frame: Uint8Array): void {
    const session = nativeLinkOf(b, 'a').current(w.clock.monotonic());
    if (!session) throw new Error('no session');
    const datagram = session.seal(frame, w.clock.monotonic());
    bSocket.send(datagram, 11000, A, 4);
  }

  test('counted as unknownVersion (peer and global), one warn per peer per minute naming both versions, nothing delivered', async () => {
    const got = messages(a);
    const before = a.status().counters.drops;
    const peerBefore = a.peers()[0]!.counters.drops;
    for (let k = 0; k < 3; k++) {
      sendSealed(v4Frame(w.clock.now(), 1_000 + k));
      await w.scheduler.advance(10);
    }
    const after = a.status().counters.drops;
    expect((after.unknownVersion ?? 0) - (before.unknownVersion ?? 0)).toBe(3);
    expect((after.malformed ?? 0) - (before.malformed ?? 0)).toBe(0);
    expect((a.peers()[0]!.counters.drops.unknownVersion ?? 0) - (peerBefore.unknownVersion ?? 0)).toBe(3);
    expect(got).toHaveLength(0);
    expect(warns).toEqual([{ obj: { peer: 'b', frameVersion: 4, ourFrameVersion: 5 }, msg: 'peer b sends frame version 4; this node speaks 5 — upgrade both' }]);
    expect(JSON.stringify(warns)).not.toContain(SECRET);
    // a minute later: warned again (once)
    await w.scheduler.advance(60_000);
    sendSealed(v4Frame(w.clock.now(), 2_000));
    sendSealed(v4Frame(w.clock.now(), 2_001));
    await w.scheduler.advance(10);
    expect(warns).toHaveLength(2);
    expect((a.status().counters.drops.unknownVersion ?? 0) - (before.unknownVersion ?? 0)).toBe(5);
  });

  test('a v5 frame sealed the same way is received (the session itself is sound)', async () => {
    const got = messages(a);
    sendSealed(encodeFrame({ t: w.clock.now(), n: 1_000, i: 7, p: [{ flags: 0, data: new TextEncoder().encode('v5 ok') }], c: [] }));
    await w.scheduler.advance(10);
    expect(got.map(text)).toEqual(['v5 ok']);
    expect(warns).toHaveLength(0);
    expect(a.status().counters.drops.unknownVersion ?? 0).toBe(0);
  });
});
