/**
 * Argument parsing (no dependency): `--opt value`, `--opt=value`, boolean `--flag`, `--`
 * ends options. Every mistake is a BadInputError naming the argument (exit code 2).
 */
import { BadInputError } from '../errors';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Shown in usage: `--port N`. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  /** 'send', 'peer add', ... */
  name: string;
  summary: string;
  /** Positional arguments as shown in usage, e.g. ['<peer>', '[MESSAGE]']. */
  args: string[];
  options: Record<string, OptionSpec>;
  /** Explanations printed under the usage line. */
  details?: string[];
}

export interface ParsedArgs {
  options: Record<string, string | boolean>;
  positionals: string[];
  help: boolean;
}

/** Every subcommand accepts these. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  home: { type: 'string', value: 'DIR', help: 'the instance data directory (default $UDPVAULT_HOME, else ~/.udpvault)' },
};

/** Bad usage after which the command's usage is printed too (exit 2). */
export class UsageError extends BadInputError {
  readonly spec: CommandSpec;
  constructor(spec: CommandSpec, message: string) {
    super('ERR_BAD_ARGUMENT', message);
    this.spec = spec;
    this.name = 'UsageError';
  }
}

export function usageError(spec: CommandSpec, message: string): BadInputError {
  return new BadInputError('ERR_BAD_ARGUMENT', `${message} (see: udpvault ${spec.name} --help)`);
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const all = { ...COMMON_OPTIONS, ...spec.options };
  const options: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const opt = all[name];
      if (!opt) throw usageError(spec, `unknown option --${name} for "udpvault ${spec.name}"`);
      if (opt.type === 'boolean') {
        if (eq >= 0) throw usageError(spec, `option --${name} takes no value`);
        options[name] = true;
      } else {
        let v: string | undefined;
        if (eq >= 0) v = a.slice(eq + 1);
        else if (i + 1 < argv.length) v = argv[++i];
        if (v === undefined) throw usageError(spec, `option --${name} needs a value (${opt.value ?? 'VALUE'})`);
        options[name] = v;
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) throw usageError(spec, `unknown option ${a} for "udpvault ${spec.name}"`);
    positionals.push(a);
  }
  return { options, positionals, help };
}

export function str(p: ParsedArgs, name: string): string | undefined {
  const v = p.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function bool(p: ParsedArgs, name: string): boolean {
  return p.options[name] === true;
}

/** Checks the number of positionals against the spec's `args` ('<x>' required, '[x]' optional). */
export function checkPositionals(spec: CommandSpec, p: ParsedArgs, args: string[] = spec.args): void {
  const required = args.filter((a) => a.startsWith('<'));
  if (p.positionals.length < required.length) {
    throw usageError(spec, `missing argument ${required[p.positionals.length]}`);
  }
  if (p.positionals.length > args.length) {
    const extra = p.positionals[args.length]!;
    throw usageError(spec, `unexpected argument "${extra.length > 40 ? `${extra.slice(0, 37)}...` : extra}"`);
  }
}

/** Help texts keep to this many columns. */
const HELP_WIDTH = 100;

/** Word-wraps `words` to HELP_WIDTH columns; lines after the first start with `indent` spaces. */
function wrapWords(words: readonly string[], indent: number, first = ''): string[] {
  const lines: string[] = [];
  let cur = first;
  for (const w of words) {
    if (cur.trim() !== '' && cur.length + 1 + w.length > HELP_WIDTH) {
      lines.push(cur);
      cur = `${' '.repeat(indent)}${w}`;
    } else {
      cur = cur.trim() === '' ? `${cur}${w}` : `${cur} ${w}`;
    }
  }
  lines.push(cur);
  return lines;
}

export function usage(spec: CommandSpec): string {
  const all = { ...spec.options, ...COMMON_OPTIONS };
  const opts = Object.entries(spec.options).map(([k, o]) => `[--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}]`);
  const head = `usage: udpvault ${spec.name}`;
  const lines = [...wrapWords([...spec.args, ...opts, '[--home DIR]'], head.length + 1, head), '', ...wrapWords(spec.summary.split(' '), 0)];
  if (spec.details?.length) lines.push('', ...spec.details);
  lines.push('', 'options:');
  for (const [k, o] of Object.entries(all)) {
    const left = `  --${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    lines.push(...wrapWords(o.help.split(' '), 25, left.padEnd(24)));
  }
  lines.push(`${'  -h, --help'.padEnd(24)} show this help`);
  return `${lines.join('\n')}\n`;
}

/** `--timeout S` in ms (decimals allowed, at most a day); 0 only where `allowZero`. */
export function parseSeconds(v: string | undefined, what: string, allowZero = false): number | undefined {
  if (v === undefined) return undefined;
  const s = Number(v);
  if (v.trim() === '' || !Number.isFinite(s) || s < 0 || (s === 0 && !allowZero) || s > 86_400) {
    throw new BadInputError('ERR_BAD_ARGUMENT', `${what}: expected a number of seconds ${allowZero ? 'from 0' : 'greater than 0'} and at most 86400, got "${v.slice(0, 40)}"`);
  }
  return s === 0 ? 0 : Math.max(1, Math.round(s * 1000));
}
