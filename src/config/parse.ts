/**
 * Validation of settings against the schema: layers of values (file, environment, flags,
 * createNode options) over the defaults, every value through its rule, then the cross-field
 * rules. Every refusal is a BadInputError('ERR_BAD_CONFIG') naming the setting, where its value
 * came from and why.
 */
import { BadInputError } from '../api/errors';
import { brokenRelations, type Relation } from './relations';
import { shown } from './rules';
import { DEFAULT_SETTINGS, isSettingKey, SCHEMA, SETTING_KEYS, type SettingKey, type Settings } from './schema';

export interface SettingsLayer {
  /** Setting name → value (keys are checked: an unknown key is an error). */
  readonly values: Readonly<Record<string, unknown>>;
  /** The values are text (environment, command-line flags) and are coerced by each rule. */
  readonly fromText: boolean;
  /** Keys starting with "//" are documentation and ignored (config files, config/default.json). */
  readonly comments?: boolean;
  /** Where a key's value came from: a file path, `environment variable UDPVAULT_PORT`, `flag --port`. */
  source(key: string): string;
}

export interface ResolvedSettings {
  readonly settings: Settings;
  /** Where each setting that is not a default came from. */
  readonly origin: Readonly<Partial<Record<SettingKey, string>>>;
}

export function badConfig(message: string, cause?: unknown): BadInputError {
  return new BadInputError('ERR_BAD_CONFIG', message, cause !== undefined ? { cause } : undefined);
}

/** True for documentation keys of a config file ("//", "// port", ...). */
export function isCommentKey(k: string): boolean {
  return k.startsWith('//');
}

/** Applies `layers` in order (later wins) over `base`; throws ERR_BAD_CONFIG on the first invalid value. */
export function resolveSettings(layers: readonly SettingsLayer[], base: Readonly<Settings> = DEFAULT_SETTINGS): ResolvedSettings {
  const out: Record<string, unknown> = { ...base };
  const origin: Partial<Record<SettingKey, string>> = {};
  const rank: Partial<Record<SettingKey, number>> = {};
  layers.forEach((layer, index) => {
    for (const [k, raw] of Object.entries(layer.values)) {
      if (raw === undefined || (layer.comments && isCommentKey(k))) continue;
      if (!isSettingKey(k)) {
        const hint = closest(k, SETTING_KEYS);
        throw badConfig(`unknown setting "${k}" in ${layer.source(k)}${hint ? ` (did you mean "${hint}"?)` : ''}; the settings are listed in config/default.json`);
      }
      const value = SCHEMA[k].parse(raw, layer.fromText);
      if (value === undefined) throw badConfig(`invalid setting "${k}" in ${layer.source(k)}: expected ${SCHEMA[k].expected}, got ${shown(raw)}`);
      out[k] = value;
      origin[k] = layer.source(k);
      rank[k] = index;
    }
  });
  const settings = out as unknown as Settings;
  const broken = brokenRelations(settings)[0];
  if (broken) throw relationError(broken, settings, origin, rank);
  return { settings, origin };
}

function relationError(r: Relation, s: Settings, origin: Partial<Record<SettingKey, string>>, rank: Partial<Record<SettingKey, number>>): BadInputError {
  const blameSmall = (rank[r.small] ?? -1) > (rank[r.large] ?? -1);
  const [key, other] = blameSmall ? [r.small, r.large] : [r.large, r.small];
  const bound = blameSmall ? (r.strict ? 'less than' : 'at most') : r.strict ? 'greater than' : 'at least';
  const where = origin[key] ?? 'the defaults';
  return badConfig(`invalid setting "${key}" in ${where}: must be ${bound} ${other} (${s[other]}), got ${s[key]}; ${r.why}`);
}

/**
 * Validates settings given by a program (createNode options, a reload): `partial` is an object
 * of setting → typed value (missing = default). `source` names it in errors, e.g. "createNode options".
 */
export function parseSettings(partial: unknown, source: string): Settings {
  if (partial === undefined || partial === null) return { ...DEFAULT_SETTINGS };
  if (typeof partial !== 'object' || Array.isArray(partial)) {
    throw badConfig(`settings in ${source} must be an object of setting → value, got ${shown(partial)}`);
  }
  return resolveSettings([{ values: partial as Record<string, unknown>, fromText: false, source: () => source }]).settings;
}

/** The settings that differ between `a` and `b`, split by what a reload can do with them. */
export function diffSettings(a: Readonly<Settings>, b: Readonly<Settings>): { live: SettingKey[]; restart: SettingKey[] } {
  const live: SettingKey[] = [];
  const restart: SettingKey[] = [];
  for (const k of SETTING_KEYS) {
    if (!Object.is(a[k], b[k])) (SCHEMA[k].apply === 'live' ? live : restart).push(k);
  }
  return { live, restart };
}

/** The candidate closest to `word` (case-insensitive edit distance), if close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The settings of `createNode(opts)`: `opts.settings` (typed values) with `opts.port` and
 * `opts.host` on top, all validated. createNode({settings: {maxMessageBytes: -5}}) is refused
 * with ERR_BAD_CONFIG naming the setting and "createNode options".
 */
export function nodeSettings(opts: { settings?: unknown; port?: unknown; host?: unknown }): Settings {
  const source = 'createNode options';
  const settings = opts.settings ?? {};
  if (typeof settings !== 'object' || Array.isArray(settings)) {
    throw badConfig(`settings in ${source} must be an object of setting → value, got ${shown(settings)}`);
  }
  const direct = { port: opts.port, host: opts.host };
  return resolveSettings([
    { values: settings as Record<string, unknown>, fromText: false, source: () => source },
    { values: direct, fromText: false, source: (k) => `${source} (option "${k}")` },
  ]).settings;
}
