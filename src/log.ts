/** The pino seam. Loggers are passed down; nothing below logs keys or payload bytes. */
import pino from 'pino';
import type { LogLevel } from './settings';

export interface Logger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Field names that must never be logged, whatever a caller passes. */
const REDACT = ['privateKey', 'secretKey', 'sessionKey', 'key.private', 'data', 'payload', '*.privateKey', '*.data', '*.payload'];

export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const opts = { level, base: { pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(opts, destination as pino.DestinationStream) : pino(opts);
}

export const silentLogger: Logger = createLogger('silent');
