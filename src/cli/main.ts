/** `udpvault` entry: subcommand dispatch, errors → messages and exit codes (SPEC §1). */
import { BadInputError, UdpVaultError } from '../errors';
import { packageVersion } from '../control/version';
import { resolveHome } from '../daemon/home';
import { checkPositionals, parseArgs, str, usage, type CommandSpec, type ParsedArgs } from './args';
import { cmdId, cmdPeerAdd, cmdPeerList, cmdPeerRemove, cmdStatus, type CommandContext } from './commands';
import { EXIT_OK, exitCodeFor, type ExitCode } from './exit';
import { processIo, type CliIo } from './io';
import { cmdSend } from './send';
import { cmdSubscribe } from './subscribe';
import { SPECS, TOP_USAGE, type CommandName } from './specs';

type Runner = (ctx: CommandContext) => Promise<ExitCode>;

async function cmdDaemon({ home, args, io }: CommandContext): Promise<ExitCode> {
  const flags: Record<string, string> = {};
  const port = str(args, 'port');
  const host = str(args, 'host');
  const logLevel = str(args, 'log-level');
  if (port !== undefined) flags.port = port;
  if (host !== undefined) flags.host = host;
  if (logLevel !== undefined) flags.logLevel = logLevel;
  const config = str(args, 'config');
  // Loaded only here: the node and its dependencies would slow down every other command.
  const { runDaemon } = require('../daemon/daemon') as typeof import('../daemon/daemon');
  return (await runDaemon({ home, env: io.env, flags, ...(config !== undefined && { config }) })) as ExitCode;
}

const RUNNERS: Record<CommandName, Runner> = {
  daemon: cmdDaemon,
  id: cmdId,
  'peer add': cmdPeerAdd,
  'peer list': cmdPeerList,
  'peer remove': cmdPeerRemove,
  send: cmdSend,
  subscribe: cmdSubscribe,
  status: cmdStatus,
};

const COMMANDS = ['daemon', 'id', 'peer', 'send', 'subscribe', 'status'];

/** Finds the subcommand: returns its name and the remaining arguments. */
function resolveCommand(argv: readonly string[]): { name: CommandName; rest: string[] } {
  const [first, second] = argv;
  if (first === 'peer') {
    const name = `peer ${second ?? ''}`;
    if (second === undefined || second.startsWith('-')) {
      throw new BadInputError('ERR_BAD_ARGUMENT', 'missing peer subcommand: add, list or remove (e.g. udpvault peer add HOST:PORT --key KEY)');
    }
    if (!Object.prototype.hasOwnProperty.call(SPECS, name)) throw new BadInputError('ERR_BAD_ARGUMENT', `unknown peer subcommand "${second}": use add, list or remove`);
    return { name: name as CommandName, rest: argv.slice(2) };
  }
  if (first === undefined || !Object.prototype.hasOwnProperty.call(SPECS, first) || first.includes(' ')) {
    const shown = first === undefined ? '' : ` "${first.slice(0, 40)}"`;
    throw new BadInputError('ERR_BAD_ARGUMENT', `${first === undefined ? 'missing command' : `unknown command${shown}`}; commands: ${COMMANDS.join(', ')} (see: udpvault --help)`);
  }
  return { name: first as CommandName, rest: argv.slice(1) };
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
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(TOP_USAGE);
    return EXIT_OK;
  }
  if (first === '--version' || first === '-V' || first === 'version') {
    io.stdout.write(`udpvault ${packageVersion()}\n`);
    return EXIT_OK;
  }
  let label = 'udpvault';
  try {
    const { name, rest } = resolveCommand(argv);
    label = `udpvault ${name}`;
    const spec: CommandSpec = SPECS[name];
    const args: ParsedArgs = parseArgs(spec, rest);
    if (args.help) {
      io.stdout.write(usage(spec));
      return EXIT_OK;
    }
    if (name !== 'send') checkPositionals(spec, args);
    const home = resolveHome(str(args, 'home'), io.env);
    return await RUNNERS[name]({ home, args, io });
  } catch (e) {
    if (e instanceof UdpVaultError) {
      io.stderr.write(`${label}: ${e.message}\n`);
      if (e.code === 'ERR_BAD_ARGUMENT' && label === 'udpvault' && argv.length === 0) io.stderr.write(`\n${TOP_USAGE}`);
      return exitCodeFor(e);
    }
    io.stderr.write(`${label}: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return exitCodeFor(e);
  }
}

