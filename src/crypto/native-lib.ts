/**
 * sodium-native (an optionalDependency with prebuilt binaries): the one place it is required,
 * once, on first use. `sodiumNative()` is null when it is not installed or its binary does not
 * load; `sodiumNativeError()` says why (no secret can be in it: it is a load error).
 */

/** The part of sodium-native this project uses (sodium-native 5 accepts any Uint8Array). */
export interface SodiumNativeLib {
  sodium_malloc(n: number): Buffer;
  sodium_memzero(b: Uint8Array): void;
  sodium_memcmp(a: Uint8Array, b: Uint8Array): boolean;
  crypto_sign_keypair(pk: Uint8Array, sk: Uint8Array): void;
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
  crypto_sign_ed25519_pk_to_curve25519(x: Uint8Array, ed: Uint8Array): void;
  crypto_sign_ed25519_sk_to_curve25519(x: Uint8Array, ed: Uint8Array): void;
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  crypto_generichash(out: Uint8Array, m: Uint8Array, key?: Uint8Array | null): void;
  crypto_box_keypair(pk: Uint8Array, sk: Uint8Array): void;
  crypto_box_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, pk: Uint8Array, sk: Uint8Array): void;
  crypto_box_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, pk: Uint8Array, sk: Uint8Array): boolean;
  crypto_aead_xchacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_xchacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}

const REQUIRED: (keyof SodiumNativeLib)[] = [
  'sodium_malloc',
  'sodium_memzero',
  'sodium_memcmp',
  'crypto_sign_keypair',
  'crypto_sign_seed_keypair',
  'crypto_sign_detached',
  'crypto_sign_verify_detached',
  'crypto_sign_ed25519_pk_to_curve25519',
  'crypto_sign_ed25519_sk_to_curve25519',
  'crypto_scalarmult',
  'crypto_scalarmult_base',
  'crypto_generichash',
  'crypto_box_keypair',
  'crypto_box_easy',
  'crypto_box_open_easy',
  'crypto_aead_xchacha20poly1305_ietf_encrypt',
  'crypto_aead_xchacha20poly1305_ietf_decrypt',
  'crypto_aead_chacha20poly1305_ietf_encrypt',
  'crypto_aead_chacha20poly1305_ietf_decrypt',
];

let lib: SodiumNativeLib | null | undefined; // undefined: not tried yet
let loadError = '';

/** sodium-native, or null when it cannot be loaded (tried once per process). */
export function sodiumNative(): SodiumNativeLib | null {
  if (lib !== undefined) return lib;
  try {
    plantPrebuiltBinding();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const na = require('sodium-native') as Partial<SodiumNativeLib>;
    const missing = REQUIRED.filter((f) => typeof na[f] !== 'function');
    if (missing.length > 0) throw new Error(`sodium-native lacks ${missing.join(', ')}`);
    lib = na as SodiumNativeLib;
  } catch (e) {
    lib = null;
    loadError = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  }
  return lib;
}

/**
 * Opens sodium-native's prebuilt addon for this platform with process.dlopen and puts it in the
 * module cache as the package's binding.js, the file that would otherwise load it through
 * require-addon and its bare-* resolvers (issue 12: ~30 modules of resolution for one file; on
 * top of the node's own, enough module loading to wake TurboFan in an idle node). Only where
 * require-addon would pick the same file: a glibc Node with the package's prebuild for
 * platform-arch and no local build. Anything unexpected leaves it to the package's own loader.
 */
function plantPrebuiltBinding(): void {
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    const Module = require('node:module') as typeof import('node:module');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const binding = require.resolve('sodium-native/binding.js');
    if (require.cache[binding] || typeof (process.versions as Record<string, string | undefined>)['bare'] === 'string') return;
    const dir = path.dirname(binding);
    const addon = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'sodium-native.node');
    if (!fs.existsSync(addon) || fs.existsSync(path.join(dir, 'build')) || fs.existsSync('/etc/alpine-release')) return;
    const m = new Module(binding);
    m.filename = binding;
    process.dlopen(m, addon);
    m.loaded = true;
    require.cache[binding] = m;
  } catch {
    // the package's own loader decides (and reports)
  }
}

/** Why sodium-native could not be loaded ('' when it loaded or was not tried). */
export const sodiumNativeError = (): string => loadError;

/** sodium-native 5's addon (its binding.js), or null: not installed, not loaded, another major version. */
function addon5(): Record<string, unknown> | null {
  if (!sodiumNative()) return null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const version = (require('sodium-native/package.json') as { version?: string }).version ?? '';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return version.split('.')[0] === '5' ? (require('sodium-native/binding.js') as Record<string, unknown>) : null;
  } catch {
    return null; // the checked wrappers are used
  }
}

/**
 * The ChaCha20-Poly1305-IETF seal and open of sodium-native's addon itself (its binding.js),
 * without index.js's argument checks (issue 12: seven node:assert calls per call, each allocating
 * its rest arguments, ~0.07 µs; a failed open throws an Error with a stack there). The addon
 * checks nothing in a release build: the caller must guarantee c.byteLength === m.byteLength +
 * 16, a 12-byte nonce, a 32-byte key and a non-null AD, or memory is corrupted. Each returns the
 * output's length, or a negative number (open: authentication failed). null unless sodium-native
 * 5's addon loaded with the expected sizes (then the package's checked wrappers are used).
 */
export interface RawAead {
  open(m: Uint8Array, c: Uint8Array, ad: Uint8Array, npub: Uint8Array, k: Uint8Array): number;
  seal(c: Uint8Array, m: Uint8Array, ad: Uint8Array, npub: Uint8Array, k: Uint8Array): number;
}

let rawAead: RawAead | null | undefined;

export function sodiumNativeRawAead(): RawAead | null {
  if (rawAead !== undefined) return rawAead;
  rawAead = null;
  const b = addon5();
  if (b === null) return null;
  const open = b['crypto_aead_chacha20poly1305_ietf_decrypt'];
  const seal = b['crypto_aead_chacha20poly1305_ietf_encrypt'];
  if (
    typeof open === 'function' && typeof seal === 'function' && b['crypto_aead_chacha20poly1305_ietf_ABYTES'] === 16 &&
    b['crypto_aead_chacha20poly1305_ietf_NPUBBYTES'] === 12 && b['crypto_aead_chacha20poly1305_ietf_KEYBYTES'] === 32
  ) {
    rawAead = { open: open as RawAead['open'], seal: seal as RawAead['seal'] };
  }
  return rawAead;
}

/**
 * Unkeyed BLAKE2b of `msg`'s first `msgBytes` bytes into `out` through sodium-native's addon
 * itself (issue 12, rekeyalloc17: index.js's `crypto_generichash` makes three node:assert calls,
 * each allocating its rest arguments, ~18 KB per rekey in unoptimized code, and the handshake's
 * HMACs needed a subarray per call to pass a prefix). The addon checks nothing: `out` is 16..64
 * bytes and `msgBytes` ≤ msg.length (the callers, sodium.ts's blake2bInto, guarantee both). null
 * unless sodium-native 5's addon loaded with the expected sizes.
 */
export type RawHash = (out: Uint8Array, msg: Uint8Array, msgBytes: number) => void;

let rawHash: RawHash | null | undefined;
const NO_KEY = new ArrayBuffer(0);

export function sodiumNativeRawHash(): RawHash | null {
  if (rawHash !== undefined) return rawHash;
  rawHash = null;
  const b = addon5();
  const h = b?.['crypto_generichash'];
  if (b && typeof h === 'function' && b['crypto_generichash_BYTES_MIN'] === 16 && b['crypto_generichash_BYTES_MAX'] === 64) {
    const f = h as (o: ArrayBufferLike, oo: number, ol: number, m: ArrayBufferLike, mo: number, ml: number, k: ArrayBufferLike, ko: number, kl: number) => number;
    rawHash = (out, msg, msgBytes) => {
      if (f(out.buffer, out.byteOffset, out.byteLength, msg.buffer, msg.byteOffset, msgBytes, NO_KEY, 0, 0) !== 0) throw new Error('blake2b failed');
    };
  }
  return rawHash;
}

/**
 * sodium_memzero and crypto_scalarmult of the addon itself, for the handshake (rekeyalloc17: the
 * wrappers' node:assert calls allocate their rest arguments, 3 to 6 per call). The addon checks
 * nothing: `q`, `n`, `p` are 32 bytes (primitives-native.ts's x25519 checks). `scalarmult`
 * returns 0, or non-zero for a low-order point. null unless sodium-native 5's addon loaded.
 */
export interface RawPrimitives {
  memzero(b: Uint8Array): void;
  scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): number;
}

let rawPrims: RawPrimitives | null | undefined;

export function sodiumNativeRawPrimitives(): RawPrimitives | null {
  if (rawPrims !== undefined) return rawPrims;
  rawPrims = null;
  const b = addon5();
  const memzero = b?.['sodium_memzero'];
  const scalarmult = b?.['crypto_scalarmult'];
  if (b && typeof memzero === 'function' && typeof scalarmult === 'function' && b['crypto_scalarmult_BYTES'] === 32 && b['crypto_scalarmult_SCALARBYTES'] === 32) {
    rawPrims = { memzero: memzero as RawPrimitives['memzero'], scalarmult: scalarmult as RawPrimitives['scalarmult'] };
  }
  return rawPrims;
}
