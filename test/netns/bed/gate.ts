/** Test-only: turns the bed's capability into describe, describe.skip or (under CI) a failure. */
import type { BedCapability } from './sys';

/**
 * jest's describe, or describe.skip with the reason printed; under CI a missing prerequisite
 * is a failure instead (a suite that asserts the reason is empty).
 */
export function bedDescribe(title: string, cap: BedCapability): jest.Describe {
  if (cap.ok) return describe;
  if (process.env['CI']) {
    const reason = cap.reason;
    describe(title, () => {
      test('the real-path test bed can run (CI requires it)', () => {
        expect(`netns bed unavailable: ${reason}`).toBe('');
      });
    });
    return describe.skip;
  }
  console.warn(`${title}: skipped: ${cap.reason}`);
  return describe.skip;
}
