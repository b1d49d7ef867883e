/** Errors of the send pump made without a stack trace (src/engine/native/stackless.ts). */
import { stackless } from '../../../src/engine/native/stackless';
import { DeliveryError, UdpVaultError } from '../../../src/errors';

test('the error is whole (class, code, message) but carries no stack frames; the limit is restored, also after a throw', () => {
  const before = Error.stackTraceLimit;
  const e = stackless(() => new DeliveryError('ERR_CONGESTION', 'congestion: no room'));
  expect(e).toBeInstanceOf(DeliveryError);
  expect(e).toBeInstanceOf(UdpVaultError);
  expect(e.code).toBe('ERR_CONGESTION');
  expect(e.message).toBe('congestion: no room');
  expect(e.stack).toBe('DeliveryError: congestion: no room'.replace('DeliveryError', e.name));
  expect(e.stack).not.toMatch(/\n\s+at /);
  expect(new Error('x').stack).toMatch(/\n\s+at /); // others keep theirs
  expect(() =>
    stackless(() => {
      throw new RangeError('inside');
    }),
  ).toThrow('inside');
  expect(Error.stackTraceLimit).toBe(before);
});
