import { LineSplitter } from '../../src/control/lines';
import { Subscriber, type LineSink, type SubscriberLimits } from '../../src/control/subscriber';

describe('LineSplitter', () => {
  const split = (chunks: (string | Buffer)[], max = 100): { lines: string[]; ok: boolean } => {
    const s = new LineSplitter(max);
    const lines: string[] = [];
    let ok = true;
    for (const c of chunks) ok = s.push(Buffer.isBuffer(c) ? c : Buffer.from(c), (l) => lines.push(l)) && ok;
    return { lines, ok };
  };

  test('lines across chunk boundaries, CRLF, multi-byte characters split between chunks', () => {
    const euro = Buffer.from('€');
    expect(split(['a\nb', 'c\r\n', '\n', Buffer.concat([Buffer.from('x'), euro.subarray(0, 1)]), Buffer.concat([euro.subarray(1), Buffer.from('\n')])]).lines).toEqual([
      'a',
      'bc',
      '',
      'x€',
    ]);
  });

  test('over-long lines are refused whether complete or pending, and nothing more is buffered', () => {
    expect(split(['x'.repeat(101) + '\n']).ok).toBe(false);
    expect(split(['x'.repeat(60), 'x'.repeat(60)]).ok).toBe(false);
    expect(split(['x'.repeat(100) + '\n']).lines).toHaveLength(1);
  });
});

class Sink implements LineSink {
  lines: string[] = [];
  blocked = false;
  closed = false;
  write(line: string): boolean {
    this.lines.push(line);
    return !this.blocked;
  }
}

describe('Subscriber', () => {
  const lim = (messages: number): SubscriberLimits => ({ messages, bytes: 1 << 30 });
  const body = (i: number): string => JSON.stringify({ type: 'message', text: String(i) });
  const parse = (l: string): Record<string, unknown> => JSON.parse(l) as Record<string, unknown>;

  test('writes straight through while the socket accepts', () => {
    const sink = new Sink();
    const s = new Subscriber(7, null, sink, () => true, lim(3));
    s.push(body(1));
    expect(sink.lines.map(parse)).toEqual([{ v: 1, id: 7, type: 'message', text: '1' }]);
  });

  test('buffers up to the bound under backpressure, drops the rest, reports the count on catching up', () => {
    const sink = new Sink();
    const s = new Subscriber('s', null, sink, () => true, lim(3));
    sink.blocked = true;
    for (let i = 0; i < 10; i++) s.push(body(i));
    expect(sink.lines).toEqual([]);
    expect(s.queued).toBe(3);
    sink.blocked = false;
    s.flush();
    expect(sink.lines.map(parse)).toEqual([
      { v: 1, id: 's', type: 'message', text: '0' },
      { v: 1, id: 's', type: 'message', text: '1' },
      { v: 1, id: 's', type: 'message', text: '2' },
      { v: 1, id: 's', type: 'lost', count: 7 },
    ]);
    expect(s.lostTotal).toBe(7);
    s.push(body(10));
    expect(parse(sink.lines.at(-1)!)).toMatchObject({ text: '10' });
  });

  test('a byte bound applies too', () => {
    const sink = new Sink();
    sink.blocked = true;
    const s = new Subscriber(1, null, sink, () => true, { messages: 1000, bytes: 150 });
    for (let i = 0; i < 10; i++) s.push(JSON.stringify({ type: 'message', text: 'x'.repeat(40) }));
    expect(s.queued).toBe(1);
  });

  test('a preloaded backlog goes first, in order, and does not count against the bound of newer messages', () => {
    const sink = new Sink();
    const s = new Subscriber(4, null, sink, () => true, lim(2));
    s.preload([body(1), body(2), body(3), body(4), body(5)]);
    expect(sink.lines).toEqual([]); // written by the next flush (after the subscribe answer)
    sink.blocked = true; // a slow reader
    s.push(body(6));
    s.push(body(7));
    s.push(body(8)); // the bound (2) counts only these
    expect(s.queued).toBe(7);
    sink.blocked = false;
    s.flush();
    expect(sink.lines.map(parse).map((l) => l.text ?? `lost ${String(l.count)}`)).toEqual(['1', '2', '3', '4', '5', '6', '7', 'lost 1']);
    s.push(body(9));
    expect(parse(sink.lines.at(-1)!)).toMatchObject({ text: '9' });
  });

  test('end hands over what is buffered, the loss, then the end event', () => {
    const sink = new Sink();
    const s = new Subscriber(1, null, sink, () => true, lim(1));
    sink.blocked = true;
    s.push(body(1));
    s.push(body(2));
    s.end('daemon stopping');
    expect(sink.lines.map(parse).map((l) => l.type)).toEqual(['message', 'lost', 'end']);
    s.push(body(3));
    expect(sink.lines).toHaveLength(3);
  });
});
