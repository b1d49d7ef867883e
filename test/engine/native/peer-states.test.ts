/** PeerStates (reliable-peer.ts): the one-entry lookup cache never answers for a state that changed. */
import { PeerStates, type PeerReliable } from '../../../src/engine/native/reliable-peer';
import type { NativeLink } from '../../../src/engine/native/link';

const link = (): NativeLink => ({}) as unknown as NativeLink;
const state = (): PeerReliable => ({}) as unknown as PeerReliable;

describe('PeerStates', () => {
  it('answers as the map would through misses, sets, deletes and other links', () => {
    const m = new PeerStates();
    const [a, b] = [link(), link()];
    const [sa, sb, sa2] = [state(), state(), state()];
    expect([m.get(a), m.has(a)]).toEqual([undefined, false]); // a miss is cached…
    m.set(a, sa); // …and set() replaces it
    expect([m.get(a), m.has(a), m.get(b)]).toEqual([sa, true, undefined]);
    m.set(b, sb);
    expect([m.get(a), m.get(b), m.get(a)]).toEqual([sa, sb, sa]);
    m.delete(a);
    expect([m.get(a), m.has(a), m.get(b)]).toEqual([undefined, false, sb]);
    m.set(a, sa2); // a peer's state made again after a drop
    expect(m.get(a)).toBe(sa2);
    expect([...m.keys()]).toEqual([b, a]);
    expect([...m]).toEqual([[b, sb], [a, sa2]]);
  });
});
