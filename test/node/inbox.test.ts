/** The inbox's bounds and order, and its file (atomic, 0600, corrupt file set aside). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Inbox } from '../../src/node/inbox';
import { decodeInbox, encodeInbox, readInboxFile, writeInboxFile } from '../../src/node/inbox-file';
import type { MessageEvent } from '../../src/node/types';

const ev = (n: number, size = 1, peer = 'K1'): MessageEvent => ({
  peer, addr: '127.0.0.1:1', data: new Uint8Array(size).fill(n), reliable: n % 2 === 0, encrypted: true, receivedAt: new Date(Date.UTC(2030, 0, 1, 0, 0, n)),
});

describe('Inbox', () => {
  test('bounded by messages and bytes; refused offers keep nothing; take returns arrival order', () => {
    const box = new Inbox({ maxMessages: 3, maxBytes: 10 });
    expect(box.offer(ev(1, 4))).toBe(true);
    expect(box.offer(ev(2, 6))).toBe(true);
    expect(box.offer(ev(3, 1))).toBe(false); // 11 bytes
    expect(box.room()).toEqual({ messages: 1, bytes: 0 });
    expect(box.offer(ev(4, 0))).toBe(true);
    expect(box.offer(ev(5, 0))).toBe(false); // 4 messages
    expect([box.kept, box.refused, box.size, box.bytes]).toEqual([3, 2, 3, 10]);
    expect(box.take().map((e) => e.data[0] ?? e.receivedAt.getUTCSeconds())).toEqual([1, 2, 4]);
    expect([box.size, box.bytes]).toEqual([0, 0]);
    expect(box.room()).toEqual({ messages: 3, bytes: 10 });
  });

  test('take(pick) takes the selected messages and keeps the others in order; requeue puts taken ones back first', () => {
    const box = new Inbox({ maxMessages: 10, maxBytes: 100 });
    for (const [n, p] of [[1, 'A'], [2, 'B'], [3, 'A'], [4, 'B']] as const) box.offer(ev(n, 1, p));
    expect(box.take((e) => e.peer === 'A').map((e) => e.data[0])).toEqual([1, 3]);
    expect(box.peek().map((e) => e.data[0])).toEqual([2, 4]);
    expect(box.bytes).toBe(2);
    box.requeue([ev(9)]);
    expect(box.peek().map((e) => e.data[0])).toEqual([9, 2, 4]);
    expect(box.bytes).toBe(3);
  });
});

describe('inbox file', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-inbox-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  test('round trip of every field (bytes exact), mode 0600; an empty inbox removes the file', () => {
    const events = [ev(1, 3), { ...ev(2, 0), name: 'alice' }, ev(3, 3_000)];
    writeInboxFile(home, events);
    const file = path.join(home, 'inbox.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const back = readInboxFile(home, () => {
      throw new Error('not corrupt');
    });
    expect(back).toEqual(events);
    expect(decodeInbox(encodeInbox(events))).toEqual(events);
    writeInboxFile(home, []);
    expect(fs.existsSync(file)).toBe(false);
    expect(readInboxFile(home, () => undefined)).toEqual([]);
  });

  test('a corrupt file is reported (without its content) and set aside as inbox.json.corrupt', () => {
    const file = path.join(home, 'inbox.json');
    for (const [content, why] of [['{"version":1,"messages":[{"peer":"secret payload"}]}', 'invalid message entry'], ['{"version":1,"mess', 'not valid JSON'], ['{"version":2,"messages":[]}', 'not a version-1 inbox file']]) {
      fs.writeFileSync(file, content!);
      const reports: string[] = [];
      expect(readInboxFile(home, (w) => reports.push(w))).toEqual([]);
      expect(reports).toEqual([why]);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.readFileSync(`${file}.corrupt`, 'utf8')).toBe(content);
    }
  });
});
