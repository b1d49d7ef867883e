import { createError } from '../../src/api/errors';
import { createLogger, serializeError } from '../../src/runtime/log';

/** Logs one line through a real pino logger (its destination's write() is called synchronously) and returns it parsed. */
function logLine(write: (log: ReturnType<typeof createLogger>) => void): Record<string, unknown> {
  const lines: string[] = [];
  write(createLogger('info', { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream));
  expect(lines.length).toBe(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('the err serializer', () => {
  test('keeps type, message, stack, code and the cause chain', () => {
    const cause = Object.assign(new Error('bind EADDRINUSE 0.0.0.0:11000'), { code: 'EADDRINUSE', errno: -98, syscall: 'bind' });
    const e = createError('ERR_BAD_CONFIG', 'cannot listen on UDP 0.0.0.0:11000: the port is in use', { cause });
    const line = logLine((log) => log.error({ err: e }, 'start failed'));
    const err = line.err as Record<string, unknown>;
    expect(Object.keys(err).sort()).toEqual(['cause', 'code', 'message', 'stack', 'type']);
    expect([err.type, err.code, err.message]).toEqual(['BadInputError', 'ERR_BAD_CONFIG', 'cannot listen on UDP 0.0.0.0:11000: the port is in use']);
    expect(err.stack).toMatch(/^BadInputError: cannot listen on UDP 0\.0\.0\.0:11000: the port is in use\n\s+at /);
    const c = err.cause as Record<string, unknown>;
    expect([c.type, c.code, c.errno, c.syscall, c.message]).toEqual(['Error', 'EADDRINUSE', -98, 'bind', 'bind EADDRINUSE 0.0.0.0:11000']);
    expect(c.stack).toMatch(/^Error: bind EADDRINUSE/);
  });

  test('other properties of an error (which could hold payload or keys) are not logged', () => {
    const e = Object.assign(new Error('bad frame'), { data: Buffer.from('SECRET-PAYLOAD'), sessionKey: 'SECRET-KEY', peer: 'x' });
    const line = logLine((log) => log.warn({ err: e }, 'drop'));
    expect(JSON.stringify(line)).not.toMatch(/SECRET|U0VDUkVU/);
    expect(Object.keys(line.err as object).sort()).toEqual(['message', 'stack', 'type']);
  });

  test('a string err (older call sites) passes through; cause chains end after 4 levels', () => {
    expect(serializeError('just text')).toBe('just text');
    let e: Error = new Error('level 0');
    for (let i = 1; i <= 10; i++) e = new Error(`level ${i}`, { cause: e });
    let depth = 0;
    let s = serializeError(e);
    while (typeof s === 'object' && s.cause !== undefined) {
      s = s.cause;
      depth++;
    }
    expect(depth).toBe(4);
    const cyclic = new Error('a');
    (cyclic as { cause?: unknown }).cause = cyclic;
    expect(() => serializeError(cyclic)).not.toThrow();
  });
});
