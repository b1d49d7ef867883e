/**
 * LimitsExchange (our maxMessageBytes, once per session on a frame that goes anyway): the
 * session's own `limitsAnnounced` flag records it (no set of sessions, no cache), the link's
 * `peerMaxMessageBytes` field the peer's limit.
 */
import { LimitsExchange } from '../../../src/engine/native/limits';
import type { NativeLink } from '../../../src/engine/native/link';

const link = (): NativeLink => ({ alive: true, peerMaxMessageBytes: null }) as unknown as NativeLink;
const session = (): { limitsAnnounced: boolean } => ({ limitsAnnounced: false });

describe('LimitsExchange', () => {
  it('announces once per session: again on a new session, never again on one announced before (cached or not)', () => {
    const x = new LimitsExchange(() => 4096);
    const a = link();
    const s1 = session();
    const s2 = session();
    x.announce(a, s1);
    expect(x.take(a)).toEqual([{ type: 'limits', maxMessageBytes: 4096 }]);
    expect(x.take(a)).toEqual([]); // taken once
    for (let i = 0; i < 3; i++) x.announce(a, s1); // announced: nothing new
    expect(x.take(a)).toEqual([]);
    x.announce(a, s2);
    expect(x.take(a)).toEqual([{ type: 'limits', maxMessageBytes: 4096 }]);
    x.announce(a, s1); // announced before: its flag answers
    expect(x.take(a)).toEqual([]);
    x.reannounce(a); // the frame that carried it was lost
    expect(x.take(a)).toEqual([{ type: 'limits', maxMessageBytes: 4096 }]);
  });

  it('forget() drops the peer\'s limit and a pending announcement; a session announced before stays announced', () => {
    const x = new LimitsExchange(() => 100);
    const a = link();
    const b = link();
    const s = session();
    x.heard(a, 777);
    expect([x.peerMax(a), a.peerMaxMessageBytes]).toEqual([777, 777]);
    x.announce(a, s);
    expect(s.limitsAnnounced).toBe(true);
    x.forget(a);
    expect([x.peerMax(a), x.take(a)]).toEqual([null, []]);
    x.announce(b, s); // the same session again: still announced once
    expect(x.take(b)).toEqual([]);
    x.announce(b, session());
    expect(x.take(b)).toEqual([{ type: 'limits', maxMessageBytes: 100 }]);
  });
});
