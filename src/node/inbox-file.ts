/**
 * The inbox on disk (`<home>/inbox.json`): written atomically (temp file, fsync, rename,
 * directory fsync) on a clean stop — and after every change when `inboxFsync` is set — and
 * read back (then removed) on start. Format (version 1, mode 0600):
 *   {"version":1,"messages":[{"peer","name"?,"addr","reliable","encrypted","receivedAt","data": base64}]}
 * A file that cannot be read is reported and set aside (`inbox.json.corrupt`), never half-used.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MessageEvent } from '../api/types';
import { writeFileAtomic } from '../store/atomic-file';

export const INBOX_FILE = 'inbox.json';
const VERSION = 1;

interface StoredMessage {
  peer: string;
  name?: string;
  addr: string;
  reliable: boolean;
  encrypted: boolean;
  receivedAt: string;
  data: string;
}

export function inboxPath(home: string): string {
  return path.join(home, INBOX_FILE);
}

export function encodeInbox(events: readonly MessageEvent[]): Uint8Array {
  const messages: StoredMessage[] = events.map((ev) => ({
    peer: ev.peer,
    ...(ev.name !== undefined && { name: ev.name }),
    addr: ev.addr,
    reliable: ev.reliable,
    encrypted: ev.encrypted,
    receivedAt: ev.receivedAt.toISOString(),
    data: Buffer.from(ev.data.buffer, ev.data.byteOffset, ev.data.byteLength).toString('base64'),
  }));
  return Buffer.from(JSON.stringify({ version: VERSION, messages }));
}

const isStored = (m: unknown): m is StoredMessage => {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return typeof r['peer'] === 'string' && typeof r['addr'] === 'string' && typeof r['reliable'] === 'boolean' && typeof r['encrypted'] === 'boolean'
    && typeof r['receivedAt'] === 'string' && typeof r['data'] === 'string' && (r['name'] === undefined || typeof r['name'] === 'string');
};

/** Parses an inbox file; throws an Error naming what is wrong (never the content). */
export function decodeInbox(bytes: Uint8Array): MessageEvent[] {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  if (typeof doc !== 'object' || doc === null || (doc as { version?: unknown }).version !== VERSION) throw new Error('not a version-1 inbox file');
  const list = (doc as { messages?: unknown }).messages;
  if (!Array.isArray(list) || !list.every(isStored)) throw new Error('invalid message entry');
  return list.map((m) => {
    const ev: MessageEvent = { peer: m.peer, addr: m.addr, reliable: m.reliable, encrypted: m.encrypted, receivedAt: new Date(m.receivedAt), data: new Uint8Array(Buffer.from(m.data, 'base64')) };
    if (m.name !== undefined) ev.name = m.name;
    return ev;
  });
}

/** Writes the inbox durably; an empty inbox removes the file. */
export function writeInboxFile(home: string, events: readonly MessageEvent[]): void {
  const file = inboxPath(home);
  if (events.length === 0) {
    fs.rmSync(file, { force: true });
    return;
  }
  writeFileAtomic(file, encodeInbox(events));
}

/**
 * Reads the inbox a clean stop left (empty when none). An unreadable file is renamed to
 * `inbox.json.corrupt` and reported through `onCorrupt`.
 */
export function readInboxFile(home: string, onCorrupt: (why: string) => void): MessageEvent[] {
  const file = inboxPath(home);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  try {
    return decodeInbox(bytes);
  } catch (e) {
    fs.renameSync(file, `${file}.corrupt`);
    onCorrupt(e instanceof SyntaxError ? 'not valid JSON' : e instanceof Error ? e.message : 'unreadable');
    return [];
  }
}
