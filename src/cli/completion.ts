/**
 * `udpvault completion bash|zsh|fish`: shell completion scripts generated from the command
 * specs (commands, peer subcommands, options, and values where they are known: files,
 * directories, log levels, vault-v2).
 */
import { BadInputError } from '../errors';
import { COMMON_OPTIONS, type OptionSpec } from './args';
import type { CommandContext } from './commands/context';
import { EXIT_OK, type ExitCode } from './exit';
import { COMMANDS, PEER_SUBCOMMANDS, SPECS } from './specs';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const TOP: readonly string[] = COMMANDS;
const PEER_SUBS: readonly string[] = PEER_SUBCOMMANDS;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

type ValueKind = 'none' | 'file' | 'dir' | 'words' | 'any';

interface Opt {
  name: string;
  help: string;
  kind: ValueKind;
  words: string[];
}

function valueKind(name: string, o: OptionSpec): { kind: ValueKind; words: string[] } {
  if (o.type === 'boolean') return { kind: 'none', words: [] };
  if (name === 'home') return { kind: 'dir', words: [] };
  if (name === 'file' || name === 'config') return { kind: 'file', words: [] };
  if (name === 'log-level') return { kind: 'words', words: LOG_LEVELS };
  if (name === 'compat') return { kind: 'words', words: ['vault-v2'] };
  return { kind: 'any', words: [] };
}

/** Every command word ('daemon', 'peer add', ...) with its options (--home included). */
function commandOptions(): [string, Opt[]][] {
  return Object.entries(SPECS)
    .filter(([name]) => name !== 'help' && name !== 'completion')
    .map(([name, spec]) => [
      name,
      Object.entries({ ...spec.options, ...COMMON_OPTIONS } as Record<string, OptionSpec>).map(([k, o]) => ({ name: k, help: o.help, ...valueKind(k, o) })),
    ]);
}

const clean = (s: string, max = 60): string => {
  const t = s.replace(/[^\w ,./()+-]/g, '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
};

export function bashScript(): string {
  const cases = commandOptions()
    .map(([name, opts]) => `    "${name}") opts="${opts.map((o) => `--${o.name}`).join(' ')} --help";;`)
    .join('\n');
  const values = commandOptions()
    .flatMap(([, opts]) => opts)
    .filter((o, i, all) => o.kind !== 'none' && o.kind !== 'any' && all.findIndex((x) => x.name === o.name) === i)
    .map((o) => {
      const gen = o.kind === 'file' ? '-f' : o.kind === 'dir' ? '-d' : `-W "${o.words.join(' ')}"`;
      return `    --${o.name}) COMPREPLY=( $(compgen ${gen} -- "$cur") ); return;;`;
    })
    .join('\n');
  return `# udpvault bash completion. Load it with: source <(udpvault completion bash)
_udpvault() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="\${COMP_WORDS[1]}" key opts
  case "$prev" in
${values}
  esac
  if (( COMP_CWORD == 1 )); then COMPREPLY=( $(compgen -W "${TOP.join(' ')} --help --version" -- "$cur") ); return; fi
  case "$cmd" in
    peer)
      if (( COMP_CWORD == 2 )); then COMPREPLY=( $(compgen -W "${PEER_SUBS.join(' ')} --help" -- "$cur") ); return; fi
      key="peer \${COMP_WORDS[2]}";;
    completion) COMPREPLY=( $(compgen -W "${SHELLS.join(' ')}" -- "$cur") ); return;;
    help)
      if (( COMP_CWORD == 2 )); then COMPREPLY=( $(compgen -W "${TOP.join(' ')}" -- "$cur") ); fi
      if (( COMP_CWORD == 3 )) && [[ "\${COMP_WORDS[2]}" == peer ]]; then COMPREPLY=( $(compgen -W "${PEER_SUBS.join(' ')}" -- "$cur") ); fi
      return;;
    *) key="$cmd";;
  esac
  case "$key" in
${cases}
    *) opts="";;
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -o default -F _udpvault udpvault
`;
}

function zshArg(o: Opt): string {
  const desc = `[${clean(o.help)}]`;
  if (o.kind === 'none') return `'--${o.name}${desc}'`;
  const action = o.kind === 'file' ? '_files' : o.kind === 'dir' ? '_files -/' : o.kind === 'words' ? `(${o.words.join(' ')})` : ' ';
  return `'--${o.name}=${desc}:${o.name}:${action}'`;
}

export function zshScript(): string {
  const desc = (name: string): string => clean(SPECS[name as keyof typeof SPECS]?.summary ?? 'manage peers', 50);
  const cases = commandOptions()
    .map(([name, opts]) => `    "${name}") _arguments ${opts.map(zshArg).join(' ')} '--help[show the help]' '*: :_files';;`)
    .join('\n');
  return `#compdef udpvault
# udpvault zsh completion. Load it with: source <(udpvault completion zsh)
# (or save it as _udpvault in a directory of $fpath).
_udpvault() {
  local -a commands subs
  commands=(${TOP.map((c) => `'${c}:${desc(c)}'`).join(' ')})
  subs=(${PEER_SUBS.map((c) => `'${c}:${desc(`peer ${c}`)}'`).join(' ')})
  if (( CURRENT == 2 )); then _describe 'command' commands; return; fi
  local key="\${words[2]}"
  case "$key" in
    peer)
      if (( CURRENT == 3 )); then _describe 'peer command' subs; return; fi
      key="peer \${words[3]}"; shift words; (( CURRENT-- ));;
    completion) _values 'shell' ${SHELLS.join(' ')}; return;;
    help) _describe 'command' commands; return;;
  esac
  shift words; (( CURRENT-- ))
  case "$key" in
${cases}
  esac
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then _udpvault "$@"; else compdef _udpvault udpvault; fi
`;
}

export function fishScript(): string {
  const lines = [
    '# udpvault fish completion. Install it with: udpvault completion fish > ~/.config/fish/completions/udpvault.fish',
    'complete -c udpvault -f',
  ];
  for (const c of TOP) lines.push(`complete -c udpvault -n '__fish_use_subcommand' -a ${c} -d '${clean(SPECS[c as keyof typeof SPECS]?.summary ?? 'manage peers', 50)}'`);
  const notSub = `__fish_seen_subcommand_from peer; and not __fish_seen_subcommand_from ${PEER_SUBS.join(' ')}`;
  for (const s of PEER_SUBS) lines.push(`complete -c udpvault -n '${notSub}' -a ${s} -d '${clean(SPECS[`peer ${s}` as keyof typeof SPECS].summary, 50)}'`);
  lines.push(`complete -c udpvault -n '__fish_seen_subcommand_from completion' -a '${SHELLS.join(' ')}'`);
  lines.push(`complete -c udpvault -n '__fish_seen_subcommand_from help' -a '${TOP.join(' ')}'`);
  for (const [name, opts] of commandOptions()) {
    const [cmd, sub] = name.split(' ');
    const cond = sub ? `__fish_seen_subcommand_from ${cmd}; and __fish_seen_subcommand_from ${sub}` : `__fish_seen_subcommand_from ${cmd}`;
    for (const o of opts) {
      const value = o.kind === 'none' ? '' : o.kind === 'file' || o.kind === 'dir' ? ' -r -F' : o.kind === 'words' ? ` -x -a '${o.words.join(' ')}'` : ' -x';
      lines.push(`complete -c udpvault -n '${cond}' -l ${o.name}${value} -d '${clean(o.help, 50)}'`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function cmdCompletion({ args, io }: CommandContext): Promise<ExitCode> {
  const shell = args.positionals[0]!;
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new BadInputError('ERR_BAD_ARGUMENT', `<bash|zsh|fish>: unknown shell "${shell.slice(0, 40)}"; choose bash, zsh or fish`);
  }
  const scripts: Record<Shell, () => string> = { bash: bashScript, zsh: zshScript, fish: fishScript };
  io.stdout.write(scripts[shell as Shell]());
  return EXIT_OK;
}
