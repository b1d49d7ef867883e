/**
 * Interop with the libraries py-vault-udp uses (PyNaCl, msgpack, zstandard) through
 * test/helpers/vault_v2_check.py. Runs only when a python3 with those modules exists
 * (Debian: python3-nacl python3-msgpack python3-zstandard; or set UDPVAULT_PYTHON).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ManualClock } from '../../src/runtime/clock';
import { sodiumReady } from '../../src/crypto/sodium';
import {
  VAULT_V2_MTU_OVERHEAD,
  VaultV2NonceCache,
  buildAnnouncement,
  buildPaddedBody,
  decodeBody,
  decodePayload,
  encodePayloadText,
  openEnvelope,
  sealEnvelope,
} from '../../src/compat/vault-v2-codec';
import { fixedRandom, loadVectors } from '../helpers/vault-v2-vectors';

const MODULES = 'import nacl.public, nacl.signing, msgpack, zstandard';
const candidates = [process.env['UDPVAULT_PYTHON'], 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
const python = candidates.find((p) => spawnSync(p, ['-c', MODULES], { stdio: 'ignore' }).status === 0);

interface CheckResult {
  errors: string[];
  checked: number;
  announcement_hex: string;
  datagrams: { hex: string; text: string }[];
}

if (!python && process.env.CI) {
  // CI installs them (scripts/install-test-prereqs.sh): a missing one there is a failure, not a skip.
  test('python interop prerequisites are installed (CI)', () => {
    throw new Error(`no python3 with nacl, msgpack and zstandard (tried ${candidates.join(', ')}): run scripts/install-test-prereqs.sh`);
  });
} else if (!python) {
  test.skip(`python interop skipped: no python3 with nacl, msgpack and zstandard (tried ${candidates.join(', ')})`, () => {});
} else {
  const V = loadVectors();
  const MTU = V.mtuEffective + VAULT_V2_MTU_OVERHEAD;
  const texts = ['hello from udpvault', 'grüße ✓', 'y'.repeat(700)];
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

  test(`PyNaCl/msgpack/zstandard (${python}) read what we send, and we read what they send`, async () => {
    await sodiumReady();
    const clock = new ManualClock(Date.now());
    const nowS = clock.now() / 1000;
    const A = V.A.sign();
    const c = buildAnnouncement({ encPk: V.A.encPk, signPk: A.publicKey, signSk: A.privateKey, port: 17201 });
    const sealOpts = { receiverEncPk: V.B.encPk, senderEncSk: V.A.encSk, clock, random: fixedRandom(5) };
    const annBody = buildPaddedBody({ c }, MTU, fixedRandom());
    const ours = [
      { hex: hex(annBody), encrypted: false, text: null, announcement: true },
      { hex: hex(sealEnvelope(annBody, sealOpts)), encrypted: true, text: null, announcement: true },
      ...texts.map((text) => ({
        hex: hex(sealEnvelope(buildPaddedBody({ p: encodePayloadText(text) }, MTU, fixedRandom()), sealOpts)),
        encrypted: true,
        text,
        announcement: false,
      })),
    ];
    const input = JSON.stringify({ vectors: JSON.parse(V.raw), now: nowS, mtu_effective: V.mtuEffective, ours, texts });
    const run = spawnSync(python, [path.join(__dirname, '..', 'helpers', 'vault_v2_check.py')], { input, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const res = JSON.parse(run.stdout) as CheckResult;
    expect(res.errors).toEqual([]);
    expect(res.checked).toBe(ours.length);
    expect(res.announcement_hex).toBe(hex(c)); // json.dumps defaults give our exact bytes

    const seen = new VaultV2NonceCache();
    const got = res.datagrams.map((d) => {
      const body = openEnvelope(Buffer.from(d.hex, 'hex'), { senderEncPk: V.A.encPk, receiverEncSk: V.B.encSk, clock, seen });
      expect(body.length).toBeGreaterThanOrEqual(V.mtuEffective);
      return new TextDecoder().decode(decodePayload(decodeBody(body).p, 1 << 20));
    });
    expect(got).toEqual(texts);
  });
}
