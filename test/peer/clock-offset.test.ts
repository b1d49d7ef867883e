/** Clock offsets per session: measurement on both sides, frame freshness against the offset, rising handshake timestamps. */
import { frameIsFresh, initiatorOffset, nextHandshakeTimestamp, responderOffset } from '../../src/peer/clock-offset';

describe('clock offset', () => {
  test('the responder takes the init timestamp against its clock; the initiator the response against the midpoint of its round trip', () => {
    // b is 120 s ahead of a; one-way delay 10 ms.
    const aSend = 1_000_000;
    expect(responderOffset(aSend, aSend + 120_000 + 10)).toBe(-120_010);
    expect(initiatorOffset(aSend + 10 + 120_000, aSend, aSend + 20)).toBe(120_000);
  });

  test('a frame is fresh within the window around where the peer clock should be (boundaries included)', () => {
    const now = 5_000_000;
    expect(frameIsFresh(now + 120_000, now, 120_000, 60_000)).toBe(true);
    expect(frameIsFresh(now + 180_000, now, 120_000, 60_000)).toBe(true);
    expect(frameIsFresh(now + 180_001, now, 120_000, 60_000)).toBe(false);
    expect(frameIsFresh(now + 59_999, now, 120_000, 60_000)).toBe(false);
    expect(frameIsFresh(now, now, 120_000, 60_000)).toBe(false); // without the offset it would pass
  });

  test('handshake timestamps strictly increase; after our clock steps back the bias says by how much they run ahead', () => {
    const st = { last: 0 };
    expect(nextHandshakeTimestamp(st, 1_000)).toEqual({ tsMs: 1_000, biasMs: 0 });
    expect(nextHandshakeTimestamp(st, 1_000)).toEqual({ tsMs: 1_001, biasMs: 1 });
    expect(nextHandshakeTimestamp(st, 2_000)).toEqual({ tsMs: 2_000, biasMs: 0 });
    expect(nextHandshakeTimestamp(st, 2_000 - 90_000)).toEqual({ tsMs: 2_001, biasMs: 90_001 }); // stepped back 90 s
    expect(st.last).toBe(2_001);
  });
});
