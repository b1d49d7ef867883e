/**
 * Cross-field rules of the settings schema: `small` must be less than (or at most) `large`.
 * Token-bucket bursts are deliberately not tied to their rates: a burst below the rate is a
 * valid, smoother bucket (test/node/floods.test.ts uses rate 100/s with burst 50).
 */
import type { SettingKey, Settings } from './schema';

type NumericKey = { [K in SettingKey]: Settings[K] extends number ? K : never }[SettingKey];

export interface Relation {
  readonly small: NumericKey;
  readonly large: NumericKey;
  /** true: small < large; false: small ≤ large. */
  readonly strict: boolean;
  /** Why, as the error message ends. */
  readonly why: string;
}

export const RELATIONS: readonly Relation[] = [
  { small: 'rekeyAfterMs', large: 'rejectAfterMs', strict: true, why: 'a session is renewed before it expires' },
  { small: 'keepaliveMs', large: 'rejectAfterMs', strict: true, why: 'keepalives are sent before the session expires' },
  { small: 'maxMessageBytes', large: 'reassemblyPeerBytes', strict: false, why: 'the largest message must fit the reassembly budget of one peer' },
  { small: 'reassemblyPeerBytes', large: 'reassemblyTotalBytes', strict: false, why: 'one peer cannot hold more than all peers together' },
  { small: 'maxMessageBytes', large: 'queueMaxBytes', strict: false, why: 'the largest message must fit the pre-session queue' },
  { small: 'maxMessageBytes', large: 'inboxMaxBytes', strict: false, why: 'the largest message must fit the inbox' },
  { small: 'maxMessageBytes', large: 'subscriberBufferBytes', strict: false, why: "the largest message must fit a subscriber's buffer" },
];

/** The relations that `s` breaks (empty when all hold). */
export function brokenRelations(s: Settings): Relation[] {
  return RELATIONS.filter((r) => (r.strict ? !(s[r.small] < s[r.large]) : !(s[r.small] <= s[r.large])));
}
