/**
 * config/default.json, generated from the schema (`npm run gen:config`; a test fails when the
 * file differs from this rendering). The file is itself a valid --config file: every setting
 * with its default, each preceded by a "// name" documentation key, which the loader ignores.
 */
import type { TextCoercion } from './rules';
import { SCHEMA, SETTING_KEYS, envName, type SettingKey } from './schema';

/** How the environment gives each kind of value. */
const AS_TEXT: Record<TextCoercion, string> = {
  integer: 'decimal digits',
  boolean: 'true, false, 1 or 0',
  string: 'the text as it is',
  'integer-or-auto': 'auto or decimal digits',
};

export const DEFAULT_FILE_HEADER = [
  'Every udpvault setting with its default. This file is a valid configuration file as it is (udpvault daemon --config FILE);',
  'keys starting with "//" are comments. Copy the settings you change into your own file; leave out the others.',
  'Precedence: defaults < --config file < UDPVAULT_* environment variables (the setting name in upper snake case:',
  'UDPVAULT_PORT, UDPVAULT_LOG_LEVEL, ...; integers as decimal digits, booleans as true/false/1/0; empty = unset) < flags',
  '(--port, --host, --log-level). Invalid values stop the start naming the setting; an unknown UDPVAULT_* variable is warned about.',
  'On SIGHUP the daemon reloads the file: settings marked "Reload: live" apply at once, the others need a restart.',
].join(' ');

/** The documentation line of one setting, as in config/default.json. */
export function settingDoc(key: SettingKey): string {
  const spec = SCHEMA[key];
  const unit = spec.unit ? ` Unit: ${spec.unit}.` : '';
  const reload = spec.apply === 'live' ? 'live' : 'needs a restart';
  return `${spec.description} Accepts ${spec.expected}.${unit} Environment: ${envName(key)} (${AS_TEXT[spec.coercion]}). Reload: ${reload}.`;
}

/** The text of config/default.json. */
export function renderDefaultConfig(): string {
  const doc: Record<string, unknown> = { '//': DEFAULT_FILE_HEADER };
  for (const k of SETTING_KEYS) {
    doc[`// ${k}`] = settingDoc(k);
    doc[k] = SCHEMA[k].default;
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}
