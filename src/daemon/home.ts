/**
 * The instance's home directory (SPEC §1, §5): where it is, what is inside, its creation
 * (mode 0700) and the lock that keeps a second daemon off the same home.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError, UdpVaultError } from '../errors';

export interface HomePaths {
  home: string;
  /** Ed25519 identity key file (mode 0600). */
  identity: string;
  /** Peer store (atomic JSON). */
  peers: string;
  /** Control socket (Unix domain socket, mode 0600). */
  control: string;
  /** Lock file holding the running daemon's pid. */
  lock: string;
}

/** Longest Unix socket path (sun_path is 108 bytes on Linux, 104 on macOS, minus the NUL). */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

/** --home, else $UDPVAULT_HOME, else ~/.udpvault; returned absolute. */
export function resolveHome(flag?: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (flag !== undefined && flag.trim() === '') throw new BadInputError('ERR_BAD_ARGUMENT', '--home: expected a directory path, got an empty string');
  const raw = flag ?? (env.UDPVAULT_HOME ? env.UDPVAULT_HOME : path.join(os.homedir(), '.udpvault'));
  const expanded = raw === '~' || raw.startsWith('~/') ? path.join(os.homedir(), raw.slice(1)) : raw;
  return path.resolve(expanded);
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    identity: path.join(home, 'identity.key'),
    peers: path.join(home, 'peers.json'),
    control: path.join(home, 'control.sock'),
    lock: path.join(home, 'daemon.lock'),
  };
}

/** Throws when the control socket path would not fit in a sockaddr_un. */
export function checkSocketPath(paths: HomePaths): void {
  const n = Buffer.byteLength(paths.control);
  if (n > MAX_SOCKET_PATH) {
    throw new BadInputError(
      'ERR_BAD_ARGUMENT',
      `--home ${paths.home}: path too long for the control socket (${n} bytes, at most ${MAX_SOCKET_PATH}); choose a shorter home`,
    );
  }
}

/** Creates the home (mode 0700) when missing; returns its paths. */
export function ensureHome(home: string): HomePaths {
  try {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new BadInputError('ERR_BAD_ARGUMENT', `--home ${home}: exists and is not a directory`);
    throw new BadInputError('ERR_BAD_ARGUMENT', `--home ${home}: cannot create the home directory (${code})`);
  }
  if (!fs.statSync(home).isDirectory()) {
    throw new BadInputError('ERR_BAD_ARGUMENT', `--home ${home}: exists and is not a directory`);
  }
  return homePaths(home);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Locks held by this process (a second daemon in the same process is refused too). */
const heldHere = new Set<string>();

/** Writes `content` to `file` only if it does not exist, atomically (no half-written lock). */
function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    // Filesystem without hard links: exclusive create (a tiny window where the file is empty).
    try {
      fs.writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The daemon's exclusive hold on a home. Stale locks (a killed daemon) are taken over. */
export class HomeLock {
  readonly #file: string;
  #released = false;

  private constructor(file: string) {
    this.#file = file;
  }

  static acquire(paths: HomePaths): HomeLock {
    const file = paths.lock;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!heldHere.has(file) && createExclusive(file, `${process.pid}\n`)) {
        heldHere.add(file);
        return new HomeLock(file);
      }
      const pid = readPid(file);
      const live = heldHere.has(file) || (pid !== null && pid !== process.pid && processAlive(pid));
      if (live) {
        const who = pid !== null ? ` (pid ${pid})` : '';
        throw new UdpVaultError(
          'ERR_HOME_LOCKED',
          `another udpvault daemon${who} is already running with home ${paths.home}; stop it first or start this one with another --home`,
        );
      }
      // Stale: the daemon that wrote it is gone (e.g. kill -9). Remove and retry.
      fs.rmSync(file, { force: true });
    }
    throw new UdpVaultError('ERR_HOME_LOCKED', `cannot take the lock ${file} of home ${paths.home}; remove it if no daemon is running`);
  }

  get file(): string {
    return this.#file;
  }

  /** Removes the lock file (only if it is still ours). Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    heldHere.delete(this.#file);
    if (readPid(this.#file) === process.pid) fs.rmSync(this.#file, { force: true });
  }
}
