/**
 * The data-packet AEAD seam (issue 12): one PacketCipher per session direction, from the
 * backend chosen at start — `native` (sodium-native, an optionalDependency with prebuilt
 * binaries) when it loads, else `wasm` (libsodium-wrappers, always there). `useAeadBackend`
 * (the `aeadBackend` setting; createNode calls it) forces one.
 *
 * Wire format (unchanged, docs/PROTOCOL.md): XChaCha20-Poly1305-IETF with AD = the 13-byte data
 * header and nonce = 16 zero bytes ‖ counter (header bytes 5..13). That is byte for byte
 * ChaCha20-Poly1305-IETF under the subkey HChaCha20(key, 0^16) with nonce 0^4 ‖ counter: the
 * subkey is derived once per cipher (hchacha20.ts) and every packet is a plain IETF seal/open on
 * either backend. The session key given to `packetCipher` is zeroed once the subkey exists; the
 * subkey lives in the backend's key store (native: sodium_malloc'd memory; wasm: a JS array,
 * copied into the wasm heap only for a call and zeroed there after it) until `wipe()`.
 */
import { hchacha20 } from './hchacha20';
import { loadNativeAead, nativePair, type NativeAead } from './aead-native';
import { createWasmCipher } from './aead-wasm';
import { wasmSodiumLoaded } from './wasm-lib';

export { NONCE_COUNTER_OFFSET, type AeadBackendName, type CipherPair, type PacketCipher } from './packet-cipher';
import { TwoCiphers, type AeadBackendName, type CipherPair, type PacketCipher } from './packet-cipher';

const ZERO16 = new Uint8Array(16);
let native: NativeAead | null | undefined; // undefined: not tried yet
let nativeError = '';
let selected: AeadBackendName | null = null;

function tryNative(): NativeAead | null {
  if (native === undefined) {
    try {
      native = loadNativeAead();
    } catch (e) {
      native = null;
      nativeError = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    }
  }
  return native;
}

/** The backends this process can use, preferred first. */
export function availableAeadBackends(): AeadBackendName[] {
  return tryNative() ? ['native', 'wasm'] : ['wasm'];
}

/**
 * Selects the backend of every cipher created afterwards (process-wide; existing sessions keep
 * theirs): 'auto' = native when sodium-native loads, else wasm. Throws when 'native' is asked
 * for and cannot be loaded, and for 'wasm' before libsodium-wrappers is loaded (sodium.ts's
 * `useCryptoBackend` loads it and calls this). Returns the backend now in use.
 */
export function useAeadBackend(name: AeadBackendName | 'auto'): AeadBackendName {
  if (name === 'native' && !tryNative()) throw new Error(`aeadBackend 'native': sodium-native could not be loaded (${nativeError})`);
  const chosen = name === 'auto' ? availableAeadBackends()[0]! : name;
  if (chosen === 'wasm' && !wasmSodiumLoaded()) throw new Error("aeadBackend 'wasm': libsodium-wrappers is not loaded (await useCryptoBackend('wasm') or wasmReady() first)");
  selected = chosen;
  return selected;
}

/** The backend in use (choosing 'auto' on first call). */
export function aeadBackendName(): AeadBackendName {
  return selected ?? useAeadBackend('auto');
}

/**
 * A packet cipher for one direction of a session. `key` (the 32-byte XChaCha20-Poly1305 session
 * key) is zeroed once the subkey is derived: the caller keeps no copy to wipe.
 */
export function packetCipher(key: Uint8Array, backend: AeadBackendName = aeadBackendName()): PacketCipher {
  if (key.length !== 32) throw new RangeError('invalid key length');
  if (backend === 'native') {
    const n = tryNative();
    if (!n) throw new Error(`sodium-native could not be loaded (${nativeError})`);
    const subkey = n.allocKey();
    hchacha20(subkey, key, ZERO16);
    key.fill(0);
    return n.cipher(subkey);
  }
  const subkey = new Uint8Array(32);
  hchacha20(subkey, key, ZERO16);
  key.fill(0);
  return createWasmCipher(subkey);
}

/**
 * A session's two directions as one object (pack19): native ciphers of one store become one
 * object holding both key slots (the two given are unusable afterwards); any others are kept
 * side by side.
 */
export function cipherPair(send: PacketCipher, recv: PacketCipher): CipherPair {
  return nativePair(send, recv) ?? new TwoCiphers(send, recv);
}
