/**
 * Protocol v4 frame (version 5) and data vectors (test/fixtures/protocol-v5-frame-vectors.json, quoted in
 * docs/PROTOCOL.md §17.2–17.4): the code must reproduce every byte from the fixed inputs.
 * (The Noise handshake vectors are test/fixtures/protocol-v4-vectors.json, checked in
 * test/crypto/noise/vectors.test.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cryptoBackendName } from '../../src/crypto/sodium';
import { aeadBackendName } from '../../src/crypto/aead';
import { eachBackend } from './each-backend';
import { decodeFrame } from '../../src/wire/frame';
import { parseDataHeader } from '../../src/wire/packet';
import { hex, makeProtocolVectors, unhex, vectorFrame, vectorsToJson, VECTOR_INPUTS, type ProtocolVectors } from '../helpers/protocol-vectors';

interface VectorFile {
  inputs: Record<string, string | number>;
  frame: string;
  data: string;
}

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'protocol-v5-frame-vectors.json');
const file = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as VectorFile;
let v: ProtocolVectors;

// Both crypto backends (every primitive and the packet cipher) must give these bytes.
eachBackend((backend) => {
  beforeAll(() => {
    expect([cryptoBackendName(), aeadBackendName()]).toEqual([backend, backend]);
    v = makeProtocolVectors();
  });

  test('the fixture records the generator’s inputs', () => {
    expect(file.inputs).toEqual(vectorsToJson(v)['inputs']);
    expect(file.inputs['responderSid']).toBe(0x55667788);
    expect(file.inputs['transportKeyIR']).toBe('566de20575b56c0ab2a867417794f20d1863a9968ecef676b3caf3ba9a985dee');
  });

  test('frame: exactly the stored 99 bytes (v 5, n, i; r nil)', () => {
    expect(v.frame.length).toBe(99);
    expect(hex(v.frame)).toBe(file.frame);
    expect(file.frame.slice(0, 4)).toBe('9805'); // fixarray of 8, v = 5
    expect(file.frame.slice(2 * 43, 2 * 46)).toBe('c0c435'); // r nil, then g: bin8 of 53 zero bytes
  });

  test('data datagram: exactly the stored 128 bytes (type 0x43, counter 0)', () => {
    expect(v.data.length).toBe(128);
    expect(hex(v.data)).toBe(file.data);
    expect(v.data[0]).toBe(0x43);
    expect(parseDataHeader(v.data)).toEqual({ receiverSid: VECTOR_INPUTS.responderSid, counter: 0 });
  });

  test('the stored data datagram decrypts back to the frame', () => {
    const data = unhex(file.data);
    const plain = v.responderSession.open(data, parseDataHeader(data).counter, 0);
    expect(plain).not.toBe('auth');
    expect(plain).not.toBe('replay');
    expect(hex(plain as Uint8Array)).toBe(file.frame);
    const f = decodeFrame(plain as Uint8Array);
    const want = vectorFrame();
    expect(f.t).toBe(want.t);
    expect([f.n, f.i]).toEqual([0, 0x01020304]);
    expect(f.c).toEqual(want.c);
    expect(f.r).toBeUndefined();
    expect(f.p.map((i) => ({ flags: i.flags, text: new TextDecoder().decode(i.data) }))).toEqual([{ flags: 0, text: 'hello, udpvault v5' }]);
    // and it is accepted once only
    expect(v.responderSession.open(data, 0, 0)).toBe('replay');
  });

  test('a flipped ciphertext bit fails authentication', () => {
    const data = unhex(file.data);
    data[20]! ^= 1;
    expect(makeProtocolVectors().responderSession.open(data, 0, 0)).toBe('auth');
  });

  test('generating twice gives the same bytes (nothing random)', () => {
    expect(vectorsToJson(makeProtocolVectors())).toEqual(vectorsToJson(makeProtocolVectors()));
  });
});

// The frame and datagram rebuilt by hand from PROTOCOL.md by an independent implementation
// (test/helpers/protocol_v5_check.py: the frame's bytes written out, HChaCha20 in Python,
// ChaCha20-Poly1305 from python3-cryptography) must equal the fixture byte for byte.
test('an independent implementation (python3-cryptography) rebuilds the stored frame and datagram', () => {
  const python = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import cryptography.hazmat.primitives.ciphers.aead'], { encoding: 'utf8' }).status === 0);
  if (!python) {
    const why = spawnSync('python3', ['--version']).error ? 'python3 is missing' : 'python3-cryptography is missing (apt-get install -y python3-cryptography)';
    if (process.env['CI']) throw new Error(`protocol_v5_check.py cannot run under CI: ${why}`);
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED: independent frame/datagram check: ${why}`);
    return;
  }
  const r = spawnSync(python, [path.join(__dirname, '..', 'helpers', 'protocol_v5_check.py')], { encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect([r.status, r.stdout.trim()]).toEqual([0, 'protocol v4 data vectors, frame version 5: all values reproduced independently']);
});
