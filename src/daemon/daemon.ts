/**
 * The daemon (SPEC §5): home → lock → configuration → logger → node → control socket →
 * signals → ONE `ready` log line (only once UDP and the control socket both serve).
 * SIGINT/SIGTERM stop gracefully (node closed and peers saved, subscribers told, socket
 * removed, lock released); SIGHUP reloads the configuration and the peer store and logs what
 * was applied. Security events go to the log at warn, summarised (security-log.ts).
 */
import * as path from 'node:path';
import type { CreateNodeOptions, PeerEvent, UdpVaultNode } from '../node/types';
import type { Settings } from '../config/schema';
import { createLogger, type Logger } from '../runtime/log';
import { BadInputError, UdpVaultError } from '../errors';
import { createNode as realCreateNode } from '../node/node';
import { ControlServer } from '../control/server';
import { packageVersion } from '../control/version';
import type { DaemonInfo } from '../control/views';
import { safeFingerprint } from '../control/views';
import { maxDatagramBytes, resolveMtuWithSource, type MtuSource } from '../net/mtu';
import { startMetrics, type MetricsEndpoint } from '../metrics';
import type { Scheduler } from '../runtime/scheduler';
import { loadConfig, type ConfigFlags, type LoadedConfig } from '../config/load';
import { describeReload, planReload } from '../config/reload';
import { checkSocketPath, homePaths, resolveHome, type HomePaths } from '../store/home';
import { openHome } from '../store/open-home';
import { sodiumReady } from '../crypto/sodium';
import { SecurityLog } from './security-log';

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
  /** Timers of the security summaries (default: the system scheduler). */
  scheduler?: Scheduler;
  /** Security summary interval (default 10 s). */
  securityIntervalMs?: number;
}

export interface RunningDaemon {
  readonly node: UdpVaultNode;
  readonly paths: HomePaths;
  readonly settings: Settings;
  readonly logger: Logger;
  readonly info: DaemonInfo;
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
  return { event: ev.type, peer: p.name ?? p.key ?? p.endpoint, key: p.key, fingerprint: safeFingerprint(p.key), endpoint: p.endpoint, state: p.state, trust: p.trust,
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
  checkSocketPath(homePaths(home));
  const logger = createLogger(settings.logLevel, opts.logDestination);
  // The home: created, locked (one process per home), leftover temp files removed, identity
  // loaded or created, journal opened. Closed (lock released) last on every exit path.
  await sodiumReady(); // the identity may be created here
  const opened = openHome(home, { kind: 'daemon', onJournalError: (e) => logger.error({ err: e }, 'state journal failed: later state changes are not durable') });
  const paths = opened.paths;
  const closeHome = (): Promise<void> => opened.close().catch((e: unknown) => logger.error({ err: e }, 'closing the home failed'));
  for (const w of first.warnings) logger.warn({}, w);
  if (opened.removedTemps.length > 0) logger.info({ files: opened.removedTemps }, 'removed temp files of interrupted writes');
  const identityCreated = opened.identityCreated;
  let node: UdpVaultNode;
  let server: ControlServer;
  let mtuSource: MtuSource;
  try {
    // The MTU is resolved here (once) so that the ready line can say where it came from.
    const mtu = await resolveMtuWithSource(settings.mtu);
    mtuSource = mtu.source;
    node = await (opts.createNode ?? realCreateNode)({ home, openedHome: opened, port: settings.port, host: settings.host, settings: { ...settings, mtu: mtu.mtu }, logger });
  } catch (e) {
    await closeHome();
    const explained = explainStartError(e, settings);
    logger.error({ err: explained }, 'udpvault daemon could not start');
    throw explained;
  }
  const nodeMtu = node.status().mtu;
  const info: DaemonInfo = {
    mtuSource,
    maxDatagramBytes: { ipv4: maxDatagramBytes(nodeMtu, 4), ipv6: maxDatagramBytes(nodeMtu, 6) },
    configFile: opts.config !== undefined ? path.resolve(opts.config) : null,
    logLevel: settings.logLevel,
    metricsUrl: null,
  };
  // The optional Prometheus endpoint: after the node, before the control socket; closed before the node.
  let metrics: MetricsEndpoint | null = null;
  try {
    if (settings.metrics !== '') metrics = await startMetrics({ address: settings.metrics, node, maxPeers: settings.metricsMaxPeers, log: logger });
    info.metricsUrl = metrics?.url ?? null;
    server = await ControlServer.listen({ path: paths.control, node, settings, home, logger, daemonInfo: () => info });
  } catch (e) {
    await metrics?.close();
    await node.close().catch(() => undefined);
    await closeHome();
    logger.error({ err: e }, 'udpvault daemon could not start');
    throw e;
  }

  const security = new SecurityLog({
    logger,
    drops: () => node.status().counters.drops,
    ...(opts.scheduler && { scheduler: opts.scheduler }),
    ...(opts.securityIntervalMs !== undefined && { intervalMs: opts.securityIntervalMs }),
  });
  node.on('error', (e) => logger.error({ err: e }, 'node error'));
  node.on('refused', (ev) => security.sample('unknown-identity', { source: ev.source, fingerprint: ev.staticFingerprint }));
  node.on('peer', (ev) => {
    // A key offered by the remote side and refused (not one the user replaced with --replace-key,
    // where the offered key is the peer's key now): the summary line (warn) counts it; the
    // offered key appears as a fingerprint only.
    if (ev.type === 'key-changed' && ev.offeredKey !== ev.peer.key) {
      security.sample('key-changed', {
        peer: ev.peer.name ?? ev.peer.endpoint,
        source: ev.peer.endpoint,
        ...(ev.offeredKey !== undefined && { fingerprint: safeFingerprint(ev.offeredKey) ?? 'invalid' }),
        recordedFingerprint: safeFingerprint(ev.peer.key) ?? 'none',
      });
      return;
    }
    logger.info(peerLogFields(ev), `peer ${ev.type}`);
  });

  let stopping: Promise<void> | null = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const signalHandlers: [NodeJS.Signals, () => void][] = [];

  const stop = (reason = 'stop requested'): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      logger.info({ reason }, 'udpvault daemon stopping');
      // The control socket stops taking connections and requests and ends every subscription
      // now; requests in flight (a reliable send) get their answer once the node's close grace
      // settled them, then their connections end (destroyed at the latest 1 s after the grace).
      const serverClosed = server.close('daemon stopping', settings.closeGraceMs + 1_000).catch((e: unknown) => logger.error({ err: e }, 'closing the control socket failed'));
      security.close();
      await metrics?.close();
      await node.close().catch((e: unknown) => logger.error({ err: e }, 'closing the node failed'));
      await serverClosed;
      await closeHome();
      for (const [sig, h] of signalHandlers) process.off(sig, h);
      logger.info({}, 'udpvault daemon stopped');
      resolveStopped();
    })();
    return stopping;
  };

  const reload = async (): Promise<void> => {
    let plan: ReturnType<typeof planReload>;
    try {
      // Restart-only settings keep their running values (the plan says which waited).
      plan = planReload(settings, readConfig().settings);
    } catch (e) {
      logger.error({ err: e }, 'configuration reload failed; keeping the current configuration');
      return;
    }
    const next = plan.settings;
    setLevel(logger, next.logLevel);
    server.updateSettings(next);
    try {
      const changes = await node.reload(next);
      settings = next;
      info.logLevel = next.logLevel;
      const peersAdded = changes?.added ?? [];
      const { msg, fields } = describeReload(plan);
      const what = changes ? (['added', 'removed', 'changed', 'failed'] as const).filter((k) => changes[k].length > 0).map((k) => `${k} ${changes[k].join(', ')}`) : [];
      logger.info({ ...fields, peersAdded, peers: changes }, `${msg}; peer store reloaded: ${what.length > 0 ? what.join('; ') : 'no change'}`);
      if (plan.needsRestart.length > 0) logger.warn({ needsRestart: plan.needsRestart }, `${plan.needsRestart.join(', ')}: changes take effect after a restart`);
    } catch (e) {
      logger.error({ err: e }, 'reload failed');
    }
  };

  if (opts.handleSignals ?? true) {
    let signalled = 0;
    const onStop = (sig: NodeJS.Signals) => (): void => {
      if (++signalled > 1) {
        logger.warn({ signal: sig }, 'second signal: exiting now');
        opened.lock.release(); // the journal's pending appends are lost: only what was fsync'd was acknowledged
        process.exit(130);
      }
      void stop(sig);
    };
    signalHandlers.push(['SIGINT', onStop('SIGINT')], ['SIGTERM', onStop('SIGTERM')], ['SIGHUP', () => void reload()]);
    for (const [sig, h] of signalHandlers) process.on(sig, h);
  }

  logger.info(
    {
      port: node.port,
      host: settings.host,
      mtu: nodeMtu,
      mtuSource,
      maxDatagramBytes: info.maxDatagramBytes,
      config: info.configFile,
      home,
      control: paths.control,
      publicKey: node.publicKey,
      fingerprint: safeFingerprint(node.publicKey),
      identityCreated,
      logLevel: settings.logLevel,
      metrics: info.metricsUrl,
      version: packageVersion(),
    },
    'ready',
  );

  return {
    node,
    paths,
    logger,
    info,
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
