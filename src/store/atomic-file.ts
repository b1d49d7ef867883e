/**
 * THE atomic writer of the store: temp file in the same directory under a unique name,
 * write, fsync, rename over the target, fsync of the directory. When it returns, the new
 * content is durable and a reader (or a crash at any point) sees either the old file or the
 * new one, never a mix. `cleanupTemps` removes what interrupted writes left behind.
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoOf, nodeFs, type FileSystem } from './fs';

const TEMP_SUFFIX = '.uvtmp';
/** `.<target>.<pid>.<random hex>.uvtmp` */
const TEMP_RE = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.uvtmp$/;
/** Temp names written by earlier versions (peer store, lock, identity file). */
const LEGACY_RE = [/^\.peers\.json\.(\d+)\.[0-9a-z]+\.tmp$/, /^daemon\.lock\.(\d+)\.[0-9a-z]+\.tmp$/, /^identity\.key\.tmp-(\d+)$/];

export interface AtomicWriteOptions {
  /** Mode of the new file (default 0600). */
  mode?: number;
  fs?: FileSystem;
}

/** The temp name used for `file` by this process. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

/**
 * Writes `data` to a new temp file and fsyncs it, without touching `file` yet; returns the
 * temp path. The caller renames (writeFileAtomic) or links (an exclusive create) it.
 */
export function writeTemp(file: string, data: Uint8Array, opts: AtomicWriteOptions = {}): string {
  const fs = opts.fs ?? nodeFs;
  const tmp = tempPathFor(file);
  const fd = fs.open(tmp, 'wx', opts.mode ?? 0o600);
  try {
    fs.write(fd, data);
    fs.fsync(fd);
  } catch (e) {
    closeQuietly(fs, fd);
    unlinkQuietly(fs, tmp);
    throw e;
  }
  try {
    fs.close(fd);
  } catch (e) {
    unlinkQuietly(fs, tmp);
    throw e;
  }
  return tmp;
}

/** Replaces `file` with `data` atomically and durably (file and directory fsync'd) before returning. */
export function writeFileAtomic(file: string, data: Uint8Array, opts: AtomicWriteOptions = {}): void {
  const fs = opts.fs ?? nodeFs;
  const tmp = writeTemp(file, data, opts);
  try {
    fs.rename(tmp, file);
  } catch (e) {
    unlinkQuietly(fs, tmp);
    throw e;
  }
  fs.fsyncDir(path.dirname(file));
}

function closeQuietly(fs: FileSystem, fd: number): void {
  try {
    fs.close(fd);
  } catch {
    // already failing: the first error is the one reported
  }
}

export function unlinkQuietly(fs: FileSystem, file: string): void {
  try {
    fs.unlink(file);
  } catch {
    // best effort: cleanupTemps removes it at the next start
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) === 'EPERM';
  }
}

export interface CleanupOptions {
  fs?: FileSystem;
  /** Liveness of the pid a temp name carries (default: process.kill(pid, 0)). */
  isAlive?: (pid: number) => boolean;
}

/**
 * Removes temp files of interrupted atomic writes in `dir`: names this writer (or an earlier
 * version) makes, whose process is this one or no longer alive — a live process's temp may be
 * a write in progress. Other files are never touched. Returns the names removed.
 */
export function cleanupTemps(dir: string, opts: CleanupOptions = {}): string[] {
  const fs = opts.fs ?? nodeFs;
  const alive = opts.isAlive ?? pidAlive;
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return removed;
    throw e;
  }
  for (const name of names) {
    const m = TEMP_RE.exec(name) ?? LEGACY_RE.map((re) => re.exec(name)).find((x) => x !== null);
    if (!m) continue;
    const pid = Number(m[TEMP_RE.test(name) ? 2 : 1]);
    if (pid !== process.pid && alive(pid)) continue;
    try {
      fs.unlink(path.join(dir, name));
      removed.push(name);
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw e;
    }
  }
  if (removed.length > 0) fs.fsyncDir(dir);
  return removed;
}
