/**
 * The hand-editable peer store (SPEC §5): home/peers.json, JSON with one object per peer,
 * written only through the atomic writer (temp file, fsync, rename, fsync of the directory;
 * mode 0600), so `save` is durable when it returns and a control change can be acknowledged
 * after it. A torn or corrupt store is reported and left untouched, never silently replaced.
 * Fields a hand edit leaves out take their defaults (see `withDefaults`). Daemon-owned state
 * that changes often (handshake high-water marks, TOFU keys, epochs) goes to the journal
 * (journal.ts), never here, so the daemon does not race a hand edit.
 */
import { createHash } from 'node:crypto';
import { UdpVaultError } from '../errors';
import { isKeyString } from '../crypto/identity';
import { writeFileAtomic } from './atomic-file';
import { errnoOf, nodeFs, type FileSystem } from './fs';

export interface StoredPeer {
  key: string | null;
  name: string | null;
  endpoint: string;
  compat: 'vault-v2' | null;
  allowPlaintext: boolean;
  trust: 'pinned' | 'tofu' | 'unknown';
  /** Last accepted signed handshake timestamp (ms since the epoch); persisted for replay protection. */
  lastHandshakeTs: number | null;
  /** ISO 8601 time of the last completed handshake. */
  lastHandshakeAt: string | null;
}

export const STORE_VERSION = 1;

interface StoreFile {
  version: number;
  peers: StoredPeer[];
}

const TRUSTS = ['pinned', 'tofu', 'unknown'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns null when valid, else what is wrong (no values, only field names). */
export function validatePeer(p: unknown, i: number): string | null {
  const at = `peers[${i}]`;
  if (!isObject(p)) return `${at} is not an object`;
  if (p.key !== null && (typeof p.key !== 'string' || !isKeyString(p.key))) return `${at}.key is not a key string or null`;
  if (p.name !== null && (typeof p.name !== 'string' || p.name.length === 0)) return `${at}.name is not a non-empty string or null`;
  if (typeof p.endpoint !== 'string' || p.endpoint.length === 0) return `${at}.endpoint is not a non-empty string`;
  if (p.compat !== null && p.compat !== 'vault-v2') return `${at}.compat is not "vault-v2" or null`;
  if (typeof p.allowPlaintext !== 'boolean') return `${at}.allowPlaintext is not a boolean`;
  if (typeof p.trust !== 'string' || !(TRUSTS as readonly string[]).includes(p.trust)) return `${at}.trust is not one of ${TRUSTS.join(', ')}`;
  if ((p.trust === 'unknown') !== (p.key === null)) return `${at}.trust does not match its key (trust "unknown" exactly when key is null)`;
  if (p.lastHandshakeTs !== null && !(typeof p.lastHandshakeTs === 'number' && Number.isSafeInteger(p.lastHandshakeTs) && p.lastHandshakeTs >= 0)) {
    return `${at}.lastHandshakeTs is not a non-negative integer or null`;
  }
  if (p.lastHandshakeAt !== null && (typeof p.lastHandshakeAt !== 'string' || Number.isNaN(Date.parse(p.lastHandshakeAt)))) {
    return `${at}.lastHandshakeAt is not an ISO 8601 time or null`;
  }
  return null;
}

function validateAll(peers: readonly unknown[]): string | null {
  const keys = new Set<string>();
  const names = new Set<string>();
  for (let i = 0; i < peers.length; i++) {
    const why = validatePeer(peers[i], i);
    if (why) return why;
    const p = peers[i] as StoredPeer;
    if (p.key !== null) {
      if (keys.has(p.key)) return `peers[${i}].key appears twice`;
      keys.add(p.key);
    }
    if (p.name !== null) {
      if (names.has(p.name)) return `peers[${i}].name appears twice`;
      names.add(p.name);
    }
  }
  return null;
}

/**
 * A hand-written entry may leave out everything but `endpoint`: key and name → null, compat →
 * null, allowPlaintext → false, trust → "pinned" with a key and "unknown" without one, the
 * handshake times → null. Fields present keep their value (and are validated as they are).
 */
function withDefaults(p: unknown): unknown {
  if (!isObject(p)) return p;
  const key = p.key === undefined ? null : p.key;
  return {
    key,
    name: p.name === undefined ? null : p.name,
    endpoint: p.endpoint,
    compat: p.compat === undefined ? null : p.compat,
    allowPlaintext: p.allowPlaintext === undefined ? false : p.allowPlaintext,
    trust: p.trust === undefined ? (key === null ? 'unknown' : 'pinned') : p.trust,
    lastHandshakeTs: p.lastHandshakeTs === undefined ? null : p.lastHandshakeTs,
    lastHandshakeAt: p.lastHandshakeAt === undefined ? null : p.lastHandshakeAt,
  };
}

function pick(p: StoredPeer): StoredPeer {
  return {
    key: p.key,
    name: p.name,
    endpoint: p.endpoint,
    compat: p.compat,
    allowPlaintext: p.allowPlaintext,
    trust: p.trust,
    lastHandshakeTs: p.lastHandshakeTs,
    lastHandshakeAt: p.lastHandshakeAt,
  };
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

export class PeerStore {
  readonly #file: string;
  readonly #fs: FileSystem;
  /** Digest of the content this store last loaded or saved ('' = the file was missing); null before either. */
  #known: string | null = null;

  constructor(file: string, fs: FileSystem = nodeFs) {
    this.#file = file;
    this.#fs = fs;
  }

  get file(): string {
    return this.#file;
  }

  #corrupt(why: string): UdpVaultError {
    const f = this.#file;
    return new UdpVaultError(
      'ERR_STORE_CORRUPT',
      `peer store ${f} is corrupt (${why}); it was left untouched. ` +
        `Repair it, or move it away (mv ${f} ${f}.bad) and add the peers again with "udpvault peer add", then restart`,
    );
  }

  /** Missing file → []. Torn, corrupt or invalid → throws ERR_STORE_CORRUPT; the file is not modified. */
  load(): StoredPeer[] {
    let text: string;
    try {
      text = this.#fs.readFile(this.#file).toString('utf8');
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT') {
        this.#known = '';
        return [];
      }
      throw new UdpVaultError('ERR_STORE_CORRUPT', `cannot read peer store ${this.#file} (${code || 'error'}); it was left untouched`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw this.#corrupt(text.length === 0 ? 'the file is empty' : 'not valid JSON: the file is torn or was edited badly');
    }
    if (!isObject(data)) throw this.#corrupt('not a JSON object');
    if (data.version !== STORE_VERSION) throw this.#corrupt(`unsupported version ${JSON.stringify(data.version) ?? 'missing'}, expected ${STORE_VERSION}`);
    if (!Array.isArray(data.peers)) throw this.#corrupt('"peers" is not an array');
    const peers = data.peers.map(withDefaults);
    const why = validateAll(peers);
    if (why) throw this.#corrupt(why);
    this.#known = digest(text);
    return (peers as StoredPeer[]).map(pick);
  }

  /**
   * Replaces the store atomically; durable (file and directory fsync'd) when it returns, so a
   * change can be acknowledged right after. Invalid records are refused (ERR_BAD_ARGUMENT)
   * and the store is left as it was.
   */
  save(peers: readonly StoredPeer[]): void {
    const why = validateAll(peers);
    if (why) throw new UdpVaultError('ERR_BAD_ARGUMENT', `refusing to save an invalid peer store: ${why}`);
    const body: StoreFile = { version: STORE_VERSION, peers: peers.map(pick) };
    const text = `${JSON.stringify(body, null, 2)}\n`;
    writeFileAtomic(this.#file, Buffer.from(text), { fs: this.#fs });
    this.#known = digest(text);
  }

  /**
   * Whether the file differs from what this store last loaded or saved: a hand edit not yet
   * reloaded, which a save would overwrite. True before the first load or save.
   */
  changedOnDisk(): boolean {
    let now: string;
    try {
      now = digest(this.#fs.readFile(this.#file).toString('utf8'));
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') return true;
      now = '';
    }
    return now !== this.#known;
  }
}
