/**
 * An in-memory FileSystem for tests that records every call and models durability the way
 * POSIX promises it: file data survives a crash only once fsync'd, a directory entry (create,
 * rename, unlink) only once its directory is fsync'd. `crash()` returns the filesystem a
 * machine would find after power loss; `killAt(n)` makes the n-th next call die before it
 * acts (a process killed at that point), so tests can crash between any two steps.
 * Directories are durable when created (a simplification: the store never creates them on a
 * hot path).
 */
import * as path from 'node:path';
import type { FileStat, FileSystem, OpenFlags } from './fs';

export type FsOp =
  | { op: 'open'; path: string; flags: OpenFlags }
  | { op: 'close'; path: string }
  | { op: 'write'; path: string; bytes: number }
  | { op: 'read'; path: string }
  | { op: 'fsync'; path: string; async: boolean }
  | { op: 'truncate'; path: string; length: number }
  | { op: 'rename'; from: string; to: string }
  | { op: 'link'; from: string; to: string }
  | { op: 'unlink'; path: string }
  | { op: 'fsyncDir'; path: string }
  | { op: 'readdir'; path: string }
  | { op: 'readFile'; path: string }
  | { op: 'stat'; path: string }
  | { op: 'mkdir'; path: string };

/** Thrown by the call `killAt` chose: the simulated process died before that call acted. */
export class SimulatedCrash extends Error {
  constructor(readonly at: FsOp['op']) {
    super(`simulated crash at ${at}`);
    this.name = 'SimulatedCrash';
  }
}

interface FileNode {
  kind: 'file';
  data: Buffer;
  /** Content as of the last fsync (null: never fsync'd, empty after a crash). */
  synced: Buffer | null;
  mode: number;
}
interface DirNode {
  kind: 'dir';
  entries: Map<string, Node>;
  /** Entries as of the last fsync of this directory. */
  synced: Map<string, Node>;
  mode: number;
}
type Node = FileNode | DirNode;

interface OpenFile {
  node: FileNode;
  path: string;
  flags: OpenFlags;
  pos: number;
}

/** What a crash keeps of what was never fsync'd. */
export interface CrashOptions {
  /** 'lose' (default): only fsync'd data; 'keep': all written data (kill -9); 'torn': fsync'd data + half of what was appended after it. */
  data?: 'lose' | 'keep' | 'torn';
  /** 'lose' (default): only entries of fsync'd directories; 'keep': every entry. */
  entries?: 'lose' | 'keep';
}

function errno(code: string, syscall: string, p: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: ${syscall} '${p}'`);
  e.code = code;
  e.syscall = syscall;
  e.path = p;
  return e;
}

export class FakeFs implements FileSystem {
  readonly ops: FsOp[] = [];
  #root: DirNode = { kind: 'dir', entries: new Map(), synced: new Map(), mode: 0o755 };
  #fds = new Map<number, OpenFile>();
  #nextFd = 100;
  #killIn = -1;
  #failures: { op: FsOp['op']; code: string }[] = [];
  #heldFsyncs: { node: FileNode; resolve: () => void }[] = [];
  /** When true, fsyncAsync waits for releaseFsyncs() (a crash can happen in between). */
  holdFsyncs = false;

  /** The n-th next call (0 = the very next) throws SimulatedCrash without acting; every later call too. */
  killAt(n: number): void {
    this.#killIn = n;
  }

  /** The next call of `op` fails with errno `code` (ENOSPC, EIO …) without acting. */
  failNext(op: FsOp['op'], code: string): void {
    this.#failures.push({ op, code });
  }

  /** Completes the held fsyncs; returns how many. */
  releaseFsyncs(): number {
    const held = this.#heldFsyncs.splice(0);
    for (const h of held) {
      h.node.synced = Buffer.from(h.node.data);
      h.resolve();
    }
    return held.length;
  }

  /** The filesystem found after power loss now (open files and held fsyncs are gone). */
  crash(opts: CrashOptions = {}): FakeFs {
    const out = new FakeFs();
    const seen = new Map<Node, Node>();
    const copy = (n: Node): Node => {
      const done = seen.get(n);
      if (done) return done;
      if (n.kind === 'file') {
        const synced = n.synced ?? Buffer.alloc(0);
        let data: Buffer;
        if (opts.data === 'keep') data = Buffer.from(n.data);
        else if (opts.data === 'torn' && n.data.length > synced.length && n.data.subarray(0, synced.length).equals(synced)) {
          data = Buffer.from(n.data.subarray(0, synced.length + Math.floor((n.data.length - synced.length) / 2)));
        } else data = Buffer.from(synced);
        const f: FileNode = { kind: 'file', data, synced: Buffer.from(data), mode: n.mode };
        seen.set(n, f);
        return f;
      }
      const d: DirNode = { kind: 'dir', entries: new Map(), synced: new Map(), mode: n.mode };
      seen.set(n, d);
      for (const [name, child] of opts.entries === 'keep' ? n.entries : n.synced) d.entries.set(name, copy(child));
      d.synced = new Map(d.entries);
      return d;
    };
    out.#root = copy(this.#root) as DirNode;
    return out;
  }

  /** Test helper: content of a file (no op recorded). */
  peek(file: string): Buffer | undefined {
    const n = this.#lookup(file);
    return n?.kind === 'file' ? Buffer.from(n.data) : undefined;
  }

  /** Test helper: creates or replaces a file, durably (no op recorded). */
  put(file: string, data: string | Uint8Array, mode = 0o600): void {
    const { dir, name } = this.#parent(file, 'put');
    const buf = Buffer.from(data);
    const f: FileNode = { kind: 'file', data: buf, synced: Buffer.from(buf), mode };
    dir.entries.set(name, f);
    dir.synced.set(name, f);
  }

  /** Test helper: chmod (no op recorded). */
  chmod(file: string, mode: number): void {
    const n = this.#lookup(file);
    if (!n) throw errno('ENOENT', 'chmod', file);
    n.mode = mode;
  }

  #step(op: FsOp): void {
    if (this.#killIn === 0) throw new SimulatedCrash(op.op);
    if (this.#killIn > 0) this.#killIn--;
    const i = this.#failures.findIndex((f) => f.op === op.op);
    if (i >= 0) {
      const [f] = this.#failures.splice(i, 1);
      throw errno(f!.code, op.op, 'path' in op ? op.path : op.from);
    }
    this.ops.push(op);
  }

  #lookup(p: string): Node | undefined {
    const parts = path.posix.normalize(p).split('/').filter(Boolean);
    let n: Node = this.#root;
    for (const part of parts) {
      if (n.kind !== 'dir') return undefined;
      const next = n.entries.get(part);
      if (!next) return undefined;
      n = next;
    }
    return n;
  }

  #parent(p: string, syscall: string): { dir: DirNode; name: string } {
    const norm = path.posix.normalize(p);
    const d = this.#lookup(path.posix.dirname(norm));
    if (!d) throw errno('ENOENT', syscall, p);
    if (d.kind !== 'dir') throw errno('ENOTDIR', syscall, p);
    return { dir: d, name: path.posix.basename(norm) };
  }

  #file(p: string, syscall: string): FileNode {
    const n = this.#lookup(p);
    if (!n) throw errno('ENOENT', syscall, p);
    if (n.kind !== 'file') throw errno('EISDIR', syscall, p);
    return n;
  }

  #fd(fd: number, syscall: string): OpenFile {
    const f = this.#fds.get(fd);
    if (!f) throw errno('EBADF', syscall, String(fd));
    return f;
  }

  #stat(n: Node): FileStat {
    return n.kind === 'file' ? { mode: 0o100000 | n.mode, size: n.data.length, isDirectory: false } : { mode: 0o040000 | n.mode, size: 0, isDirectory: true };
  }

  open(file: string, flags: OpenFlags, mode = 0o600): number {
    this.#step({ op: 'open', path: file, flags });
    const { dir, name } = this.#parent(file, 'open');
    let node = dir.entries.get(name);
    if (node && flags === 'wx') throw errno('EEXIST', 'open', file);
    if (!node) {
      if (flags === 'r') throw errno('ENOENT', 'open', file);
      node = { kind: 'file', data: Buffer.alloc(0), synced: null, mode: mode & 0o777 };
      dir.entries.set(name, node);
    }
    if (node.kind !== 'file') throw errno('EISDIR', 'open', file);
    const fd = this.#nextFd++;
    this.#fds.set(fd, { node, path: file, flags, pos: 0 });
    return fd;
  }

  close(fd: number): void {
    const f = this.#fd(fd, 'close');
    this.#step({ op: 'close', path: f.path });
    this.#fds.delete(fd);
  }

  write(fd: number, data: Uint8Array): void {
    const f = this.#fd(fd, 'write');
    if (f.flags === 'r') throw errno('EBADF', 'write', f.path);
    this.#step({ op: 'write', path: f.path, bytes: data.byteLength });
    const at = f.flags === 'a' ? f.node.data.length : f.pos;
    const end = at + data.byteLength;
    const next = Buffer.alloc(Math.max(end, f.node.data.length));
    f.node.data.copy(next);
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(next, at);
    f.node.data = next;
    f.pos = end;
  }

  readAll(fd: number): Buffer {
    const f = this.#fd(fd, 'read');
    this.#step({ op: 'read', path: f.path });
    return Buffer.from(f.node.data);
  }

  fstat(fd: number): FileStat {
    return this.#stat(this.#fd(fd, 'fstat').node);
  }

  fsync(fd: number): void {
    const f = this.#fd(fd, 'fsync');
    this.#step({ op: 'fsync', path: f.path, async: false });
    f.node.synced = Buffer.from(f.node.data);
  }

  fsyncAsync(fd: number): Promise<void> {
    const f = this.#fd(fd, 'fsync');
    try {
      this.#step({ op: 'fsync', path: f.path, async: true });
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve) => {
      if (this.holdFsyncs) this.#heldFsyncs.push({ node: f.node, resolve });
      else {
        f.node.synced = Buffer.from(f.node.data);
        resolve();
      }
    });
  }

  truncate(fd: number, length: number): void {
    const f = this.#fd(fd, 'truncate');
    this.#step({ op: 'truncate', path: f.path, length });
    const next = Buffer.alloc(length);
    f.node.data.copy(next, 0, 0, Math.min(length, f.node.data.length));
    f.node.data = next;
  }

  rename(from: string, to: string): void {
    this.#step({ op: 'rename', from, to });
    const src = this.#parent(from, 'rename');
    const node = src.dir.entries.get(src.name);
    if (!node) throw errno('ENOENT', 'rename', from);
    const dst = this.#parent(to, 'rename');
    src.dir.entries.delete(src.name);
    dst.dir.entries.set(dst.name, node);
  }

  link(from: string, to: string): void {
    this.#step({ op: 'link', from, to });
    const node = this.#file(from, 'link');
    const dst = this.#parent(to, 'link');
    if (dst.dir.entries.has(dst.name)) throw errno('EEXIST', 'link', to);
    dst.dir.entries.set(dst.name, node);
  }

  unlink(file: string): void {
    this.#step({ op: 'unlink', path: file });
    const { dir, name } = this.#parent(file, 'unlink');
    const n = dir.entries.get(name);
    if (!n) throw errno('ENOENT', 'unlink', file);
    if (n.kind === 'dir') throw errno('EISDIR', 'unlink', file);
    dir.entries.delete(name);
  }

  fsyncDir(dir: string): void {
    this.#step({ op: 'fsyncDir', path: dir });
    const d = this.#lookup(dir);
    if (!d) throw errno('ENOENT', 'open', dir);
    if (d.kind !== 'dir') throw errno('ENOTDIR', 'fsync', dir);
    d.synced = new Map(d.entries);
  }

  readdir(dir: string): string[] {
    this.#step({ op: 'readdir', path: dir });
    const d = this.#lookup(dir);
    if (!d) throw errno('ENOENT', 'scandir', dir);
    if (d.kind !== 'dir') throw errno('ENOTDIR', 'scandir', dir);
    return [...d.entries.keys()].sort();
  }

  readFile(file: string): Buffer {
    this.#step({ op: 'readFile', path: file });
    return Buffer.from(this.#file(file, 'open').data);
  }

  stat(file: string): FileStat {
    this.#step({ op: 'stat', path: file });
    const n = this.#lookup(file);
    if (!n) throw errno('ENOENT', 'stat', file);
    return this.#stat(n);
  }

  mkdir(dir: string, mode: number): void {
    this.#step({ op: 'mkdir', path: dir });
    let n: DirNode = this.#root;
    for (const part of path.posix.normalize(dir).split('/').filter(Boolean)) {
      const next = n.entries.get(part);
      if (next && next.kind !== 'dir') throw errno('EEXIST', 'mkdir', dir);
      if (next) {
        n = next;
        continue;
      }
      const d: DirNode = { kind: 'dir', entries: new Map(), synced: new Map(), mode: mode & 0o777 };
      n.entries.set(part, d);
      n.synced.set(part, d);
      n = d;
    }
  }
}
