/**
 * One established session: directional keys, send counter, receive replay window.
 * Data datagram = header(13: 0x43, receiver sid, counter) ‖ XChaCha20-Poly1305(frame),
 * with AD = header and nonce = 16 zero bytes ‖ counter (8 bytes, big endian). Keys are unique
 * per session and direction, so a counter nonce never repeats under one key.
 */
import { DATA_HEADER_BYTES, AEAD_TAG_BYTES } from '../constants';
import { encodeDataHeader } from '../wire/packet';
import { aeadDecrypt, aeadSealWithHeader, wipe } from './sodium';
import { ReplayWindow } from './replay';

/** What a completed handshake hands to a session. */
export interface HandshakeKeys {
  sendKey: Uint8Array;
  recvKey: Uint8Array;
  localSid: number;
  remoteSid: number;
  initiator: boolean;
  remoteStatic: Uint8Array;
  remoteTimestampMs: number;
}

export interface SessionLimits {
  rekeyAfterMs: number;
  rekeyAfterMessages: number;
  rejectAfterMs: number;
}

export class Session {
  readonly localSid: number;
  readonly remoteSid: number;
  readonly initiator: boolean;
  readonly createdAtMs: number;
  lastReceivedAtMs: number;
  lastSentAtMs: number;
  /** Responder sessions send only after the initiator's first packet proves it has the keys. */
  confirmed: boolean;
  /** The peer's signed handshake timestamp (its init's for a responder session). */
  readonly remoteTimestampMs: number;
  /** The peer's identity key that signed the handshake (public; trust decisions wait for confirmation). */
  readonly remoteStatic: Uint8Array;
  /** The peer's frame clock minus our wall clock, measured at the handshake: incoming frame timestamps are judged against it. */
  clockOffsetMs = 0;
  /** Added to our wall clock in outgoing frame timestamps: our handshake timestamp minus our wall clock when we signed it (0 unless our clock stepped back). */
  timeBiasMs = 0;
  /** When the node acted on the confirmation (replay mark persisted, peer established), or null. */
  establishedAtMs: number | null = null;
  #sendKey: Uint8Array;
  #recvKey: Uint8Array;
  #sendCounter = 0;
  #replay: ReplayWindow;
  #nonce = new Uint8Array(24);
  #recvNonce = new Uint8Array(24);
  #wiped = false;

  constructor(keys: HandshakeKeys, nowMs: number, replayWindowPackets?: number) {
    this.localSid = keys.localSid;
    this.remoteSid = keys.remoteSid;
    this.initiator = keys.initiator;
    this.#sendKey = keys.sendKey;
    this.#recvKey = keys.recvKey;
    this.createdAtMs = nowMs;
    this.lastReceivedAtMs = nowMs;
    this.lastSentAtMs = nowMs;
    this.confirmed = keys.initiator;
    this.remoteTimestampMs = keys.remoteTimestampMs;
    this.remoteStatic = keys.remoteStatic;
    this.#replay = new ReplayWindow(replayWindowPackets);
  }

  get sendCounter(): number {
    return this.#sendCounter;
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  /** Encrypts a frame into one whole data datagram: header ‖ ciphertext ‖ tag. */
  seal(frame: Uint8Array, nowMs: number): Buffer {
    const counter = this.#sendCounter++;
    const header = encodeDataHeader(this.remoteSid, counter);
    this.#nonce.set(header.subarray(5, 13), 16);
    this.lastSentAtMs = nowMs;
    return aeadSealWithHeader(header, frame, this.#nonce, this.#sendKey);
  }

  /** Cheap pre-check before decryption. */
  mayAccept(counter: number): boolean {
    return !this.#wiped && this.#replay.wouldAccept(counter);
  }

  /**
   * Decrypts a data datagram. Returns the frame, 'auth' when authentication fails, or
   * 'replay' when the counter was already accepted or is older than the window.
   */
  open(datagram: Uint8Array, counter: number, nowMs: number): Uint8Array | 'auth' | 'replay' {
    if (this.#wiped || datagram.length < DATA_HEADER_BYTES + AEAD_TAG_BYTES) return 'auth';
    if (!this.#replay.wouldAccept(counter)) return 'replay';
    this.#recvNonce.set(datagram.subarray(5, 13), 16); // 16 zero bytes ‖ counter, reused per session
    const plain = aeadDecrypt(datagram.subarray(DATA_HEADER_BYTES), datagram.subarray(0, DATA_HEADER_BYTES), this.#recvNonce, this.#recvKey);
    if (plain === null) return 'auth';
    if (!this.#replay.accept(counter)) return 'replay';
    this.lastReceivedAtMs = nowMs;
    this.confirmed = true;
    return plain;
  }

  needsRekey(nowMs: number, l: SessionLimits): boolean {
    return nowMs - this.createdAtMs >= l.rekeyAfterMs || this.#sendCounter >= l.rekeyAfterMessages;
  }

  /** Past this, the session may neither send nor receive. */
  expired(nowMs: number, l: SessionLimits): boolean {
    return this.#wiped || nowMs - this.createdAtMs >= l.rejectAfterMs || this.#sendCounter >= l.rekeyAfterMessages * 2;
  }

  wipe(): void {
    if (this.#wiped) return;
    wipe(this.#sendKey);
    wipe(this.#recvKey);
    this.#wiped = true;
  }
}
