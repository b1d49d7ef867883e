/**
 * Every runtime setting with its default. config/default.json documents the same values;
 * the daemon's config loader (file → UDPVAULT_* env → flags) produces a `Settings`.
 */
import * as C from './constants';

export type PaddingPolicy = 'mtu' | 'bucket' | 'none';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface Settings {
  port: number;
  /** Bind address; '0.0.0.0' (IPv4) or '::' (IPv6 dual stack) or a specific address. */
  host: string;
  /** 'auto' = lowest MTU of up, non-loopback interfaces (else 1500); or a number. */
  mtu: 'auto' | number;
  padding: PaddingPolicy;
  compressionLevel: number;
  maxMessageBytes: number;
  freshnessWindowMs: number;
  rekeyAfterMs: number;
  rekeyAfterMessages: number;
  rejectAfterMs: number;
  sessionGraceMs: number;
  keepaliveMs: number;
  handshakeTimeoutMs: number;
  queueMaxMessages: number;
  queueMaxBytes: number;
  peerPacketsPerSecond: number;
  peerPacketBurst: number;
  handshakesPerSecondPerIp: number;
  handshakeBurstPerIp: number;
  globalPacketsPerSecond: number;
  reliableTimeoutMs: number;
  reliableWindow: number;
  reassemblyTimeoutMs: number;
  reassemblyPeerBytes: number;
  reassemblyTotalBytes: number;
  subscriberBufferMessages: number;
  logLevel: LogLevel;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  port: C.DEFAULT_PORT,
  host: '0.0.0.0',
  mtu: 'auto',
  padding: 'bucket',
  compressionLevel: C.COMPRESSION_LEVEL,
  maxMessageBytes: C.MAX_MESSAGE_BYTES,
  freshnessWindowMs: C.FRESHNESS_WINDOW_MS,
  rekeyAfterMs: C.REKEY_AFTER_MS,
  rekeyAfterMessages: C.REKEY_AFTER_MESSAGES,
  rejectAfterMs: C.REJECT_AFTER_MS,
  sessionGraceMs: C.PREVIOUS_SESSION_GRACE_MS,
  keepaliveMs: C.KEEPALIVE_MS,
  handshakeTimeoutMs: C.QUEUE_TIMEOUT_MS,
  queueMaxMessages: C.QUEUE_MAX_MESSAGES,
  queueMaxBytes: C.QUEUE_MAX_BYTES,
  peerPacketsPerSecond: 50_000,
  peerPacketBurst: 100_000,
  handshakesPerSecondPerIp: 50,
  handshakeBurstPerIp: 100,
  globalPacketsPerSecond: 400_000,
  reliableTimeoutMs: 30_000,
  reliableWindow: 512,
  reassemblyTimeoutMs: 30_000,
  reassemblyPeerBytes: 4 * C.MAX_MESSAGE_BYTES,
  reassemblyTotalBytes: 64 * C.MAX_MESSAGE_BYTES,
  subscriberBufferMessages: 10_000,
  logLevel: 'info',
});
