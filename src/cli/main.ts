/** `udpvault` entry: subcommand dispatch, help, errors → messages and exit codes (SPEC §1). */
import { BadInputError, UdpVaultError } from '../errors';
import { packageVersion } from '../control/version';
import { resolveHome } from '../store/home';
import { checkPositionals, parseArgs, str, usage, UsageError, type CommandSpec, type ParsedArgs } from './args';
import type { CommandContext } from './commands/context';
import { cmdDaemon } from './commands/daemon';
import { cmdId } from './commands/id';
import { cmdPeerAdd, cmdPeerList, cmdPeerRemove } from './commands/peer';
import { cmdSend } from './commands/send';
import { cmdStatus } from './commands/status';
import { cmdSubscribe } from './commands/subscribe';
import { cmdWait } from './commands/wait';
import { cmdCompletion } from './completion';
import { EXIT_OK, exitCodeFor, type ExitCode } from './exit';
import { processIo, type CliIo } from './io';
import { COMMANDS, PEER_USAGE, SPECS, TOP_USAGE, type CommandName } from './specs';

type Runner = (ctx: CommandContext) => Promise<ExitCode>;

const RUNNERS: Record<Exclude<CommandName, 'help'>, Runner> = {
  daemon: cmdDaemon,
  id: cmdId,
  'peer add': cmdPeerAdd,
  'peer list': cmdPeerList,
  'peer remove': cmdPeerRemove,
  send: cmdSend,
  subscribe: cmdSubscribe,
  status: cmdStatus,
  wait: cmdWait,
  completion: cmdCompletion,
};

const isHelpFlag = (a: string | undefined): boolean => a === '--help' || a === '-h';
const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Finds the subcommand: returns its name and the remaining arguments; null for `peer --help`. */
function resolveCommand(argv: readonly string[]): { name: CommandName; rest: string[] } | null {
  const [first, second] = argv;
  if (first === 'peer') {
    if (isHelpFlag(second) || second === 'help') return null;
    if (second === undefined || second.startsWith('-')) {
      throw new BadInputError('ERR_BAD_ARGUMENT', 'missing peer subcommand: add, list or remove (e.g. udpvault peer add HOST:PORT --key KEY; see: udpvault help peer)');
    }
    const name = `peer ${second}`;
    if (!has(SPECS, name)) throw new BadInputError('ERR_BAD_ARGUMENT', `unknown peer subcommand "${second.slice(0, 40)}": use add, list or remove (see: udpvault help peer)`);
    return { name: name as CommandName, rest: argv.slice(2) };
  }
  if (first === undefined || !has(SPECS, first) || first.includes(' ')) {
    const shown = first === undefined ? '' : ` "${first.slice(0, 40)}"`;
    throw new BadInputError('ERR_BAD_ARGUMENT', `${first === undefined ? 'missing command' : `unknown command${shown}`}; commands: ${COMMANDS.join(', ')} (see: udpvault --help)`);
  }
  return { name: first as CommandName, rest: argv.slice(1) };
}

/** `udpvault help [COMMAND [SUBCOMMAND]]`: the help text, or a BadInputError for an unknown command. */
export function helpText(words: readonly string[]): string {
  if (words.length === 0) return TOP_USAGE;
  if (words[0] === 'peer' && words.length === 1) return PEER_USAGE;
  const resolved = resolveCommand(words);
  if (resolved === null) return PEER_USAGE;
  if (resolved.rest.length > 0) throw new BadInputError('ERR_BAD_ARGUMENT', `help: unexpected argument "${resolved.rest[0]!.slice(0, 40)}" (usage: udpvault help COMMAND)`);
  return usage(SPECS[resolved.name]);
}

/** `udpvault --home DIR status` is accepted too: a leading --home moves behind the command. */
function hoistHome(argv: readonly string[]): readonly string[] {
  if (argv[0] === '--home' && argv.length >= 2) return [...argv.slice(2), '--home', argv[1]!];
  if (argv[0]?.startsWith('--home=')) return [...argv.slice(1), argv[0]];
  return argv;
}

export async function main(rawArgv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  const argv = hoistHome(rawArgv);
  const first = argv[0];
  if (first === '--version' || first === '-V' || first === 'version') {
    io.stdout.write(`udpvault ${packageVersion()}\n`);
    return EXIT_OK;
  }
  let label = 'udpvault';
  try {
    if (isHelpFlag(first)) {
      io.stdout.write(TOP_USAGE);
      return EXIT_OK;
    }
    if (first === 'help') {
      label = 'udpvault help';
      const words = argv.slice(1).filter((a, i, all) => !isHelpFlag(a) && a !== '--home' && all[i - 1] !== '--home' && !a.startsWith('--home='));
      io.stdout.write(helpText(words));
      return EXIT_OK;
    }
    const resolved = resolveCommand(argv);
    if (resolved === null) {
      io.stdout.write(PEER_USAGE);
      return EXIT_OK;
    }
    const { name, rest } = resolved;
    label = `udpvault ${name}`;
    const spec: CommandSpec = SPECS[name];
    const args: ParsedArgs = parseArgs(spec, rest);
    if (args.help) {
      io.stdout.write(usage(spec));
      return EXIT_OK;
    }
    if (name !== 'send') checkPositionals(spec, args);
    const home = resolveHome(str(args, 'home'), io.env);
    return await RUNNERS[name as Exclude<CommandName, 'help'>]({ home, args, io });
  } catch (e) {
    if (e instanceof UdpVaultError) {
      io.stderr.write(`${label}: ${e.message}\n`);
      if (e instanceof UsageError) io.stderr.write(`\n${usage(e.spec)}`);
      else if (e.code === 'ERR_BAD_ARGUMENT' && label === 'udpvault' && argv.length === 0) io.stderr.write(`\n${TOP_USAGE}`);
      return exitCodeFor(e);
    }
    io.stderr.write(`${label}: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return exitCodeFor(e);
  }
}
