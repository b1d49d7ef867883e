/**
 * One process per home (SPEC §5): the daemon and an in-process node (createNode({home})) both
 * hold home/daemon.lock while they use the home. The lock file is created complete (temp file
 * linked into place) and names its holder:
 *
 *   <pid>
 *   kind=<daemon|node>
 *   start=<process start time in clock ticks since boot, Linux only>
 *
 * A lock whose pid is dead, or alive but started at another time (the pid was reused), is
 * stale and taken over; a live holder makes acquire() throw ERR_HOME_LOCKED naming the home
 * and the pid. A second acquire in the same process is refused too.
 */
import * as nodeFsModule from 'node:fs';
import * as path from 'node:path';
import { UdpVaultError } from '../errors';
import { tempPathFor, unlinkQuietly, writeTemp } from './atomic-file';
import { errnoOf, nodeFs, type FileSystem } from './fs';

export type LockHolderKind = 'daemon' | 'node';

export interface LockHolder {
  pid: number;
  kind: LockHolderKind | null;
  /** Start time of the process (clock ticks since boot); null when unknown. */
  start: string | null;
}

export interface HomeLockOptions {
  /** Who takes the lock; named in the refusal another process gets (default 'daemon'). */
  kind?: LockHolderKind;
  fs?: FileSystem;
  /** Whether a pid is a live process (default: process.kill(pid, 0)). */
  isAlive?: (pid: number) => boolean;
  /** A process's start time, to recognise a reused pid (default: /proc/<pid>/stat on Linux, else null). */
  startTimeOf?: (pid: number) => string | null;
}

/** Lock files held by this process. */
const heldHere = new Map<string, LockHolder>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces). */
export function procStartTime(pid: number): string | null {
  try {
    const stat = nodeFsModule.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = fields[19];
    return v !== undefined && /^\d+$/.test(v) ? v : null;
  } catch {
    return null;
  }
}

export function formatHolder(h: LockHolder): string {
  return `${h.pid}\n${h.kind ? `kind=${h.kind}\n` : ''}${h.start ? `start=${h.start}\n` : ''}`;
}

/** Parses a lock file; null when it names no valid pid (garbage, empty: stale). */
export function parseHolder(text: string): LockHolder | null {
  const [first, ...rest] = text.split('\n');
  const pid = Number((first ?? '').trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  let kind: LockHolderKind | null = null;
  let start: string | null = null;
  for (const line of rest) {
    if (line === 'kind=daemon' || line === 'kind=node') kind = line.slice(5) as LockHolderKind;
    else if (/^start=\d+$/.test(line)) start = line.slice(6);
  }
  return { pid, kind, start };
}

export class HomeLock {
  readonly #file: string;
  readonly #fs: FileSystem;
  readonly #content: string;
  #released = false;

  private constructor(file: string, fs: FileSystem, content: string) {
    this.#file = file;
    this.#fs = fs;
    this.#content = content;
  }

  static acquire(paths: { home: string; lock: string }, opts: HomeLockOptions = {}): HomeLock {
    const fs = opts.fs ?? nodeFs;
    const alive = opts.isAlive ?? pidAlive;
    const startOf = opts.startTimeOf ?? procStartTime;
    const file = paths.lock;
    const me: LockHolder = { pid: process.pid, kind: opts.kind ?? 'daemon', start: startOf(process.pid) };
    const content = formatHolder(me);
    for (let attempt = 0; attempt < 5; attempt++) {
      const here = heldHere.get(file);
      if (here) throw locked(paths.home, here);
      if (createComplete(fs, file, content)) {
        heldHere.set(file, me);
        return new HomeLock(file, fs, content);
      }
      const text = readText(fs, file);
      if (text === null) continue; // removed meanwhile: try again
      const holder = parseHolder(text);
      if (holder && holder.pid !== process.pid && alive(holder.pid)) {
        const now = holder.start === null ? null : startOf(holder.pid);
        if (now === null || now === holder.start) throw locked(paths.home, holder);
      }
      takeOverStale(fs, file, text);
    }
    throw new UdpVaultError('ERR_HOME_LOCKED', `cannot take the lock ${file} of home ${paths.home}; remove it if no udpvault process uses this home`);
  }

  get file(): string {
    return this.#file;
  }

  /** Removes the lock file if it is still ours (durably). Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    heldHere.delete(this.#file);
    if (readText(this.#fs, this.#file) !== this.#content) return;
    try {
      this.#fs.unlink(this.#file);
      this.#fs.fsyncDir(path.dirname(this.#file));
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw e;
    }
  }
}

function locked(home: string, holder: LockHolder): UdpVaultError {
  return new UdpVaultError(
    'ERR_HOME_LOCKED',
    `another udpvault ${holder.kind ?? 'process'} (pid ${holder.pid}) is already running with home ${home}; stop it first or start this one with another --home`,
  );
}

function readText(fs: FileSystem, file: string): string | null {
  try {
    return fs.readFile(file).toString('utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return null;
    throw e;
  }
}

/** Creates `file` with `content` only if it does not exist, never half-written; false when it exists. */
function createComplete(fs: FileSystem, file: string, content: string): boolean {
  const tmp = writeTemp(file, Buffer.from(content), { fs });
  try {
    fs.link(tmp, file);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    return createExclusive(fs, file, content); // a filesystem without hard links
  } finally {
    unlinkQuietly(fs, tmp);
  }
  fs.fsyncDir(path.dirname(file));
  return true;
}

function createExclusive(fs: FileSystem, file: string, content: string): boolean {
  let fd: number;
  try {
    fd = fs.open(file, 'wx', 0o600);
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.write(fd, Buffer.from(content));
    fs.fsync(fd);
  } finally {
    fs.close(fd);
  }
  fs.fsyncDir(path.dirname(file));
  return true;
}

/**
 * Removes a stale lock without removing a fresh one another process made meanwhile: the lock
 * is renamed aside, and if what was moved is not the stale content judged, it is put back.
 */
function takeOverStale(fs: FileSystem, file: string, staleText: string): void {
  const aside = tempPathFor(file);
  try {
    fs.rename(file, aside);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return;
    throw e;
  }
  if (readText(fs, aside) !== staleText) {
    try {
      fs.link(aside, file);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw e;
    }
  }
  unlinkQuietly(fs, aside);
}
