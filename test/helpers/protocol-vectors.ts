/**
 * Protocol v4 test vectors from fixed inputs (no randomness, no clock): identities from fixed
 * Ed25519 seeds, ephemeral X25519 keys from fixed crypto_kx seeds, fixed session ids and
 * timestamps. Ed25519 signatures are deterministic, so every output byte is reproducible.
 *
 * Jest-independent: call `await sodiumReady()` first, then `makeProtocolVectors()`.
 * The outputs are stored in test/fixtures/protocol-v4-frame-vectors.json and quoted in
 * docs/PROTOCOL.md; test/crypto/vectors.test.ts checks that the code reproduces them exactly.
 */
import { consumeResponse, createInit, createResponse, type HandshakeKeys } from '../../src/crypto/handshake';
import { identityFromSeed, type Identity } from '../../src/crypto/identity';
import { Session } from '../../src/crypto/session';
import { genericHash, kxClientKeys, kxSeedKeypair } from '../../src/crypto/sodium';
import { encodeFrame, type Frame } from '../../src/wire/frame';
import { parseInit, parseResponse } from '../../src/wire/packet';

/** 32 bytes: first, first+1, … (mod 256). */
export function seedBytes(first: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (first + i) & 0xff);
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** The fixed inputs. */
export const VECTOR_INPUTS = Object.freeze({
  initiatorIdentitySeed: seedBytes(0x00),
  responderIdentitySeed: seedBytes(0x20),
  initiatorEphemeralSeed: seedBytes(0x40),
  responderEphemeralSeed: seedBytes(0x60),
  initiatorSid: 0x11223344,
  responderSid: 0x55667788,
  initTimestampMs: 1_800_000_000_000,
  responseTimestampMs: 1_800_000_000_250,
  /** Wall clock of the data frame (`t`). */
  frameTimestampMs: 1_800_000_000_500,
  frameText: 'hello, udpvault v4',
  /** Packet number and sender instance of the data frame (`n`, `i`). */
  framePacketNumber: 0,
  frameInstance: 0x01020304,
  /** Frame padded to 99 bytes: 13 header + 99 + 16 tag = a 128-byte datagram ('bucket' policy). */
  framePaddingTarget: 99,
  dataCounter: 0,
});

/** The fixed frame sealed into the data vector: one datagram-mode payload item and a keepalive. */
export function vectorFrame(): Frame {
  return {
    t: VECTOR_INPUTS.frameTimestampMs,
    n: VECTOR_INPUTS.framePacketNumber,
    i: VECTOR_INPUTS.frameInstance,
    p: [{ flags: 0, data: new TextEncoder().encode(VECTOR_INPUTS.frameText) }],
    c: [{ type: 'keepalive' }],
  };
}

export interface ProtocolVectors {
  initiator: Identity;
  responder: Identity;
  initiatorEphemeralPublic: Uint8Array;
  responderEphemeralPublic: Uint8Array;
  init: Uint8Array;
  response: Uint8Array;
  /** BLAKE2b-256(init ‖ response). */
  transcriptHash: Uint8Array;
  /** crypto_kx_client_session_keys of the initiator (the responder's server keys are the same, swapped). */
  kxClientRx: Uint8Array;
  kxClientTx: Uint8Array;
  /** Keys as derived by each side (copies: the sessions below own the originals). */
  initiatorKeys: { sendKey: Uint8Array; recvKey: Uint8Array };
  responderKeys: { sendKey: Uint8Array; recvKey: Uint8Array };
  /** The plaintext frame (encodeFrame output, 99 bytes). */
  frame: Uint8Array;
  /** The data datagram the initiator sends: header ‖ ciphertext ‖ tag (128 bytes). */
  data: Uint8Array;
  /** Live sessions (initiator's has sealed counter 0; the responder's has received nothing). */
  initiatorSession: Session;
  responderSession: Session;
}

const copyKeys = (k: HandshakeKeys): { sendKey: Uint8Array; recvKey: Uint8Array } => ({
  sendKey: new Uint8Array(k.sendKey),
  recvKey: new Uint8Array(k.recvKey),
});

/** Runs the whole exchange on the fixed inputs. Requires sodiumReady(). */
export function makeProtocolVectors(): ProtocolVectors {
  const I = VECTOR_INPUTS;
  const initiator = identityFromSeed(I.initiatorIdentitySeed);
  const responder = identityFromSeed(I.responderIdentitySeed);
  const eI = kxSeedKeypair(I.initiatorEphemeralSeed);
  const eR = kxSeedKeypair(I.responderEphemeralSeed);
  const initiatorEphemeralPublic = new Uint8Array(eI.publicKey);
  const responderEphemeralPublic = new Uint8Array(eR.publicKey);

  const pending = createInit({ identity: initiator, responderStatic: responder.publicKey, localSid: I.initiatorSid, ephemeral: eI, timestampMs: I.initTimestampMs });
  const init = new Uint8Array(pending.init);
  const { response, keys: rKeys } = createResponse({
    identity: responder,
    init: parseInit(new Uint8Array(init)),
    localSid: I.responderSid,
    ephemeral: eR,
    timestampMs: I.responseTimestampMs,
  });
  const iKeys = consumeResponse(pending, parseResponse(new Uint8Array(response)), responder.publicKey);
  const initiatorKeys = copyKeys(iKeys);
  // Intermediate values, recomputed (the handshake wipes its own copies of the kx keys).
  const eI2 = kxSeedKeypair(I.initiatorEphemeralSeed);
  const [kxClientRx, kxClientTx] = kxClientKeys(eI2.publicKey, eI2.privateKey, responderEphemeralPublic);
  const transcript = new Uint8Array(init.length + response.length);
  transcript.set(init, 0);
  transcript.set(response, init.length);
  const transcriptHash = genericHash(32, transcript);
  const responderKeys = copyKeys(rKeys);

  const initiatorSession = new Session(iKeys, 0);
  const responderSession = new Session(rKeys, 0);
  const frame = encodeFrame(vectorFrame(), I.framePaddingTarget);
  const data = new Uint8Array(initiatorSession.seal(frame, 0));
  return {
    initiator,
    responder,
    initiatorEphemeralPublic,
    responderEphemeralPublic,
    init,
    response: new Uint8Array(response),
    transcriptHash,
    kxClientRx,
    kxClientTx,
    initiatorKeys,
    responderKeys,
    frame,
    data,
    initiatorSession,
    responderSession,
  };
}

/** The JSON form stored in test/fixtures/protocol-v4-frame-vectors.json (all byte strings in hex). */
export function vectorsToJson(v: ProtocolVectors): Record<string, unknown> {
  const I = VECTOR_INPUTS;
  return {
    description: 'udpvault native protocol v4 vectors (docs/PROTOCOL.md §17); made by test/helpers/protocol-vectors.ts',
    inputs: {
      initiatorIdentitySeed: hex(I.initiatorIdentitySeed),
      responderIdentitySeed: hex(I.responderIdentitySeed),
      initiatorEphemeralSeed: hex(I.initiatorEphemeralSeed),
      responderEphemeralSeed: hex(I.responderEphemeralSeed),
      initiatorSid: I.initiatorSid,
      responderSid: I.responderSid,
      initTimestampMs: I.initTimestampMs,
      responseTimestampMs: I.responseTimestampMs,
      frameTimestampMs: I.frameTimestampMs,
      frameText: I.frameText,
      framePacketNumber: I.framePacketNumber,
      frameInstance: I.frameInstance,
      framePaddingTarget: I.framePaddingTarget,
      dataCounter: I.dataCounter,
    },
    initiatorPublicKey: hex(v.initiator.publicKey),
    initiatorKeyString: v.initiator.keyString,
    responderPublicKey: hex(v.responder.publicKey),
    responderKeyString: v.responder.keyString,
    initiatorEphemeralPublic: hex(v.initiatorEphemeralPublic),
    responderEphemeralPublic: hex(v.responderEphemeralPublic),
    init: hex(v.init),
    response: hex(v.response),
    transcriptHash: hex(v.transcriptHash),
    kxClientRx: hex(v.kxClientRx),
    kxClientTx: hex(v.kxClientTx),
    initiatorSendKey: hex(v.initiatorKeys.sendKey),
    initiatorRecvKey: hex(v.initiatorKeys.recvKey),
    responderSendKey: hex(v.responderKeys.sendKey),
    responderRecvKey: hex(v.responderKeys.recvKey),
    frame: hex(v.frame),
    data: hex(v.data),
  };
}
