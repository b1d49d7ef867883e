import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BadInputError,
  createError,
  DeliveryError,
  ERROR_CODES,
  ERROR_TABLE,
  errorRow,
  exitCodeOf,
  reviveError,
  UdpVaultError,
  type ErrorCode,
} from '../../src/api/errors';
import * as legacy from '../../src/errors';
import { EXIT_FAILED, EXIT_NO_DAEMON, EXIT_OK, EXIT_USAGE, exitCodeFor } from '../../src/cli/exit';
import { errorBody, errorFromBody } from '../../src/control/protocol';

/** SPEC §1, written out: 2 = bad usage or input, 1 = operation failed, 3 = no daemon. */
const EXPECTED_EXIT: Record<ErrorCode, 1 | 2 | 3> = {
  ERR_BAD_ARGUMENT: 2,
  ERR_BAD_CONFIG: 2,
  ERR_UNKNOWN_PEER: 2,
  ERR_PEER_EXISTS: 2,
  ERR_KEY_CONFLICT: 2,
  ERR_NAME_CONFLICT: 2,
  ERR_KEY_ALIAS: 2,
  ERR_TOO_LARGE: 2,
  ERR_PEER_LIMIT_TOO_SMALL: 2,
  ERR_RELIABLE_UNSUPPORTED: 2,
  ERR_BAD_JSON: 2,
  ERR_BAD_REQUEST: 2,
  ERR_UNKNOWN_OP: 2,
  ERR_LINE_TOO_LONG: 2,
  ERR_QUEUE_FULL: 1,
  ERR_HANDSHAKE_TIMEOUT: 1,
  ERR_NO_SESSION: 1,
  ERR_CONGESTION: 1,
  ERR_FLOW_CONTROL: 1,
  ERR_INBOX_FULL: 1,
  ERR_PEER_UNREACHABLE: 1,
  ERR_NOT_ACKNOWLEDGED: 1,
  ERR_CLOSED: 1,
  ERR_KEY_FILE_PERMISSIONS: 1,
  ERR_KEY_FILE_INVALID: 1,
  ERR_STORE_CORRUPT: 1,
  ERR_HOME_LOCKED: 1,
  ERR_DAEMON_NOT_RUNNING: 3,
  ERR_CONTROL_PROTOCOL: 1,
  ERR_UNSUPPORTED_VERSION: 2,
  ERR_TOO_MANY_CONNECTIONS: 1,
  ERR_TOO_MANY_SUBSCRIPTIONS: 1,
  ERR_INTERNAL: 1,
  ERR_DECOMPRESS_LIMIT: 1,
  ERR_MALFORMED: 1,
};

const CLASS_OF: Record<string, typeof UdpVaultError> = { 'bad-input': BadInputError, delivery: DeliveryError, error: UdpVaultError };

describe('the error table', () => {
  test('every code has a row, with the exit code SPEC §1 gives it', () => {
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(EXPECTED_EXIT).sort());
    for (const code of ERROR_CODES) expect([code, ERROR_TABLE[code].exit]).toEqual([code, EXPECTED_EXIT[code]]);
  });

  test('kind and exit code agree: bad-input ⇔ exit 2; delivery → exit 1', () => {
    for (const code of ERROR_CODES) {
      const r = ERROR_TABLE[code];
      expect([code, r.kind === 'bad-input']).toEqual([code, r.exit === EXIT_USAGE]);
      if (r.kind === 'delivery') expect([code, r.exit]).toEqual([code, EXIT_FAILED]);
      expect(r.meaning.length).toBeGreaterThan(10);
    }
  });

  test('only failures after which the message may still arrive have an unknown outcome', () => {
    expect(ERROR_CODES.filter((c) => ERROR_TABLE[c].outcomeUnknown)).toEqual(['ERR_NOT_ACKNOWLEDGED', 'ERR_CLOSED', 'ERR_CONTROL_PROTOCOL', 'ERR_INTERNAL']);
    expect(createError('ERR_NOT_ACKNOWLEDGED', 'x').outcomeUnknown).toBe(true);
    expect(createError('ERR_QUEUE_FULL', 'x').outcomeUnknown).toBe(false);
  });

  test('src/errors.ts re-exports the same classes (existing imports keep working)', () => {
    expect(legacy.UdpVaultError).toBe(UdpVaultError);
    expect(legacy.BadInputError).toBe(BadInputError);
    expect(legacy.DeliveryError).toBe(DeliveryError);
    expect(legacy.ERROR_TABLE).toBe(ERROR_TABLE);
  });
});

describe('createError', () => {
  test('builds the class of the table for every code', () => {
    for (const code of ERROR_CODES) {
      const e = createError(code, 'm');
      expect([code, e.constructor]).toEqual([code, CLASS_OF[ERROR_TABLE[code].kind]]);
      expect([e.code, e.message, e.kind, e.exitCode]).toEqual([code, 'm', ERROR_TABLE[code].kind, EXPECTED_EXIT[code]]);
    }
  });

  test('keeps the cause (ES2022) and its stack', () => {
    const cause = Object.assign(new Error('EADDRINUSE 0.0.0.0:11000'), { code: 'EADDRINUSE' });
    const e = createError('ERR_BAD_CONFIG', 'cannot listen on UDP 0.0.0.0:11000: the port is in use', { cause });
    expect(e.cause).toBe(cause);
    expect(e).toBeInstanceOf(BadInputError);
    expect(e.stack).toContain('cannot listen on UDP');
    expect(new DeliveryError('ERR_QUEUE_FULL', 'x').cause).toBeUndefined();
    expect('cause' in new DeliveryError('ERR_QUEUE_FULL', 'x')).toBe(false);
  });
});

describe('exit codes derive from the table', () => {
  test('exitCodeFor(createError(code)) is the table exit for every code', () => {
    for (const code of ERROR_CODES) expect([code, exitCodeFor(createError(code, 'x'))]).toEqual([code, EXPECTED_EXIT[code]]);
  });

  test('the code decides, not the class it was constructed with', () => {
    expect(exitCodeFor(new UdpVaultError('ERR_BAD_ARGUMENT', 'x'))).toBe(EXIT_USAGE);
    expect(exitCodeFor(new DeliveryError('ERR_TOO_LARGE', 'x'))).toBe(EXIT_USAGE);
    expect(exitCodeFor(new BadInputError('ERR_DAEMON_NOT_RUNNING', 'x'))).toBe(EXIT_NO_DAEMON);
    expect(new UdpVaultError('ERR_QUEUE_FULL', 'x').kind).toBe('delivery');
  });

  test('anything else is exit 1; the constants are SPEC §1', () => {
    expect([exitCodeFor(new Error('x')), exitCodeFor('x'), exitCodeFor(undefined), exitCodeOf(null)]).toEqual([1, 1, 1, 1]);
    expect([EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_DAEMON]).toEqual([0, 1, 2, 3]);
  });
});

describe('control protocol kinds derive from the table', () => {
  test('errorBody → errorFromBody round trip for every code gives the table class and kind', () => {
    for (const code of ERROR_CODES) {
      const body = errorBody(new UdpVaultError(code, 'msg'));
      expect(body).toEqual({ code, message: 'msg', kind: ERROR_TABLE[code].kind });
      const back = errorFromBody(JSON.parse(JSON.stringify(body)));
      expect([code, back.constructor, back.message]).toEqual([code, CLASS_OF[ERROR_TABLE[code].kind], 'msg']);
    }
  });

  test('a code this build does not know (newer daemon) keeps its text and gets the consequences of its kind', () => {
    const bad = reviveError('ERR_FROM_THE_FUTURE', 'm', 'bad-input');
    expect([bad.constructor, bad.code, bad.exitCode, bad.outcomeUnknown]).toEqual([BadInputError, 'ERR_FROM_THE_FUTURE', 2, false]);
    const del = errorFromBody({ code: 'ERR_FROM_THE_FUTURE', message: 'm', kind: 'delivery' });
    expect([del.constructor, del.exitCode, del.outcomeUnknown]).toEqual([DeliveryError, 1, true]);
    const odd = errorFromBody({ code: 'ERR_X', message: 'm', kind: 'nonsense' as never });
    expect([odd.constructor, odd.exitCode]).toEqual([UdpVaultError, 1]);
    expect(errorRow('ERR_X', 'error')).toEqual({ kind: 'error', exit: 1, outcomeUnknown: true, meaning: 'unknown code' });
  });
});

describe('no second mapping anywhere', () => {
  function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const p = path.join(dir, d.name);
      return d.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
    });
  }
  const root = path.join(__dirname, '../..');
  const files = [...sources(path.join(root, 'src')), ...sources(path.join(root, 'bin'))].filter((f) => !f.endsWith(path.join('api', 'errors.ts')));

  test('no switch on codes, no code → exit/kind tables outside src/api/errors.ts', () => {
    const offenders: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const rel = path.relative(root, f);
      if (/case\s+'ERR_[A-Z_]+'\s*:/.test(text)) offenders.push(`${rel}: switch on an error code`);
      if (/ERR_[A-Z_]+'?\s*:\s*(EXIT_[A-Z_]+|[0-3]\s*[,}]|'(bad-input|delivery|error)')/.test(text)) offenders.push(`${rel}: code → exit/kind mapping`);
      if (/instanceof\s+(BadInputError|DeliveryError)\s*\?/.test(text)) offenders.push(`${rel}: kind from the class`);
      if (/kind:\s*'(bad-input|delivery|error)'/.test(text)) offenders.push(`${rel}: literal error kind`);
    }
    expect(offenders).toEqual([]);
  });
});
