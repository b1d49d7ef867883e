/**
 * Every runtime setting with its default, derived from THE settings schema
 * (src/config/schema.ts); config/default.json is generated from the same schema.
 */
export { DEFAULT_SETTINGS, SETTING_KEYS } from './config/schema';
export type { LogLevel, PaddingPolicy, SettingKey, Settings } from './config/schema';
