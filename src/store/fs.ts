/**
 * The filesystem seam of the store: the few calls durable state needs, synchronous except
 * `fsyncAsync` (the journal's grouped fsync runs on the thread pool). `nodeFs` is the real
 * node:fs implementation; `FakeFs` (fake-fs.ts) records every call and models what survives a
 * crash, so a test can prove the ORDER data → fsync → rename → directory fsync, which kill -9
 * cannot show (the page cache survives it).
 */
import * as fs from 'node:fs';

export type OpenFlags = 'r' | 'wx' | 'a';

export interface FileStat {
  /** Permission bits and type bits, as fs.Stats.mode. */
  readonly mode: number;
  readonly size: number;
  readonly isDirectory: boolean;
}

export interface FileSystem {
  /** 'r' read only; 'wx' create exclusively (EEXIST when present); 'a' append, created when missing. */
  open(file: string, flags: OpenFlags, mode?: number): number;
  close(fd: number): void;
  /** Writes all of `data` (at the end for 'a', else at the current position). */
  write(fd: number, data: Uint8Array): void;
  /** The whole content of an open file, into a fresh Buffer (never a string). */
  readAll(fd: number): Buffer;
  fstat(fd: number): FileStat;
  fsync(fd: number): void;
  /** fsync on the thread pool; resolves once the data is on stable storage. */
  fsyncAsync(fd: number): Promise<void>;
  /** ftruncate. */
  truncate(fd: number, length: number): void;
  rename(from: string, to: string): void;
  /** Hard link (EEXIST when `to` exists): an exclusive create of complete content. */
  link(from: string, to: string): void;
  unlink(file: string): void;
  /** fsync of a directory, so that entries created, renamed or removed in it are durable. */
  fsyncDir(dir: string): void;
  readdir(dir: string): string[];
  readFile(file: string): Buffer;
  stat(file: string): FileStat;
  /** mkdir -p with `mode` for the directories it creates. */
  mkdir(dir: string, mode: number): void;
}

const FLAGS: Record<OpenFlags, number> = {
  r: fs.constants.O_RDONLY,
  wx: fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL,
  a: fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND,
};

const toStat = (s: fs.Stats): FileStat => ({ mode: s.mode, size: s.size, isDirectory: s.isDirectory() });

/** Errors a directory fsync may legitimately give on some platforms/filesystems (the rename stays atomic). */
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'ENOTSUP']);

export const nodeFs: FileSystem = {
  open: (file, flags, mode = 0o600) => fs.openSync(file, FLAGS[flags], mode),
  close: (fd) => fs.closeSync(fd),
  write(fd, data) {
    let off = 0;
    while (off < data.byteLength) off += fs.writeSync(fd, data, off, data.byteLength - off);
  },
  readAll(fd) {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  },
  fstat: (fd) => toStat(fs.fstatSync(fd)),
  fsync: (fd) => fs.fsyncSync(fd),
  fsyncAsync: (fd) => new Promise((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve()))),
  truncate: (fd, length) => fs.ftruncateSync(fd, length),
  rename: (from, to) => fs.renameSync(from, to),
  link: (from, to) => fs.linkSync(from, to),
  unlink: (file) => fs.unlinkSync(file),
  fsyncDir(dir) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(dir, 'r');
      fs.fsyncSync(fd);
    } catch (e) {
      if (!DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  },
  readdir: (dir) => fs.readdirSync(dir),
  readFile: (file) => fs.readFileSync(file),
  stat: (file) => toStat(fs.statSync(file)),
  mkdir: (dir, mode) => void fs.mkdirSync(dir, { recursive: true, mode }),
};

/** The errno code of a filesystem error ('' when it has none). */
export const errnoOf = (e: unknown): string => (e as NodeJS.ErrnoException | null)?.code ?? '';
