/**
 * THE settings schema (SPEC §5): for every setting its type and accepted values, default,
 * unit, meaning, environment variable and whether a reload applies it live or needs a restart.
 * `Settings`, the defaults, config/default.json, the environment names, the loader and the
 * reload diff all derive from this table; cross-field rules are in ./relations.ts.
 */
import * as C from '../constants';
import { bool, int, ipAddress, listenAddressOrOff, mtu, oneOf, type ValueRule } from './rules';

export type Unit = 'ms' | 'bytes' | 'messages' | 'packets' | 'packets/s' | 'handshakes' | 'handshakes/s' | 'datagrams' | 'peers' | 'connections' | 'subscriptions';

/**
 * 'live': a reload (SIGHUP) applies the new value to every component that holds it;
 * 'restart': the value is read once at start; a reload names it in the log as needing a restart.
 */
export type ApplyOn = 'live' | 'restart';

export interface SettingSpec<T> extends ValueRule<T> {
  readonly default: T;
  readonly description: string;
  readonly unit: Unit | null;
  readonly apply: ApplyOn;
}

function s<T>(rule: ValueRule<T>, def: T, apply: ApplyOn, unit: Unit | null, description: string): SettingSpec<T> {
  return { ...rule, default: def, apply, unit, description };
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const HOUR = 3_600_000;

export const SCHEMA = {
  // ---- network -------------------------------------------------------------------------
  port: s(int(0, 65535), C.DEFAULT_PORT, 'restart', null, 'UDP port the daemon listens on (0 = any free port).'),
  host: s(ipAddress, '0.0.0.0', 'restart', null, "Bind address: '0.0.0.0' = all IPv4 interfaces, '::' = IPv6 dual stack, '127.0.0.1' = this machine only."),
  mtu: s(mtu, 'auto' as 'auto' | number, 'restart', 'bytes', "Path MTU used to size datagrams: 'auto' = lowest MTU of the up, non-loopback interfaces (else 1500). No datagram is larger than this minus IP and UDP headers."),
  padding: s(oneOf(['mtu', 'bucket', 'none']), 'bucket', 'live', null, "Padding inside the encryption: 'bucket' (up to the next of a few sizes), 'mtu' (every datagram to the maximum) or 'none'."),
  compressionLevel: s(int(1, 22), C.COMPRESSION_LEVEL, 'live', null, 'zstd compression level of payloads; compression is used only when it makes the payload smaller.'),
  aeadBackend: s(oneOf(['auto', 'native', 'wasm']), 'auto' as 'auto' | 'native' | 'wasm', 'restart', null, "Crypto backend of every primitive (handshakes, signatures, cookies, data packets): 'auto' = sodium-native (an optional dependency, prebuilt) when it loads, else libsodium's WebAssembly build (then loaded; on sodium-native it never is); 'wasm' forces the latter, 'native' refuses to start without sodium-native. The wire bytes are the same. Process-wide: applies to what a node does after it starts with it."),
  maxMessageBytes: s(int(1, 64 * MiB), C.MAX_MESSAGE_BYTES, 'restart', 'bytes', 'Largest message; messages larger than one datagram are fragmented and reassembled.'),
  // ---- sessions ------------------------------------------------------------------------
  freshnessWindowMs: s(int(1000, HOUR), C.FRESHNESS_WINDOW_MS, 'live', 'ms', 'Data-frame timestamps further than this from where the sender clock should be (its offset is measured at each handshake: clocks need not agree) are rejected.'),
  rekeyAfterMs: s(int(100, 24 * HOUR), C.REKEY_AFTER_MS, 'live', 'ms', 'A new handshake (new session keys) is made after this time.'),
  rekeyAfterMessages: s(int(1, Number.MAX_SAFE_INTEGER, 'an integer 1..2^53-1'), C.REKEY_AFTER_MESSAGES, 'live', 'messages', 'A new handshake is made after this many messages on one session.'),
  rejectAfterMs: s(int(1000, 48 * HOUR), C.REJECT_AFTER_MS, 'live', 'ms', 'A session older than this is no longer used (session expiry); must be greater than rekeyAfterMs and keepaliveMs.'),
  sessionGraceMs: s(int(0, 600_000), C.PREVIOUS_SESSION_GRACE_MS, 'live', 'ms', 'After a rekey the previous session keeps accepting in-flight packets this long, then is wiped.'),
  keepaliveMs: s(int(1000, HOUR), C.KEEPALIVE_MS, 'live', 'ms', 'Interval of keepalive packets that keep NAT mappings open; must be less than rejectAfterMs.'),
  handshakeTimeoutMs: s(int(100, 600_000), C.QUEUE_TIMEOUT_MS, 'live', 'ms', 'Messages queued while no session exists fail after this time without a completed handshake.'),
  livenessTimeoutMs: s(int(1000, HOUR), 10_000, 'live', 'ms', 'A peer that was sent to and has answered nothing for this long is probed with a new handshake.'),
  unreachableAfterMs: s(int(100, HOUR), 5_000, 'live', 'ms', 'A probed peer still silent this much later is reported unreachable (livenessTimeoutMs + unreachableAfterMs = time to report).'),
  // ---- queues and delivery -------------------------------------------------------------
  queueMaxMessages: s(int(1, 1_000_000), C.QUEUE_MAX_MESSAGES, 'live', 'messages', 'Messages queued per peer while waiting for a handshake.'),
  queueMaxBytes: s(int(1, GiB), C.QUEUE_MAX_BYTES, 'live', 'bytes', 'Bytes queued per peer while waiting for a handshake; at least maxMessageBytes.'),
  datagramWindowWaitMs: s(int(0, 60_000), 50, 'live', 'ms', 'A datagram-mode message that cannot enter the congestion window within this time is dropped at the sender and counted (ERR_CONGESTION).'),
  congestionControl: s(oneOf(['cubic', 'newreno']), 'cubic', 'restart', null, "Congestion controller of every peer path: 'cubic' (RFC 9438: a fair share next to CUBIC TCP) or 'newreno' (RFC 9002: halves on loss, yields more to TCP)."),
  closeGraceMs: s(int(0, HOUR), 2_000, 'live', 'ms', 'On close()/SIGTERM, reliable messages in flight get this long to be acknowledged; then those transmitted fail with ERR_NOT_ACKNOWLEDGED (outcome unknown), the others with ERR_CLOSED.'),
  reliableTimeoutMs: s(int(100, HOUR), 30_000, 'live', 'ms', 'A reliable message not acknowledged within this time fails (ERR_NOT_ACKNOWLEDGED: it may still arrive).'),
  reliableWindow: s(int(1, 65536), 512, 'restart', 'datagrams', 'Unacknowledged reliable datagrams in flight per peer.'),
  reassemblyTimeoutMs: s(int(100, HOUR), 30_000, 'restart', 'ms', 'An incompletely received fragmented message is discarded after this time.'),
  reassemblyPeerBytes: s(int(1, 16 * GiB), 4 * C.MAX_MESSAGE_BYTES, 'restart', 'bytes', 'Memory bound for messages being reassembled from one peer; at least maxMessageBytes.'),
  reassemblyTotalBytes: s(int(1, 64 * GiB), 64 * C.MAX_MESSAGE_BYTES, 'restart', 'bytes', 'Memory bound for messages being reassembled from all peers together; at least reassemblyPeerBytes.'),
  inboxMaxMessages: s(int(1, 10_000_000), 10_000, 'live', 'messages', 'Received messages kept while no reader is attached (subscribe --backlog); when full the receiver stops granting credit.'),
  inboxMaxBytes: s(int(1, 16 * GiB), 64 * MiB, 'live', 'bytes', 'Bytes of received messages kept while no reader is attached; at least maxMessageBytes.'),
  inboxFsync: s(bool, false, 'live', null, 'Write the inbox to disk and fsync before acknowledging a reliable message (slower; survives a crash).'),
  // ---- rate limits ---------------------------------------------------------------------
  // Charged only for authenticated packets (flood defence is authentication-first), so the default
  // sits above what any one path delivers (a 10 Gb/s link of 1500-byte datagrams: ~830k/s; one
  // Node core receives < 400k/s): it must never cap a legitimate bulk sender (issue 12).
  peerPacketsPerSecond: s(int(1, 100_000_000), 1_000_000, 'restart', 'packets/s', 'Token-bucket rate of packets accepted from one peer (charged only for packets that authenticated); excess packets are dropped and counted. The default is above any single path\'s capacity, so it never caps a legitimate bulk sender.'),
  peerPacketBurst: s(int(1, 100_000_000), 100_000, 'restart', 'packets', 'Token-bucket burst of packets accepted from one peer.'),
  handshakesPerSecondPerIp: s(int(1, 100_000), 50, 'restart', 'handshakes/s', 'Ceiling of the handshake inits one source (an IPv4 address or an IPv6 /64) may have verified per second; its fair share of handshakesPerSecond is lower while many sources are active. Checked after mac1, before any Diffie-Hellman.'),
  handshakeBurstPerIp: s(int(1, 1_000_000), 100, 'restart', 'handshakes', 'Burst of handshake inits verified for one source (IPv4 address or IPv6 /64).'),
  handshakesPerSecond: s(int(1, 1_000_000), 2000, 'restart', 'handshakes/s', 'Handshake inits verified per second by the whole node (the global verification budget: each costs one or two Diffie-Hellman, ~0.2–0.4 ms with libsodium.js); under load, inits must first prove a cookie for their source address.'),
  handshakeBurst: s(int(1, 10_000_000), 500, 'restart', 'handshakes', 'Burst of the global handshake verification budget.'),
  globalPacketsPerSecond: s(int(1, 100_000_000), 400_000, 'restart', 'packets/s', 'Packets accepted per second in total, all sources together.'),
  // ---- control socket ------------------------------------------------------------------
  subscriberBufferMessages: s(int(1, 10_000_000), 10_000, 'live', 'messages', 'Messages buffered for a slow control-socket subscriber before further ones are dropped for it (it is told how many it lost).'),
  subscriberBufferBytes: s(int(1, 4 * GiB), 16 * MiB, 'live', 'bytes', 'Bytes buffered for a slow control-socket subscriber (same rule as subscriberBufferMessages); at least maxMessageBytes.'),
  maxSubscriptionsPerConnection: s(int(1, 1024), 16, 'live', 'subscriptions', 'Subscriptions one control connection may hold.'),
  maxControlConnections: s(int(1, 65536), 64, 'live', 'connections', 'Control-socket connections served at once; further ones are refused (ERR_TOO_MANY_CONNECTIONS).'),
  // ---- operations ----------------------------------------------------------------------
  metrics: s(listenAddressOrOff, '', 'restart', null, 'Prometheus endpoint address, e.g. "127.0.0.1:9464"; "" = off.'),
  metricsMaxPeers: s(int(0, 10_000), 100, 'restart', 'peers', 'Peers with their own metric series (the others are counted together).'),
  logLevel: s(oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info', 'live', null, 'Level of the JSON log lines on stdout. Logs never contain key material or payload bytes.'),
} as const;

export type SettingKey = keyof typeof SCHEMA;
type ValueOf<S> = S extends SettingSpec<infer T> ? T : never;

/** Every runtime setting (derived from SCHEMA). */
export type Settings = { -readonly [K in SettingKey]: ValueOf<(typeof SCHEMA)[K]> };
export type PaddingPolicy = Settings['padding'];
export type LogLevel = Settings['logLevel'];

export const SETTING_KEYS: readonly SettingKey[] = Object.freeze(Object.keys(SCHEMA) as SettingKey[]);

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze(
  Object.fromEntries(SETTING_KEYS.map((k) => [k, SCHEMA[k].default])) as unknown as Settings,
);

export function isSettingKey(k: string): k is SettingKey {
  return Object.prototype.hasOwnProperty.call(SCHEMA, k);
}

/** UDPVAULT_PORT, UDPVAULT_LOG_LEVEL, UDPVAULT_MAX_MESSAGE_BYTES, ... */
export function envName(key: SettingKey): string {
  return `UDPVAULT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** --port, --log-level, ... */
export function flagName(key: SettingKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** UDPVAULT_* variables that are not settings (so not warned about as unknown). */
export const OTHER_ENV_VARS: readonly string[] = ['UDPVAULT_HOME', 'UDPVAULT_HEAP_SETTLE'];
