/**
 * The instance's home directory (SPEC §1, §5): where it is, what is inside and its creation
 * (mode 0700). The lock that keeps a second process off it is home-lock.ts.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError } from '../errors';
import { errnoOf, nodeFs, type FileSystem } from './fs';

export interface HomePaths {
  home: string;
  /** Ed25519 identity key file (mode 0600). */
  identity: string;
  /** Peer store (atomic JSON, hand-editable). */
  peers: string;
  /** Append-only journal of daemon-owned state (journal.ts). */
  journal: string;
  /** The journal's compacted snapshot (atomic). */
  journalSnapshot: string;
  /** Control socket (Unix domain socket, mode 0600). */
  control: string;
  /** Lock file holding the pid of the process using the home (daemon or in-process node). */
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
    journal: path.join(home, 'state.journal'),
    journalSnapshot: path.join(home, 'state.snapshot'),
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
export function ensureHome(home: string, fs: FileSystem = nodeFs): HomePaths {
  try {
    fs.mkdir(home, 0o700);
  } catch (e) {
    const code = errnoOf(e) || 'error';
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new BadInputError('ERR_BAD_ARGUMENT', `--home ${home}: exists and is not a directory`);
    throw new BadInputError('ERR_BAD_ARGUMENT', `--home ${home}: cannot create the home directory (${code})`);
  }
  if (!fs.stat(home).isDirectory) {
    throw new BadInputError('ERR_BAD_ARGUMENT', `--home ${home}: exists and is not a directory`);
  }
  return homePaths(home);
}
