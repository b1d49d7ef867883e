/**
 * The responder side of handshake v4 in the node (docs/PROTOCOL.md §2–§5), after the gate: an IK
 * init is answered once its static names a peer (O(1) by X25519 static, or a key-less peer's
 * endpoint), with the crossing rule and the replay mark; XX msg1 only from a key-less peer's
 * endpoint; XX msg3 confirms. What the driver (handshake-v4.ts) shares with it is V4Core.
 */
import { DropError } from '../../errors';
import type { Session } from '../../crypto/session';
import { addFreshMacs, ANONYMOUS_STATIC } from '../../crypto/cookie';
import { staticFingerprint } from '../../crypto/fingerprint';
import { formatEndpoint } from '../../peer/endpoint';
import type { HandshakeResult, NoiseStatic } from '../../crypto/noise/common';
import { NoiseError } from '../../crypto/noise/handshake-state';
import { IkResponder, type OwnPayload } from '../../crypto/noise/ik';
import { XxResponder } from '../../crypto/noise/xx';
import { encodeHandshake, parseHandshake, V4, type HandshakeMessage } from '../../wire/handshake-v4';
import type { Datagram } from '../../net/transport';
import type { Peer } from '../../peer/peer';
import type { NodeContext } from '../context';
import { HANDSHAKE_RETRY_MS } from '../../constants';
import { responderOffset } from '../../peer/clock-offset';
import { sessionConfirmed } from './handshake';
import { tickLink } from './timers';
import { markToStoredMs } from './link-v4';
import { staticKeyString } from '../../peer/trust';
import type { NativeLink } from './link';
import { noise, NOISE_DROP } from './noise-drop';
import type { RefusedInits } from './refused-inits';

/** A crossing init this long after ours means the peer probably refused ours (did not know us yet). */
const RESEND_AFTER_MS = 20;
/** After ignoring a crossing init, how long the peer has to answer ours before we resend it. */
const CROSSING_ANSWER_WAIT_MS = 100;

/**
 * An init from a peer whose previous init we answered less than this long ago is not answered
 * again. Below the peer's second retry (first retry ~400 ms, the next ~800 ms later), so a lost
 * answer costs at most one more retry interval.
 */
export const ANSWERED_RECENTLY_MS = 1_000;

/** Our newest session with the peer (confirmed or not) was made by answering its init within ANSWERED_RECENTLY_MS. */
function answeredRecently(link: NativeLink, now: number): boolean {
  const young = (s: Session | null): boolean => s !== null && !s.initiator && now - s.createdAtMs < ANSWERED_RECENTLY_MS;
  return young(link.keypairs.next) || young(link.current(now));
}

/** What the handshake driver (V4Handshakes) lends the responder functions. */
export interface V4Core {
  readonly ctx: NodeContext;
  readonly local: NoiseStatic;
  linkOf(peer: Peer | undefined): NativeLink | undefined;
  payload(sessionId: number): OwnPayload;
  install(link: NativeLink, r: HandshakeResult, confirmed: boolean, clockOffsetMs: number): Session;
  raiseMark(link: NativeLink, ts: Uint8Array): void;
  attributed(peer: Peer, fn: () => void): void;
  send(link: NativeLink, bytes: Uint8Array, to: { address: string; port: number }): void;
  resendPending(link: NativeLink): void;
  /** IK inits refused for naming no peer, kept for a moment (answerRefusedInit). */
  readonly refused: RefusedInits;
}

/**
 * IK init (after the gate): the static names a peer (or a key-less peer's endpoint), then
 * respondIk. `replayed`: a refused init answered after its peer was added (answerRefusedInit),
 * never kept again.
 */
export function onIkInit(hs: V4Core, m: HandshakeMessage, d: Datagram, replayed = false): void {
const { ctx } = hs;
  let link: NativeLink | undefined;
  /** The peer the init's static named (its key's X25519 form is that static: the table's index). */
  let knownKey: Uint8Array | null = null;
  let responder: IkResponder;
  try {
    responder = IkResponder.readInit({
      local: hs.local,
      message: m.noise,
      random: ctx.random,
      onRemoteStatic: (rs) => {
        const known = ctx.peers.byStatic(staticKeyString(rs));
        if (known) {
          link = hs.linkOf(known);
          if (!link) throw new DropError('unknownPeer', 'handshake from a peer of another protocol');
          knownKey = known.key;
          return link.v4.staticStatic(hs.local, known.key!, known.keyString!);
        }
        // Unknown key from a peer's endpoint: a key-less (TOFU) peer may be introduced by it;
        // for a peer with a key it is a changed key (refused and reported after the payload).
        const at = hs.linkOf(ctx.peers.byEndpoint(d.address, d.port));
        if (at) {
          link = at;
          return undefined;
        }
        ctx.emitRefused({ reason: 'unknown-identity', source: formatEndpoint(d), staticFingerprint: staticFingerprint(rs) });
        if (!replayed) hs.refused.remember(staticKeyString(rs), d, ctx.clock.monotonic()); // answered if the peer is added soon (answerRefusedInit)
        throw new DropError('unknownPeer', 'handshake from an identity that is not a peer');
      },
      knownIdentity: () => knownKey,
    });
  } catch (e) {
    // After the static decrypted and named a peer, a refusal is counted on that peer too.
    if (link && e instanceof NoiseError) return ctx.drop(NOISE_DROP[e.reason], link.peer, e.message);
    if (e instanceof NoiseError) throw new DropError(NOISE_DROP[e.reason], e.message);
    throw e;
  }
  const l = link!;
  try {
    hs.attributed(l.peer, () => respondIk(hs, l, responder, d));
  } finally {
    responder.destroy();
  }
}

function respondIk(hs: V4Core, link: NativeLink, responder: IkResponder, d: Datagram): void {
  const { ctx, peer } = link;
  const identity = responder.remoteIdentity;
  if (peer.key !== null) peer.verifyingKey(identity); // P versus −P: keyChanged (reported once for TOFU)
  const now = ctx.clock.monotonic();
  const fromOurEndpoint = peer.endpoint.address === d.address && peer.endpoint.port === d.port;
  if (link.handshaker.keepsOwnAttempt(now, ctx.identity.publicKey, identity, fromOurEndpoint, HANDSHAKE_RETRY_MS)) {
    if (!link.handshaker.resent) {
      if (now - link.handshaker.startedAtMs > RESEND_AFTER_MS) hs.resendPending(link);
      else {
        link.timers.crossingInitIgnored(now, CROSSING_ANSWER_WAIT_MS);
        // On time, not at the next 100 ms tick after it: a peer that refused our init (it did not
        // know us yet) and then sent its own would otherwise wait up to 200 ms for our resend.
        ctx.scheduler.timeout(() => {
          if (link.alive && link.handshakePending) tickLink(link, ctx.clock.monotonic());
        }, CROSSING_ANSWER_WAIT_MS);
      }
    }
    ctx.log.debug({ peer: peer.label() }, 'crossing handshake init ignored (ours is pending)');
    return;
  }
  const ts = responder.remotePayload.timestamp;
  if (peer.key !== null) {
    // Replay: compared only with this identity's own earlier timestamps (never our clock).
    const mark = link.v4.mark(peer.keyString!);
    if (!mark.isFresh(ts)) throw new DropError('replay', 'handshake timestamp not newer than the last accepted one');
    mark.accept(ts);
    peer.acceptHandshakeTs(markToStoredMs(ts)); // raised in memory now; persisted when the session is confirmed
  }
  if (answeredRecently(link, now)) {
    // A retry the peer sent before our answer reached it (a busy node answers late, and its
    // backlog holds several inits of one peer): the earlier answer completes its older attempt,
    // which stays answerable. Answering again would cost three more Diffie-Hellman operations
    // and a competing session, and undo the work done once. A lost answer is repaired by the
    // peer's next retry, which comes after this window. (After the replay check: a replayed
    // init is refused and counted as a replay.)
    ctx.log.debug({ peer: peer.label() }, 'handshake init ignored: we answered one of this peer a moment ago');
    return;
  }
  const sid = link.handshaker.newSessionId();
  const { message, result } = noise(() => responder.respond(hs.payload(sid)));
  // Unconfirmed: it cannot send, and nothing is recorded until the initiator's first data
  // packet on it (receive.ts → sessionConfirmed). A key-less peer's candidate key rides along.
  hs.install(link, result, false, responderOffset(result.remotePayload.wallClockMs, ctx.clock.now()));
  const bytes = encodeHandshake(V4.ikResponse, result.remoteSessionId, message);
  addFreshMacs(bytes, result.remoteStatic); // as a fresh CookieGenerator would (no cookie held for an answer)
  hs.send(link, bytes, d);
}

/**
 * The peer was just added (NativeLink.start, no session yet): if an IK init of its key was
 * refused a moment ago (we did not know it yet: RefusedInits), answer that init now, through the
 * full read, the replay mark and respondIk, instead of starting an attempt of our own. The
 * initiator's attempt is still pending, so first contact takes one round trip and one handshake
 * (PROTOCOL §5.5). True when an answer went out (an unconfirmed responder session is installed;
 * if it is never confirmed, timers.ts onNoSession starts our own attempt 1.5 s later).
 */
export function answerRefusedInit(hs: V4Core, link: NativeLink): boolean {
  const { ctx, peer } = link;
  const staticKey = peer.trust.staticKey;
  if (staticKey === null || hs.refused.size === 0) return false;
  const d = hs.refused.take(staticKey, ctx.clock.monotonic());
  if (!d) return false;
  const before = link.keypairs.size;
  try {
    onIkInit(hs, parseHandshake(d.data), d, true);
  } catch (e) {
    if (!(e instanceof DropError)) throw e;
    ctx.drop(e.reason, peer, e.message);
  }
  return link.keypairs.size > before;
}

/** XX msg1 (TOFU first contact, cookie-gated): only from a key-less peer's endpoint; answers msg2. */
export function onXx1(hs: V4Core, m: HandshakeMessage, d: Datagram): void {
const { ctx } = hs;
  const link = hs.linkOf(ctx.peers.byEndpoint(d.address, d.port));
  if (!link || link.peer.key !== null) throw new DropError('unknownPeer', 'XX first contact from an address that is not a key-less peer');
  const responder = noise(() => XxResponder.readMessage1({ local: hs.local, message: m.noise, random: ctx.random }));
  const sid = link.handshaker.newSessionId();
  let msg2: Uint8Array;
  try {
    msg2 = noise(() => responder.writeMessage2(hs.payload(sid)));
  } catch (e) {
    responder.destroy();
    throw e;
  }
  const old = link.v4.setXxResponder(sid, responder);
  if (old) ctx.peers.unbindPending(old.sid);
  ctx.peers.bindPending(link.peer, sid);
  const bytes = encodeHandshake(V4.xx2, responder.remoteSessionId, msg2);
  addFreshMacs(bytes, ANONYMOUS_STATIC);
  hs.send(link, bytes, d);
}

/** XX msg3: bound to our fresh ephemeral, it confirms the session at once. */
export function onXx3(hs: V4Core, m: HandshakeMessage, d: Datagram): void {
const { ctx } = hs;
  const sid = m.receiverSid!;
  const link = hs.linkOf(ctx.peers.pendingPeer(sid));
  const responder = link?.v4.xxResponder(sid);
  if (!link || !responder) throw new DropError('unknownSession', 'XX msg3 matches no exchange');
  hs.attributed(link.peer, () => {
    const result = noise(() =>
      responder.consumeMessage3(m.noise, (identity) => {
        if (link.peer.key !== null) link.peer.verifyingKey(identity);
      }),
    );
    ctx.peers.unbindPending(sid);
    link.v4.endXxResponder();
    // msg3 is bound to our fresh ephemeral: the session is confirmed now.
    const session = hs.install(link, result, true, responderOffset(result.remotePayload.wallClockMs, ctx.clock.now()));
    sessionConfirmed(link, session, d);
    hs.raiseMark(link, result.remotePayload.timestamp);
  });
}
