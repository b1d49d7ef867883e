/** The settings the control server applies (SPEC §5, control socket): all live on reload but maxMessageBytes. */
import { DEFAULT_SETTINGS, type Settings } from '../config/schema';

/** The settings the control server reads; updateSettings() applies them at once. */
export type ControlSettings = Pick<Settings, 'maxMessageBytes' | 'subscriberBufferMessages' | 'subscriberBufferBytes' | 'maxSubscriptionsPerConnection' | 'maxControlConnections'>;
/** What a caller gives: the bounds it leaves out take the schema defaults. */
export type ControlSettingsInput = Pick<ControlSettings, 'maxMessageBytes' | 'subscriberBufferMessages'> & Partial<ControlSettings>;

export function controlSettings(s: ControlSettingsInput): ControlSettings {
  return {
    maxMessageBytes: s.maxMessageBytes,
    subscriberBufferMessages: s.subscriberBufferMessages,
    subscriberBufferBytes: s.subscriberBufferBytes ?? DEFAULT_SETTINGS.subscriberBufferBytes,
    maxSubscriptionsPerConnection: s.maxSubscriptionsPerConnection ?? DEFAULT_SETTINGS.maxSubscriptionsPerConnection,
    maxControlConnections: s.maxControlConnections ?? DEFAULT_SETTINGS.maxControlConnections,
  };
}
