/**
 * The pino seam. Loggers are passed down; nothing below logs keys or payload bytes.
 *
 * pino is loaded by the first createLogger call, not with this module: a node without a logger
 * (the default: silentLogger, a no-op) never needs it, and it adds ~8 MB of RSS (issue 12).
 */
import type { DestinationStream, Logger as PinoLogger, LoggerOptions } from 'pino';
import type { LogLevel } from '../config/schema';

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

export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  code?: string;
  errno?: number;
  syscall?: string;
  cause?: SerializedError | string;
}

/** Causes followed at most this deep (a cycle or a long chain ends here). */
const MAX_CAUSE_DEPTH = 4;

/**
 * The `err` serializer: type, message, stack, code (and errno/syscall of system errors) and the
 * `cause` chain — only these fields, so no other property of an error (which could hold
 * payload bytes or keys) reaches a log line. Log errors as `log.error({ err }, '...')`.
 */
export function serializeError(e: unknown, depth = 0): SerializedError | string {
  if (!(e instanceof Error)) return typeof e === 'string' ? e : String(e);
  const out: SerializedError = { type: e.name || e.constructor.name, message: e.message };
  if (e.stack !== undefined) out.stack = e.stack;
  const { code, errno, syscall } = e as Partial<NodeJS.ErrnoException>;
  if (typeof code === 'string') out.code = code;
  if (typeof errno === 'number') out.errno = errno;
  if (typeof syscall === 'string') out.syscall = syscall;
  if (e.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const pino = require('pino') as (opts: LoggerOptions, stream?: DestinationStream) => PinoLogger;
  const opts: LoggerOptions = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: (e: unknown) => serializeError(e) },
  };
  return destination ? pino(opts, destination as DestinationStream) : pino(opts);
}

const ignore = (): void => undefined;

/** A logger that writes nothing (the default of a node and a control server); pino not loaded. */
export const silentLogger: Logger = Object.freeze({
  trace: ignore,
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: (): Logger => silentLogger,
});
