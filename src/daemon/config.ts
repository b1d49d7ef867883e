/**
 * Configuration loading (SPEC §5): defaults (src/settings.ts, documented in
 * config/default.json) ← user file (--config, JSON) ← UDPVAULT_* environment ← flags.
 * Every value is validated; the first invalid one throws ERR_BAD_CONFIG naming the setting
 * and where it came from.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { BadInputError } from '../errors';
import { DEFAULT_SETTINGS, type Settings } from '../settings';

export type SettingKey = keyof Settings;
export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as SettingKey[];

/** Flag values as they come from the command line (strings) or from a program (typed). */
export type ConfigFlags = Partial<Record<SettingKey, string | number>>;

export interface LoadConfigOptions {
  /** User configuration file (JSON object of setting → value). */
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
  flags?: ConfigFlags;
}

type Parsed = { ok: true; value: Settings[SettingKey] } | { ok: false };
interface Rule {
  expected: string;
  /** `fromString`: the value came from the environment or a flag and may need parsing. */
  parse(v: unknown, fromString: boolean): Parsed;
}

const INT_RE = /^[+-]?\d+$/;

function toInt(v: unknown, fromString: boolean): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (fromString && typeof v === 'string' && INT_RE.test(v.trim())) {
    const n = Number(v.trim());
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

function int(min: number, max: number, expected = `an integer ${min}..${max}`): Rule {
  return {
    expected,
    parse(v, fromString) {
      const n = toInt(v, fromString);
      return n !== undefined && n >= min && n <= max ? { ok: true, value: n } : { ok: false };
    },
  };
}

function oneOf<T extends string>(values: readonly T[]): Rule {
  return {
    expected: `one of ${values.map((x) => `"${x}"`).join(', ')}`,
    parse(v) {
      return typeof v === 'string' && (values as readonly string[]).includes(v) ? { ok: true, value: v } : { ok: false };
    },
  };
}

const hostRule: Rule = {
  expected: "an IPv4 or IPv6 address (e.g. '0.0.0.0', '::' or '127.0.0.1')",
  parse(v) {
    return typeof v === 'string' && net.isIP(v) !== 0 ? { ok: true, value: v } : { ok: false };
  },
};

const mtuRule: Rule = {
  expected: '"auto" or an integer 576..65535',
  parse(v, fromString) {
    if (v === 'auto') return { ok: true, value: 'auto' };
    const n = toInt(v, fromString);
    return n !== undefined && n >= 576 && n <= 65535 ? { ok: true, value: n } : { ok: false };
  },
};

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The validation rule of every setting (the test checks this covers exactly DEFAULT_SETTINGS). */
export const RULES: Readonly<Record<SettingKey, Rule>> = {
  port: int(0, 65535),
  host: hostRule,
  mtu: mtuRule,
  padding: oneOf(['mtu', 'bucket', 'none'] as const),
  compressionLevel: int(1, 22),
  maxMessageBytes: int(1, 64 * MiB),
  freshnessWindowMs: int(1000, 3_600_000),
  rekeyAfterMs: int(1000, 86_400_000),
  rekeyAfterMessages: int(1, Number.MAX_SAFE_INTEGER, 'an integer 1..2^53-1'),
  rejectAfterMs: int(1000, 86_400_000 * 2),
  sessionGraceMs: int(0, 600_000),
  keepaliveMs: int(1000, 3_600_000),
  handshakeTimeoutMs: int(100, 600_000),
  queueMaxMessages: int(1, 1_000_000),
  queueMaxBytes: int(1, GiB),
  peerPacketsPerSecond: int(1, 100_000_000),
  peerPacketBurst: int(1, 100_000_000),
  handshakesPerSecondPerIp: int(1, 100_000),
  handshakeBurstPerIp: int(1, 1_000_000),
  globalPacketsPerSecond: int(1, 100_000_000),
  reliableTimeoutMs: int(100, 3_600_000),
  reliableWindow: int(1, 65536),
  reassemblyTimeoutMs: int(100, 3_600_000),
  reassemblyPeerBytes: int(1, 16 * GiB),
  reassemblyTotalBytes: int(1, 64 * GiB),
  subscriberBufferMessages: int(1, 10_000_000),
  logLevel: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
};

/** UDPVAULT_PORT, UDPVAULT_LOG_LEVEL, UDPVAULT_MAX_MESSAGE_BYTES, ... */
export function envName(key: SettingKey): string {
  return `UDPVAULT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** --port, --log-level, ... */
export function flagName(key: SettingKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function shown(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function badConfig(message: string): BadInputError {
  return new BadInputError('ERR_BAD_CONFIG', message);
}

function closest(word: string): string | undefined {
  const lower = word.toLowerCase();
  let best: SettingKey | undefined;
  let bestD = Infinity;
  for (const k of SETTING_KEYS) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
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

function isSettingKey(k: string): k is SettingKey {
  return Object.prototype.hasOwnProperty.call(RULES, k);
}

/** Reads and parses the user file (a flat JSON object); does not validate values. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw badConfig(`cannot read configuration file ${file} (${code}); check the --config path`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw badConfig(`configuration file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badConfig(`configuration file ${file} must contain a JSON object of settings, e.g. {"port": 12000}`);
  }
  return parsed as Record<string, unknown>;
}

/** Builds the effective settings; throws BadInputError('ERR_BAD_CONFIG') naming the setting and its source. */
export function loadConfig(opts: LoadConfigOptions = {}): Settings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  const origin: Partial<Record<SettingKey, string>> = {};
  const apply = (key: SettingKey, raw: unknown, source: string, fromString: boolean): void => {
    const r = RULES[key].parse(raw, fromString);
    if (!r.ok) throw badConfig(`invalid setting "${key}" in ${source}: expected ${RULES[key].expected}, got ${shown(raw)}`);
    out[key] = r.value;
    origin[key] = source;
  };

  if (opts.file !== undefined) {
    const data = readConfigFile(opts.file);
    for (const [k, v] of Object.entries(data)) {
      if (!isSettingKey(k)) {
        const hint = closest(k);
        throw badConfig(
          `unknown setting "${k}" in ${opts.file}${hint ? ` (did you mean "${hint}"?)` : ''}; the settings are listed in config/default.json`,
        );
      }
      apply(k, v, opts.file, false);
    }
  }
  const env = opts.env ?? {};
  for (const key of SETTING_KEYS) {
    const v = env[envName(key)];
    if (v !== undefined && v !== '') apply(key, v, `environment variable ${envName(key)}`, true);
  }
  for (const [k, v] of Object.entries(opts.flags ?? {})) {
    if (v === undefined) continue;
    if (!isSettingKey(k)) throw badConfig(`unknown setting "${k}" given as a flag`);
    apply(k, v, `flag ${flagName(k)}`, true);
  }
  const settings = out as unknown as Settings;
  checkRelations(settings, origin);
  return settings;
}

function checkRelations(s: Settings, origin: Partial<Record<SettingKey, string>>): void {
  const rel = (key: SettingKey, other: SettingKey): void => {
    const a = s[key] as number;
    const b = s[other] as number;
    if (a < b) {
      const where = origin[key] ?? origin[other] ?? 'the defaults';
      throw badConfig(`invalid setting "${key}" in ${where}: must be at least ${other} (${b}), got ${a}`);
    }
  };
  rel('rejectAfterMs', 'rekeyAfterMs');
  rel('reassemblyPeerBytes', 'maxMessageBytes');
  rel('reassemblyTotalBytes', 'reassemblyPeerBytes');
}
