/**
 * Protocol v4 data-layer test vectors (frame version 5) from fixed inputs (no randomness, no clock): a frame and
 * the data datagram that seals it with a given transport key. The handshake that yields the key
 * (Noise IK/XX) has its own vectors: test/fixtures/protocol-v4-vectors.json
 * (test/crypto/noise/vectors.test.ts); the data construction takes any 32-byte key.
 *
 * Jest-independent: call `await sodiumReady()` first, then `makeProtocolVectors()`.
 * The outputs are stored in test/fixtures/protocol-v5-frame-vectors.json and quoted in
 * docs/PROTOCOL.md §17.2–17.4; test/crypto/vectors.test.ts checks that the code reproduces them.
 */
import { Session } from '../../src/crypto/session';
import { encodeFrame, type Frame } from '../../src/wire/frame';

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** The fixed inputs. */
export const VECTOR_INPUTS = Object.freeze({
  /** Transport key initiator → responder (the key the data vector is sealed with). */
  transportKeyIR: '566de20575b56c0ab2a867417794f20d1863a9968ecef676b3caf3ba9a985dee',
  /** Transport key responder → initiator (only to complete the sessions). */
  transportKeyRI: '8c6d60abbb5f99301a1048d19a9ed16b760cdf4b72f9cc458f117d3024841b3f',
  initiatorSid: 0x11223344,
  responderSid: 0x55667788,
  /** Wall clock of the data frame (`t`). */
  frameTimestampMs: 1_800_000_000_500,
  frameText: 'hello, udpvault v5',
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
  /** The plaintext frame (encodeFrame output, 99 bytes). */
  frame: Uint8Array;
  /** The data datagram the initiator sends: header ‖ ciphertext ‖ tag (128 bytes). */
  data: Uint8Array;
  /** Live sessions (initiator's has sealed counter 0; the responder's has received nothing). */
  initiatorSession: Session;
  responderSession: Session;
}

/** Seals the fixed frame with the fixed key. Requires sodiumReady(). */
export function makeProtocolVectors(): ProtocolVectors {
  const I = VECTOR_INPUTS;
  const common = { remoteStatic: new Uint8Array(32), remoteTimestampMs: 0 };
  const initiatorSession = new Session(
    { ...common, sendKey: unhex(I.transportKeyIR), recvKey: unhex(I.transportKeyRI), localSid: I.initiatorSid, remoteSid: I.responderSid, initiator: true },
    0,
  );
  const responderSession = new Session(
    { ...common, sendKey: unhex(I.transportKeyRI), recvKey: unhex(I.transportKeyIR), localSid: I.responderSid, remoteSid: I.initiatorSid, initiator: false },
    0,
  );
  const frame = new Uint8Array(encodeFrame(vectorFrame(), I.framePaddingTarget));
  const data = new Uint8Array(initiatorSession.seal(frame, 0));
  return { frame, data, initiatorSession, responderSession };
}

/** The JSON form stored in test/fixtures/protocol-v5-frame-vectors.json (all byte strings in hex). */
export function vectorsToJson(v: ProtocolVectors): Record<string, unknown> {
  return {
    description: 'udpvault native protocol v4, frame version 5 (a msgpack array): frame and data vectors (docs/PROTOCOL.md §17.2–17.4); made by test/helpers/protocol-vectors.ts',
    inputs: { ...VECTOR_INPUTS },
    frame: hex(v.frame),
    data: hex(v.data),
  };
}
