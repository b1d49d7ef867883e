/**
 * Configuration loading (SPEC §5): defaults ← user file (--config, JSON) ← UDPVAULT_*
 * environment ← flags, each through the schema. Invalid values stop the load with
 * ERR_BAD_CONFIG naming the setting and its source; an unknown UDPVAULT_* variable is a
 * warning the daemon logs (a typo in the environment must not go unnoticed, but it must not
 * stop a daemon whose environment is shared with other tools either).
 */
import * as fs from 'node:fs';
import { badConfig, closest, resolveSettings, type SettingsLayer } from './parse';
import { envName, flagName, isSettingKey, OTHER_ENV_VARS, SETTING_KEYS, type SettingKey, type Settings } from './schema';

/** Flag values as they come from the command line (strings) or from a program (typed). */
export type ConfigFlags = Partial<Record<SettingKey, string | number | boolean>>;

export interface LoadConfigOptions {
  /** User configuration file (JSON object of setting → value; keys starting with "//" are comments). */
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
  flags?: ConfigFlags;
}

export interface LoadedConfig {
  readonly settings: Settings;
  /** Where each setting that is not a default came from (file path, environment variable, flag). */
  readonly origin: Readonly<Partial<Record<SettingKey, string>>>;
  /** Problems that do not stop the load (unknown UDPVAULT_* variables); the daemon logs them at warn. */
  readonly warnings: readonly string[];
}

const ENV_TO_KEY: ReadonlyMap<string, SettingKey> = new Map(SETTING_KEYS.map((k) => [envName(k), k]));
const KNOWN_ENV = [...ENV_TO_KEY.keys(), ...OTHER_ENV_VARS];

/** Reads and parses the user file (a flat JSON object); does not validate values. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw badConfig(`cannot read configuration file ${file} (${code}); check the --config path`, e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw badConfig(`configuration file ${file} is not valid JSON: ${(e as Error).message}`, e);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badConfig(`configuration file ${file} must contain a JSON object of settings, e.g. {"port": 12000}`);
  }
  return parsed as Record<string, unknown>;
}

/** The UDPVAULT_* settings of `env` (empty values count as unset) and warnings for unknown UDPVAULT_* names. */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): { values: Partial<Record<SettingKey, string>>; warnings: string[] } {
  const values: Partial<Record<SettingKey, string>> = {};
  const warnings: string[] = [];
  for (const [name, v] of Object.entries(env)) {
    if (!name.startsWith('UDPVAULT_')) continue;
    const key = ENV_TO_KEY.get(name);
    if (key !== undefined) {
      if (v !== undefined && v !== '') values[key] = v;
    } else if (!OTHER_ENV_VARS.includes(name)) {
      const hint = closest(name, KNOWN_ENV);
      warnings.push(`unknown environment variable ${name}${hint ? ` (did you mean ${hint}?)` : ''}; it is ignored`);
    }
  }
  return { values, warnings: warnings.sort() };
}

/** Builds the effective settings; throws BadInputError('ERR_BAD_CONFIG') naming the setting and its source. */
export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const layers: SettingsLayer[] = [];
  if (opts.file !== undefined) {
    const file = opts.file;
    layers.push({ values: readConfigFile(file), fromText: false, comments: true, source: () => file });
  }
  const fromEnv = settingsFromEnv(opts.env ?? {});
  layers.push({ values: fromEnv.values, fromText: true, source: (k) => `environment variable ${isSettingKey(k) ? envName(k) : k}` });
  if (opts.flags) {
    layers.push({ values: opts.flags, fromText: true, source: (k) => `flag ${isSettingKey(k) ? flagName(k) : `--${k}`}` });
  }
  const { settings, origin } = resolveSettings(layers);
  return { settings, origin, warnings: fromEnv.warnings };
}
