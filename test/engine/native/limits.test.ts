/**
 * LimitsExchange (our maxMessageBytes, once per session on a frame that goes anyway): the
 * one-entry cache of the session seen last answers exactly as the set of announced sessions.
 */
import { LimitsExchange } from '../../../src/engine/native/limits';
import type { NativeLink } from '../../../src/engine/native/link';

const link = (): NativeLink => ({ alive: true }) as unknown as NativeLink;

describe('LimitsExchange', () => {
  it('announces once per session: again on a new session, never again on one announced before (cached or not)', () => {
    const x = new LimitsExchange(() => 4096);
    const a = link();
    const s1 = {};
    const s2 = {};
    x.announce(a, s1);
    expect(x.take(a)).toEqual([{ type: 'limits', maxMessageBytes: 4096 }]);
    expect(x.take(a)).toEqual([]); // taken once
    for (let i = 0; i < 3; i++) x.announce(a, s1); // the cached session: nothing new
    expect(x.take(a)).toEqual([]);
    x.announce(a, s2);
    expect(x.take(a)).toEqual([{ type: 'limits', maxMessageBytes: 4096 }]);
    x.announce(a, s1); // announced before, not the cached one: the set answers
    expect(x.take(a)).toEqual([]);
    x.reannounce(a); // the frame that carried it was lost
    expect(x.take(a)).toEqual([{ type: 'limits', maxMessageBytes: 4096 }]);
  });

  it('forget() drops the peer and the cache; a session announced before stays announced', () => {
    const x = new LimitsExchange(() => 100);
    const a = link();
    const b = link();
    const s = {};
    x.heard(a, 777);
    x.announce(a, s);
    x.forget(a);
    expect([x.peerMax(a), x.take(a)]).toEqual([null, []]);
    x.announce(b, s); // the same session object again (not cached any more): still announced once
    expect(x.take(b)).toEqual([]);
    x.announce(b, {});
    expect(x.take(b)).toEqual([{ type: 'limits', maxMessageBytes: 100 }]);
  });
});
