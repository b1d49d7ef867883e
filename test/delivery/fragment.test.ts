import { concatChunks, fragment, fragmentCount, maxFragments } from '../../src/delivery/fragment';

describe('fragment', () => {
  const data = Uint8Array.from({ length: 10 }, (_, i) => i);

  it('splits into equal chunks with a shorter last one, as views of the input', () => {
    const chunks = fragment(data, 4);
    expect(chunks.map((c) => [...c])).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(chunks.every((c) => c.buffer === data.buffer)).toBe(true);
    expect(chunks[1]!.byteOffset).toBe(4);
  });

  it('returns one chunk for exact and small sizes', () => {
    expect(fragment(data, 10).map((c) => c.length)).toEqual([10]);
    expect(fragment(data, 100).map((c) => c.length)).toEqual([10]);
    expect(fragment(data, 5).map((c) => c.length)).toEqual([5, 5]);
  });

  it('returns one empty chunk for empty data', () => {
    const chunks = fragment(new Uint8Array(0), 4);
    expect(chunks.length).toBe(1);
    expect(chunks[0]!.length).toBe(0);
  });

  it('counts fragments', () => {
    expect(fragmentCount(0, 7)).toBe(1);
    expect(fragmentCount(7, 7)).toBe(1);
    expect(fragmentCount(8, 7)).toBe(2);
    expect(maxFragments(1024 * 1024, 1000)).toBe(1049);
    expect(fragment(new Uint8Array(1024 * 1024), 1000).length).toBe(1049);
  });

  it('rejects a non-positive or fractional chunk size', () => {
    expect(() => fragment(data, 0)).toThrow(expect.objectContaining({ code: 'ERR_BAD_ARGUMENT' }));
    expect(() => fragment(data, 1.5)).toThrow(expect.objectContaining({ code: 'ERR_BAD_ARGUMENT' }));
  });

  it('concatenates chunks back', () => {
    expect([...concatChunks(fragment(data, 3))]).toEqual([...data]);
    expect(concatChunks([data])).toBe(data);
    expect(concatChunks([]).length).toBe(0);
  });
});
