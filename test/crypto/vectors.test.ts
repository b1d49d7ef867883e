/**
 * Protocol v4 vectors (test/fixtures/protocol-v4-frame-vectors.json, quoted in docs/PROTOCOL.md §17):
 * the code must reproduce every byte from the fixed inputs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { genericHash, sodiumReady } from '../../src/crypto/sodium';
import { decodeFrame } from '../../src/wire/frame';
import { parseDataHeader, parseInit, parseResponse } from '../../src/wire/packet';
import { hex, makeProtocolVectors, unhex, vectorFrame, vectorsToJson, VECTOR_INPUTS, type ProtocolVectors } from '../helpers/protocol-vectors';

interface VectorFile {
  inputs: Record<string, string | number>;
  initiatorPublicKey: string;
  initiatorKeyString: string;
  responderPublicKey: string;
  responderKeyString: string;
  initiatorEphemeralPublic: string;
  responderEphemeralPublic: string;
  init: string;
  response: string;
  transcriptHash: string;
  kxClientRx: string;
  kxClientTx: string;
  initiatorSendKey: string;
  initiatorRecvKey: string;
  responderSendKey: string;
  responderRecvKey: string;
  frame: string;
  data: string;
}

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'protocol-v4-frame-vectors.json');
const file = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as VectorFile;
let v: ProtocolVectors;

beforeAll(async () => {
  await sodiumReady();
  v = makeProtocolVectors();
});

describe('protocol v4 vectors', () => {
  test('the fixture records the generator’s inputs', () => {
    expect(file.inputs).toEqual(vectorsToJson(v)['inputs']);
    expect(file.inputs['initiatorSid']).toBe(0x11223344);
    expect(file.inputs['responderSid']).toBe(0x55667788);
  });

  test('identities and ephemeral keys', () => {
    expect(hex(v.initiator.publicKey)).toBe(file.initiatorPublicKey);
    expect(v.initiator.keyString).toBe(file.initiatorKeyString);
    expect(hex(v.responder.publicKey)).toBe(file.responderPublicKey);
    expect(v.responder.keyString).toBe(file.responderKeyString);
    expect(hex(v.initiatorEphemeralPublic)).toBe(file.initiatorEphemeralPublic);
    expect(hex(v.responderEphemeralPublic)).toBe(file.responderEphemeralPublic);
  });

  test('handshake init: exactly the stored 173 bytes', () => {
    expect(v.init.length).toBe(173);
    expect(hex(v.init)).toBe(file.init);
    const m = parseInit(unhex(file.init));
    expect(m.senderSid).toBe(VECTOR_INPUTS.initiatorSid);
    expect(m.timestampMs).toBe(VECTOR_INPUTS.initTimestampMs);
    expect(hex(m.initiatorStatic)).toBe(file.initiatorPublicKey);
    expect(hex(m.responderStatic)).toBe(file.responderPublicKey);
    expect(hex(m.ephemeral)).toBe(file.initiatorEphemeralPublic);
  });

  test('handshake response: exactly the stored 145 bytes', () => {
    expect(v.response.length).toBe(145);
    expect(hex(v.response)).toBe(file.response);
    const m = parseResponse(unhex(file.response));
    expect(m.senderSid).toBe(VECTOR_INPUTS.responderSid);
    expect(m.receiverSid).toBe(VECTOR_INPUTS.initiatorSid);
    expect(m.timestampMs).toBe(VECTOR_INPUTS.responseTimestampMs);
    expect(hex(m.responderStatic)).toBe(file.responderPublicKey);
    expect(hex(m.ephemeral)).toBe(file.responderEphemeralPublic);
  });

  test('transcript hash and crypto_kx keys', () => {
    expect(hex(v.transcriptHash)).toBe(file.transcriptHash);
    expect(hex(genericHash(32, unhex(file.init + file.response)))).toBe(file.transcriptHash);
    expect(hex(v.kxClientRx)).toBe(file.kxClientRx);
    expect(hex(v.kxClientTx)).toBe(file.kxClientTx);
  });

  test('session key = BLAKE2b-256(key: kx key, msg: "udpvault v3 data key\\0" ‖ transcript hash)', () => {
    const msg = Uint8Array.from([...new TextEncoder().encode('udpvault v3 data key\0'), ...unhex(file.transcriptHash)]);
    expect(msg.length).toBe(21 + 32);
    expect(hex(genericHash(32, msg, unhex(file.kxClientTx)))).toBe(file.initiatorSendKey);
    expect(hex(genericHash(32, msg, unhex(file.kxClientRx)))).toBe(file.initiatorRecvKey);
  });

  test('session keys of both sides', () => {
    expect(hex(v.initiatorKeys.sendKey)).toBe(file.initiatorSendKey);
    expect(hex(v.initiatorKeys.recvKey)).toBe(file.initiatorRecvKey);
    expect(hex(v.responderKeys.sendKey)).toBe(file.responderSendKey);
    expect(hex(v.responderKeys.recvKey)).toBe(file.responderRecvKey);
    expect(file.initiatorSendKey).toBe(file.responderRecvKey);
    expect(file.initiatorRecvKey).toBe(file.responderSendKey);
    expect(file.initiatorSendKey).not.toBe(file.initiatorRecvKey);
  });

  test('frame: exactly the stored 99 bytes', () => {
    expect(v.frame.length).toBe(99);
    expect(hex(v.frame)).toBe(file.frame);
  });

  test('data datagram: exactly the stored 128 bytes (counter 0)', () => {
    expect(v.data.length).toBe(128);
    expect(hex(v.data)).toBe(file.data);
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
    expect(f.p.map((i) => ({ flags: i.flags, text: new TextDecoder().decode(i.data) }))).toEqual([{ flags: 0, text: 'hello, udpvault v4' }]);
    // and it is accepted once only
    expect(v.responderSession.open(data, 0, 0)).toBe('replay');
  });

  test('generating twice gives the same bytes (nothing random)', () => {
    expect(vectorsToJson(makeProtocolVectors())).toEqual(vectorsToJson(makeProtocolVectors()));
  });
});
