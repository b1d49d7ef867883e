/**
 * Runs a suite once per crypto backend this process can load (src/crypto/sodium.ts: native and
 * wasm here, where sodium-native is installed; wasm alone where it is not).
 */
import { availableCryptoBackends, useCryptoBackend, wasmReady, type CryptoBackendName } from '../../src/crypto/sodium';

export function eachBackend(suite: (backend: CryptoBackendName) => void): void {
  describe.each(availableCryptoBackends())('on the %s crypto backend', (backend) => {
    beforeAll(async () => {
      await wasmReady(); // the suites compare with libsodium-wrappers' own calls
      await useCryptoBackend(backend);
    });
    afterAll(() => useCryptoBackend('auto'));
    suite(backend);
  });
}
