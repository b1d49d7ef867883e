/**
 * Noise rev. 34 §5.3 HandshakeState for the two patterns udpvault uses (IK, XX), suite
 * 25519_ChaChaPoly_BLAKE2b. Pure: the ephemeral key comes from an injected Random (or is given,
 * for test vectors). Reads are transactional: a message that fails to authenticate leaves the
 * state as it was, so a forged answer cannot kill a genuine attempt. `destroy()` wipes the
 * ephemeral secret, the chaining key and the cipher key; it runs by itself after `split()` and
 * is idempotent, so callers call it on every other exit path (failure, abandon).
 */
import type { Random } from '../../runtime/random';
import { scrubWasmStack, wipe, x25519, x25519Base } from '../sodium';
import { DHLEN, SymmetricState, TAGLEN } from './symmetric-state';

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';

export interface HandshakePattern {
  readonly name: 'IK' | 'XX';
  /** Pre-message: the responder's static is known to the initiator (IK). */
  readonly responderStaticKnown: boolean;
  readonly messages: readonly (readonly Token[])[];
}

export const IK: HandshakePattern = {
  name: 'IK',
  responderStaticKnown: true,
  messages: [
    ['e', 'es', 's', 'ss'],
    ['e', 'ee', 'se'],
  ],
};

export const XX: HandshakePattern = {
  name: 'XX',
  responderStaticKnown: false,
  messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']],
};

export interface DhKeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

/** Why a handshake message was refused (mapped to drop counters by the caller). */
export class NoiseError extends Error {
  readonly reason: 'malformed' | 'authFailure' | 'state' | 'refused';
  constructor(reason: NoiseError['reason'], message: string) {
    super(message);
    this.name = 'NoiseError';
    this.reason = reason;
  }
}

export const protocolName = (p: HandshakePattern): string => `Noise_${p.name}_25519_ChaChaPoly_BLAKE2b`;

/** A fresh X25519 key pair from 32 injected random bytes (X25519 clamps the scalar). */
export function generateDhKeyPair(random: Random): DhKeyPair {
  const privateKey = random.bytes(DHLEN);
  return { publicKey: x25519Base(privateKey), privateKey };
}

export interface HandshakeOptions {
  pattern: HandshakePattern;
  initiator: boolean;
  prologue: Uint8Array;
  /** Local static X25519 key pair (not wiped by destroy: the caller owns it). */
  s: DhKeyPair;
  /** Remote static public key, required for the IK initiator. */
  rs?: Uint8Array;
  /** The local ephemeral: given (vectors) or generated from `random` when first needed. */
  e?: DhKeyPair;
  random?: Random;
  /** DH(s, rs) computed earlier (a per-peer cache, as wireguard-go's precomputedStaticStatic). */
  staticStatic?: Uint8Array;
}

export interface ReadHooks {
  /**
   * Called as soon as the remote static is decrypted, before any further DH; throw to refuse.
   * May return the cached DH(s, rs) for that peer, which then replaces the `ss` DH.
   */
  onRemoteStatic?: (rs: Uint8Array) => Uint8Array | void;
}

export class HandshakeState {
  readonly pattern: HandshakePattern;
  readonly initiator: boolean;
  #ss: SymmetricState;
  #s: DhKeyPair;
  #e: DhKeyPair | null;
  #rs: Uint8Array | null;
  #re: Uint8Array | null = null;
  #random: Random | undefined;
  #staticStatic: Uint8Array | null;
  #index = 0;
  #destroyed = false;

  constructor(o: HandshakeOptions) {
    if (o.pattern.responderStaticKnown && o.initiator && !o.rs) throw new Error(`noise: ${o.pattern.name} initiator needs rs`);
    this.pattern = o.pattern;
    this.initiator = o.initiator;
    this.#s = o.s;
    this.#e = o.e ?? null;
    this.#rs = o.rs ? o.rs.slice() : null;
    this.#random = o.random;
    this.#staticStatic = o.staticStatic ? o.staticStatic.slice() : null;
    this.#ss = SymmetricState.initialize(protocolName(o.pattern));
    this.#ss.mixHash(o.prologue);
    if (o.pattern.responderStaticKnown) this.#ss.mixHash(o.initiator ? this.#rs! : o.s.publicKey);
  }

  /** Index of the next message of the pattern (0-based). */
  get messageIndex(): number {
    return this.#index;
  }

  get isComplete(): boolean {
    return this.#index >= this.pattern.messages.length;
  }

  /** True when the next message is ours to write. */
  get isMyTurn(): boolean {
    return this.#index % 2 === (this.initiator ? 0 : 1);
  }

  get handshakeHash(): Uint8Array {
    return this.#ss.handshakeHash;
  }

  get remoteStatic(): Uint8Array | null {
    return this.#rs ? this.#rs.slice() : null;
  }

  get remoteEphemeral(): Uint8Array | null {
    return this.#re ? this.#re.slice() : null;
  }

  get localEphemeralPublic(): Uint8Array | null {
    return this.#e ? this.#e.publicKey.slice() : null;
  }

  #check(write: boolean): readonly Token[] {
    if (this.#destroyed) throw new NoiseError('state', 'handshake state destroyed');
    if (this.isComplete) throw new NoiseError('state', 'handshake already complete');
    if (this.isMyTurn !== write) throw new NoiseError('state', write ? 'not our turn to write' : 'not our turn to read');
    return this.pattern.messages[this.#index]!;
  }

  #dh(ss: SymmetricState, token: 'ee' | 'es' | 'se' | 'ss'): void {
    // es: initiator's ephemeral with responder's static; se: initiator's static with responder's ephemeral.
    const localIsE = token === 'ee' || (token === 'es' ? this.initiator : token === 'se' ? !this.initiator : false);
    const remoteIsE = token === 'ee' || (token === 'es' ? !this.initiator : token === 'se' ? this.initiator : false);
    const local = localIsE ? this.#e : this.#s;
    const remote = remoteIsE ? this.#re : this.#rs;
    if (!local || !remote) throw new NoiseError('state', `noise: missing key for ${token}`);
    // The cached static-static DH is read in place (mixKey only reads its input; destroy() wipes it).
    if (token === 'ss' && this.#staticStatic) {
      ss.mixKey(this.#staticStatic);
      return;
    }
    const shared = x25519(local.privateKey, remote);
    if (!shared) throw new NoiseError('malformed', 'low-order public key');
    ss.mixKey(shared);
    wipe(shared);
  }

  /** WriteMessage(payload): returns the Noise message (e ‖ enc(s) ‖ enc(payload)). */
  writeMessage(payload: Uint8Array): Uint8Array {
    const tokens = this.#check(true);
    // e ‖ enc(s) ‖ enc(payload), written straight into the message (no list of parts)
    const out = new Uint8Array(HandshakeState.overhead(this.pattern, this.#index, this.#ss.hasKey()) + payload.length);
    let o = 0;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t === 'e') {
        if (!this.#e) {
          if (!this.#random) throw new Error('noise: no ephemeral and no random source');
          this.#e = generateDhKeyPair(this.#random);
        }
        out.set(this.#e.publicKey, o);
        o += DHLEN;
        this.#ss.mixHash(this.#e.publicKey);
      } else if (t === 's') {
        const c = this.#ss.encryptAndHash(this.#s.publicKey);
        out.set(c, o);
        o += c.length;
      } else {
        this.#dh(this.#ss, t);
      }
    }
    out.set(this.#ss.encryptAndHash(payload), o);
    this.#index++;
    return out;
  }

  /** Bytes of the next message before its payload (for layout checks). */
  static overhead(pattern: HandshakePattern, index: number, hasKeyBefore: boolean): number {
    let n = 0;
    let keyed = hasKeyBefore;
    for (const t of pattern.messages[index]!) {
      if (t === 'e') n += DHLEN;
      else if (t === 's') n += DHLEN + (keyed ? TAGLEN : 0);
      else keyed = true;
    }
    return n + (keyed ? TAGLEN : 0);
  }

  /**
   * ReadMessage(message): returns the payload. Throws NoiseError when the message is malformed
   * or does not authenticate; the state is then exactly as before the call.
   */
  readMessage(message: Uint8Array, hooks: ReadHooks = {}): Uint8Array {
    const tokens = this.#check(false);
    const ss = this.#ss.clone();
    let re = this.#re;
    let rs = this.#rs;
    const savedRe = this.#re;
    const savedRs = this.#rs;
    const savedSs = this.#staticStatic;
    let off = 0;
    try {
      for (const t of tokens) {
        if (t === 'e') {
          if (message.length - off < DHLEN) throw new NoiseError('malformed', 'message too short for e');
          re = message.slice(off, off + DHLEN);
          off += DHLEN;
          ss.mixHash(re);
          this.#re = re;
        } else if (t === 's') {
          const len = DHLEN + (ss.hasKey() ? TAGLEN : 0);
          if (message.length - off < len) throw new NoiseError('malformed', 'message too short for s');
          const dec = ss.decryptAndHash(message.subarray(off, off + len));
          if (!dec) throw new NoiseError('authFailure', 'static key does not decrypt');
          off += len;
          rs = dec;
          this.#rs = rs;
          const cached = hooks.onRemoteStatic ? hooks.onRemoteStatic(rs.slice()) : undefined;
          if (cached) this.#staticStatic = cached.slice();
        } else {
          this.#dh(ss, t);
        }
      }
      const rest = message.subarray(off);
      if (ss.hasKey() && rest.length < TAGLEN) throw new NoiseError('malformed', 'message too short for payload tag');
      const payload = ss.decryptAndHash(rest);
      if (!payload) throw new NoiseError('authFailure', 'payload does not decrypt');
      this.#ss.destroy();
      this.#ss = ss;
      this.#index++;
      return payload;
    } catch (err) {
      ss.destroy();
      this.#re = savedRe;
      this.#rs = savedRs;
      if (this.#staticStatic !== savedSs) {
        if (this.#staticStatic) wipe(this.#staticStatic);
        this.#staticStatic = savedSs;
      }
      throw err;
    }
  }

  /** Split() once the pattern is complete: [sendKey, recvKey] for this side. Then destroys. */
  split(): { sendKey: Uint8Array; recvKey: Uint8Array; handshakeHash: Uint8Array } {
    if (this.#destroyed) throw new NoiseError('state', 'handshake state destroyed');
    if (!this.isComplete) throw new NoiseError('state', 'handshake not complete');
    const handshakeHash = this.#ss.handshakeHash;
    const [k1, k2] = this.#ss.split();
    this.destroy();
    return this.initiator ? { sendKey: k1, recvKey: k2, handshakeHash } : { sendKey: k2, recvKey: k1, handshakeHash };
  }

  /** @internal live secret buffers (ephemeral secret, chaining key, cipher key), for wipe tests. */
  secretViews(): Uint8Array[] {
    return [...(this.#e ? [this.#e.privateKey] : []), ...this.#ss.secretViews()];
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Wipes the ephemeral secret, chaining key and cipher key. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#e) wipe(this.#e.privateKey);
    if (this.#staticStatic) wipe(this.#staticStatic);
    this.#ss.destroy();
    // A state that ran a DH with an ephemeral secret scrubs the scalar-multiplication frames too.
    scrubWasmStack(this.#e ? 'full' : 'hash');
  }
}
