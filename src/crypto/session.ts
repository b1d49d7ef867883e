/**
 * One established session: directional keys, send counter, receive replay window.
 * Data datagram = header(13: 0x43, receiver sid, counter) ‖ XChaCha20-Poly1305(frame),
 * with AD = header and nonce = 16 zero bytes ‖ counter (8 bytes, big endian). Keys are unique
 * per session and direction, so a counter nonce never repeats under one key.
 */
import { DATA_HEADER_BYTES, AEAD_TAG_BYTES } from '../constants';
import { writeDataHeader } from '../wire/packet';
import { cipherPair, packetCipher, type CipherPair } from './aead';
import { ReplayWindow } from './replay';

/**
 * Received plaintexts are views into shared 16 KiB slabs (one allocation per ~13 full-size
 * datagrams, not per datagram), like Node's 8 KiB Buffer pool; a message kept by the
 * application, the inbox or the reliable reorder buffer keeps its slab alive (at most 16 KiB
 * for a message, whatever its size). Plaintexts above 4 KiB get their own buffer.
 */
const PLAIN_SLAB_BYTES = 16 * 1024;
let plainSlab = new ArrayBuffer(PLAIN_SLAB_BYTES);
let plainUsed = 0;
function plainView(n: number): Uint8Array {
  if (n > PLAIN_SLAB_BYTES / 4) return new Uint8Array(n);
  if (plainUsed + n > PLAIN_SLAB_BYTES) {
    plainSlab = new ArrayBuffer(PLAIN_SLAB_BYTES);
    plainUsed = 0;
  }
  const v = new Uint8Array(plainSlab, plainUsed, n);
  plainUsed += (n + 7) & ~7;
  return v;
}

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

/**
 * A session's times (created, last received, last sent) stay exact: the tick orders them against
 * the handshake's start and each other (timers.ts "the peer's handshake won", keypairs' crossing
 * and grace rules), and whole milliseconds would make events of one millisecond simultaneous
 * (test/sim/datagram-acks.test.ts, sub-ms RTTs, sent other datagrams).
 */
const INITIATOR = 1;
const CONFIRMED = 2;
const LIMITS_ANNOUNCED = 4;
const WIPED = 8;

export class Session {
  /** The session ids as int32 (`| 0`): a small integer in the field, where a uint32 above 2^31 is a boxed double (issue 12). */
  readonly #localSid: number;
  readonly #remoteSid: number;
  readonly createdAtMs: number;
  lastReceivedAtMs: number;
  lastSentAtMs: number;
  /**
   * The peer's signed handshake timestamp (its init's for a responder session), in the store's
   * unit; null once the confirmation recorded it (issue 12: nothing reads it after that).
   */
  remoteTimestampMs: number | null;
  /** The peer's identity key that signed the handshake (public; trust decisions wait for confirmation). */
  readonly remoteStatic: Uint8Array;
  /** Null-first, a small integer when it is one (issue 12: not a boxed double per session); see the accessors. */
  #clockOffsetMs: number | null = null;
  /** Added to our wall clock in outgoing frame timestamps: our handshake timestamp minus our wall clock when we signed it (0 unless our clock stepped back). */
  timeBiasMs = 0;
  /** When the node acted on the confirmation (replay mark persisted, peer established), or null. */
  establishedAtMs: number | null = null;
  /** Both directions' packet ciphers in one object (src/crypto/aead.ts; pack19): they zero the handshake's key arrays once their subkeys exist. */
  readonly #keys: CipherPair;
  #sendCounter = 0;
  #replay: ReplayWindow;
  /** initiator, confirmed, limitsAnnounced, wiped: bits of one small integer, not four fields (issue 12). */
  #flags = 0;
  /**
   * The peer this session is bound to in the node's session-id map (PeerTable.bindSession; null:
   * not bound). The map holds the session itself, not a `{peer, session}` object per session (mem20, issue 12).
   */
  owner: object | null = null;

  constructor(keys: HandshakeKeys, nowMs: number, replayWindowPackets?: number) {
    this.#localSid = keys.localSid | 0;
    this.#remoteSid = keys.remoteSid | 0;
    if (keys.initiator) this.#flags = INITIATOR | CONFIRMED;
    this.#keys = cipherPair(packetCipher(keys.sendKey), packetCipher(keys.recvKey));
    this.createdAtMs = nowMs;
    this.lastReceivedAtMs = nowMs;
    this.lastSentAtMs = nowMs;
    this.remoteTimestampMs = keys.remoteTimestampMs;
    this.remoteStatic = keys.remoteStatic;
    this.#replay = new ReplayWindow(replayWindowPackets);
  }

  /** Our session id (the receiver index of the peer's datagrams). */
  get localSid(): number {
    return this.#localSid >>> 0;
  }

  /** The peer's session id (the receiver index in our datagrams' header). */
  get remoteSid(): number {
    return this.#remoteSid >>> 0;
  }

  /** The peer's frame clock minus our wall clock, measured at the handshake: incoming frame timestamps are judged against it. */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs ?? 0;
  }
  set clockOffsetMs(ms: number) {
    this.#clockOffsetMs = (ms | 0) === ms ? ms | 0 : ms;
  }

  /** We started the handshake of this session. */
  get initiator(): boolean {
    return (this.#flags & INITIATOR) !== 0;
  }

  /** Responder sessions send only after the initiator's first packet proves it has the keys. */
  get confirmed(): boolean {
    return (this.#flags & CONFIRMED) !== 0;
  }
  set confirmed(yes: boolean) {
    this.#flags = yes ? this.#flags | CONFIRMED : this.#flags & ~CONFIRMED;
  }

  /** We announced our maxMessageBytes on this session (engine/native/limits.ts: once per session). */
  get limitsAnnounced(): boolean {
    return (this.#flags & LIMITS_ANNOUNCED) !== 0;
  }
  set limitsAnnounced(yes: boolean) {
    this.#flags = yes ? this.#flags | LIMITS_ANNOUNCED : this.#flags & ~LIMITS_ANNOUNCED;
  }

  get sendCounter(): number {
    return this.#sendCounter;
  }

  get wiped(): boolean {
    return (this.#flags & WIPED) !== 0;
  }

  /** Encrypts a frame into one whole data datagram: header ‖ ciphertext ‖ tag (a new buffer). */
  seal(frame: Uint8Array, nowMs: number): Buffer {
    const out = Buffer.allocUnsafe(DATA_HEADER_BYTES + frame.length + AEAD_TAG_BYTES);
    out.set(frame, DATA_HEADER_BYTES);
    this.sealInto(out, frame.length, nowMs);
    return out;
  }

  /**
   * The hot path: the frame is already at `buf[13, 13 + frameBytes)`; writes the header before it
   * and seals in place, the tag after it. Returns the datagram's length (frameBytes + 29).
   */
  sealInto(buf: Uint8Array, frameBytes: number, nowMs: number): number {
    writeDataHeader(buf, this.#remoteSid >>> 0, this.#sendCounter++);
    this.lastSentAtMs = nowMs;
    this.#keys.seal(buf, DATA_HEADER_BYTES, frameBytes);
    return DATA_HEADER_BYTES + frameBytes + AEAD_TAG_BYTES;
  }

  /** Cheap pre-check before decryption. */
  mayAccept(counter: number): boolean {
    return (this.#flags & WIPED) === 0 && this.#replay.wouldAccept(counter);
  }

  /**
   * Decrypts a data datagram. Returns the frame, 'auth' when authentication fails, or
   * 'replay' when the counter was already accepted or is older than the window.
   */
  open(datagram: Uint8Array, counter: number, nowMs: number): Uint8Array | 'auth' | 'replay' {
    if ((this.#flags & WIPED) !== 0 || datagram.length < DATA_HEADER_BYTES + AEAD_TAG_BYTES) return 'auth';
    if (!this.#replay.wouldAccept(counter)) return 'replay';
    return Session.#open(this, datagram, counter, nowMs, plainView(datagram.length - DATA_HEADER_BYTES - AEAD_TAG_BYTES));
  }

  /**
   * As open(), decrypting in place: the frame is a view of the datagram's own ciphertext bytes
   * (no plaintext memory allocated; the datagram's header stays, its ciphertext is overwritten
   * by the frame — or zeroed when authentication fails — and its tag is left). For the receive
   * path, whose datagram is the transport's own buffer and is not read again (issue 12). A
   * replayed counter is refused before anything is written.
   */
  openInPlace(datagram: Uint8Array, counter: number, nowMs: number): Uint8Array | 'auth' | 'replay' {
    const n = datagram.length - DATA_HEADER_BYTES - AEAD_TAG_BYTES;
    if ((this.#flags & WIPED) !== 0 || n < 0) return 'auth';
    if (!this.#replay.wouldAccept(counter)) return 'replay';
    return Session.#open(this, datagram, counter, nowMs, new Uint8Array(datagram.buffer, datagram.byteOffset + DATA_HEADER_BYTES, n));
  }

  // Helpers are `static #`, not private instance methods: those give every instance a brand field (8 B per idle peer; mem22, issue 12).
  static #open(self: Session, datagram: Uint8Array, counter: number, nowMs: number, plain: Uint8Array): Uint8Array | 'auth' | 'replay' {
    if (!self.#keys.open(datagram, DATA_HEADER_BYTES, plain)) return 'auth';
    if (!self.#replay.accept(counter)) return 'replay';
    self.lastReceivedAtMs = nowMs;
    self.#flags |= CONFIRMED;
    return plain;
  }

  needsRekey(nowMs: number, l: SessionLimits): boolean {
    return nowMs - this.createdAtMs >= l.rekeyAfterMs || this.#sendCounter >= l.rekeyAfterMessages;
  }

  /** Past this, the session may neither send nor receive. */
  expired(nowMs: number, l: SessionLimits): boolean {
    // sendCounter ≥ 2 × rekeyAfterMessages without computing the product (2^33 by default: a heap
    // number per call in unoptimized code, and this runs at every tick of every link)
    const c = this.#sendCounter;
    return (this.#flags & WIPED) !== 0 || nowMs - this.createdAtMs >= l.rejectAfterMs || (c >= l.rekeyAfterMessages && c - l.rekeyAfterMessages >= l.rekeyAfterMessages);
  }

  /** @internal The memory of both directions' keys (send, receive) while held, for wipe tests. */
  secretViews(): Uint8Array[] {
    return this.#keys.keyViews();
  }

  wipe(): void {
    if ((this.#flags & WIPED) !== 0) return;
    this.#keys.wipe();
    this.#flags |= WIPED;
  }
}
