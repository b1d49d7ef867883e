/**
 * The daemon (SPEC §5): home → lock → configuration → logger → node → control socket →
 * signals. SIGINT/SIGTERM stop gracefully (node closed and peers saved, subscribers told,
 * socket removed, lock released); SIGHUP reloads the configuration and the peer store.
 */
import type { CreateNodeOptions, PeerEvent, UdpVaultNode } from '../node/types';
import type { Settings } from '../settings';
import { createLogger, type Logger } from '../log';
import { BadInputError, UdpVaultError } from '../errors';
import { createNode as realCreateNode } from '../node/node';
import { ControlServer } from '../control/server';
import { packageVersion } from '../control/version';
import { loadConfig, type ConfigFlags, type LoadedConfig } from '../config/load';
import { checkSocketPath, ensureHome, HomeLock, resolveHome, type HomePaths } from './home';

export interface DaemonOptions {
  /** --home (else $UDPVAULT_HOME, else ~/.udpvault). */
  home?: string;
  /** --config FILE. */
  config?: string;
  /** Flags (--port, --host, --log-level), highest precedence. */
  flags?: ConfigFlags;
  env?: Readonly<Record<string, string | undefined>>;
  /** Log destination (default stdout). */
  logDestination?: NodeJS.WritableStream;
  /** Install SIGINT/SIGTERM/SIGHUP handlers (default true). */
  handleSignals?: boolean;
  /** The node factory (default: the real createNode). */
  createNode?: (opts: CreateNodeOptions) => Promise<UdpVaultNode>;
}

export interface RunningDaemon {
  readonly node: UdpVaultNode;
  readonly paths: HomePaths;
  readonly settings: Settings;
  readonly logger: Logger;
  /** Reloads the configuration (file, environment, flags) and the peer store, like SIGHUP. */
  reload(): Promise<void>;
  /** Graceful stop; idempotent. */
  stop(reason?: string): Promise<void>;
  /** Settles when the daemon has stopped. */
  readonly stopped: Promise<void>;
}

function setLevel(logger: Logger, level: string): void {
  if ('level' in logger) (logger as { level: string }).level = level;
}

function peerLogFields(ev: PeerEvent): Record<string, unknown> {
  const p = ev.peer;
  return { event: ev.type, peer: p.name ?? p.key ?? p.endpoint, key: p.key, endpoint: p.endpoint, state: p.state, trust: p.trust, ...(ev.offeredKey && { offeredKey: ev.offeredKey }),
    ...(ev.clockOffsetMs !== undefined && { clockOffsetMs: ev.clockOffsetMs, previousOffsetMs: ev.previousOffsetMs }) };
}

/** Turns socket errors of start-up into messages naming the setting to change. */
function explainStartError(e: unknown, s: Settings): unknown {
  if (e instanceof UdpVaultError || !(e instanceof Error)) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const where = `UDP ${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
  const why: Record<string, string> = {
    EADDRINUSE: `cannot listen on ${where}: the port is in use (setting "port"; choose another with --port)`,
    EADDRNOTAVAIL: `cannot listen on ${where}: ${s.host} is not an address of this machine (setting "host"; change it with --host)`,
    EACCES: `cannot listen on ${where}: permission denied (ports below 1024 need privileges; setting "port")`,
    EAFNOSUPPORT: `cannot listen on ${where}: this address family is not supported here (setting "host")`,
  };
  return code && why[code] ? new BadInputError('ERR_BAD_CONFIG', why[code]) : e;
}

/** Starts a daemon and returns once it serves; throws a typed error when it cannot start. */
export async function startDaemon(opts: DaemonOptions = {}): Promise<RunningDaemon> {
  const env = opts.env ?? process.env;
  const home = resolveHome(opts.home, env);
  const readConfig = (): LoadedConfig => loadConfig({ ...(opts.config !== undefined && { file: opts.config }), env, ...(opts.flags && { flags: opts.flags }) });
  const first = readConfig(); // before touching the home: a bad configuration changes nothing
  let settings = first.settings;
  const paths = ensureHome(home);
  checkSocketPath(paths);
  const lock = HomeLock.acquire(paths);
  const logger = createLogger(settings.logLevel, opts.logDestination);
  for (const w of first.warnings) logger.warn({}, w);
  let node: UdpVaultNode;
  let server: ControlServer;
  try {
    node = await (opts.createNode ?? realCreateNode)({ home, port: settings.port, host: settings.host, settings, logger });
  } catch (e) {
    lock.release();
    throw explainStartError(e, settings);
  }
  try {
    server = await ControlServer.listen({ path: paths.control, node, settings, home, logger });
  } catch (e) {
    await node.close().catch(() => undefined);
    lock.release();
    throw e;
  }

  node.on('error', (e) => logger.error({ err: e.message, code: (e as Partial<UdpVaultError>).code }, 'node error'));
  node.on('peer', (ev) => logger.info(peerLogFields(ev), `peer ${ev.type}`));

  let stopping: Promise<void> | null = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const signalHandlers: [NodeJS.Signals, () => void][] = [];

  const stop = (reason = 'stop requested'): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      logger.info({ reason }, 'udpvault daemon stopping');
      await server.close('daemon stopping').catch((e: Error) => logger.error({ err: e.message }, 'closing the control socket failed'));
      await node.close().catch((e: Error) => logger.error({ err: e.message }, 'closing the node failed'));
      lock.release();
      for (const [sig, h] of signalHandlers) process.off(sig, h);
      logger.info({}, 'udpvault daemon stopped');
      resolveStopped();
    })();
    return stopping;
  };

  const reload = async (): Promise<void> => {
    let next: Settings;
    try {
      next = readConfig().settings;
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'configuration reload failed; keeping the current configuration');
      return;
    }
    if (next.port !== settings.port || next.host !== settings.host) {
      logger.warn({ port: next.port, host: next.host }, 'port and host changes take effect after a restart');
    }
    setLevel(logger, next.logLevel);
    server.updateSettings(next);
    try {
      await node.reload(next);
      settings = next;
      logger.info({}, 'configuration and peer store reloaded');
    } catch (e) {
      logger.error({ err: (e as Error).message, code: (e as Partial<UdpVaultError>).code }, 'reload failed');
    }
  };

  if (opts.handleSignals ?? true) {
    let signalled = 0;
    const onStop = (sig: NodeJS.Signals) => (): void => {
      if (++signalled > 1) {
        logger.warn({ signal: sig }, 'second signal: exiting now');
        lock.release();
        process.exit(130);
      }
      void stop(sig);
    };
    signalHandlers.push(['SIGINT', onStop('SIGINT')], ['SIGTERM', onStop('SIGTERM')], ['SIGHUP', () => void reload()]);
    for (const [sig, h] of signalHandlers) process.on(sig, h);
  }

  logger.info(
    { publicKey: node.publicKey, port: node.port, host: settings.host, home, control: paths.control, version: packageVersion() },
    'udpvault daemon started',
  );

  return {
    node,
    paths,
    logger,
    get settings() {
      return settings;
    },
    reload,
    stop,
    stopped,
  };
}

/** `udpvault daemon`: starts, then runs until stopped by a signal. Resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions = {}): Promise<number> {
  const d = await startDaemon(opts);
  await d.stopped;
  return 0;
}
