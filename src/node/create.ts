/**
 * Composition root: createNode() wires identity, peer store, settings, the runtime seams
 * (clock, scheduler, random, transport) and the node. Wiring only.
 */
import { systemClock } from '../runtime/clock';
import { systemScheduler } from '../runtime/scheduler';
import { systemRandom } from '../runtime/random';
import type { Settings } from '../config/schema';
import { nodeSettings } from '../config/parse';
import { useCryptoBackend, wipe } from '../crypto/sodium';
import { identityFromSeed, type Identity } from '../crypto/identity';
import type { PeerStore, StoredPeer } from '../store/peer-store';
import { openHome, type OpenedHome } from '../store/open-home';
import { silentLogger, type Logger } from '../runtime/log';
import { acquireHeapSettler } from '../runtime/heap-settle';
import { resolveMtu, maxDatagramBytes } from '../net/mtu';
import { TokenBucket } from '../net/ratelimit';
import { UdpTransport } from '../net/udp-transport';
import { procFragmentCounter } from '../net/fragment-counter';
import { PeerTable } from '../peer/table';
import { newCounters } from '../peer/counters';
import { limitsOf } from './peer-records';
import { Node } from './node';
import { inboxPath, readInboxFile, writeInboxFile } from './inbox-file';
import type { CreateNodeOptions, UdpVaultNode } from './types';

export async function createNode(opts: CreateNodeOptions = {}): Promise<UdpVaultNode> {
  const settings: Settings = nodeSettings({ settings: opts.settings, port: opts.port, host: opts.host }); // ERR_BAD_CONFIG naming the setting
  await useCryptoBackend(settings.aeadBackend); // every primitive and the packet cipher (src/crypto/sodium.ts); throws for 'native' without sodium-native
  const log: Logger = opts.logger ?? silentLogger;
  const clock = opts.runtime?.clock ?? opts.clock ?? systemClock;
  const scheduler = opts.runtime?.scheduler ?? systemScheduler;
  const random = opts.runtime?.random ?? systemRandom;
  const openTransport = opts.runtime?.openTransport ?? UdpTransport.open;
  // The kernel's fragment counter describes the kernel's sockets only: none for an injected transport.
  const fragmentCounter = opts.runtime?.fragmentCounter ?? (opts.runtime?.openTransport ? undefined : procFragmentCounter());
  let identity: Identity;
  let store: PeerStore | null = null;
  let stored: StoredPeer[] = [];
  // A home this call opens (and locks) is closed with the node, or at once when the start fails.
  let ownedHome: OpenedHome | null = null;
  const home = opts.openedHome ?? (opts.home ? (ownedHome = openHome(opts.home, { kind: 'node', scheduler })) : null);
  if (home) {
    identity = home.identity;
    store = home.peerStore;
    try {
      stored = store.load();
    } catch (e) {
      await ownedHome?.close();
      throw e;
    }
  } else {
    const seed = random.bytes(32); // ephemeral identity: deterministic with a seeded Random (tests)
    identity = identityFromSeed(seed);
    wipe(seed);
  }
  let node: Node | undefined;
  let transport: Awaited<ReturnType<typeof openTransport>>;
  let mtu: number;
  try {
    mtu = await resolveMtu(settings.mtu, undefined, scheduler);
    transport = await openTransport({ host: settings.host, port: settings.port, onMessage: (data, address, port) => node?.onDatagram(data, address, port), onError: (e) => log.warn({ err: e }, 'socket error') });
  } catch (e) {
    await ownedHome?.close();
    throw e;
  }
  // The process's heap settler (issue 12), for nodes on the system timers unless turned off
  // (UDPVAULT_HEAP_SETTLE=0 turns the default off: the jest config does, for timing-bound tests).
  const releaseSettler = (opts.heapSettle ?? (!opts.runtime?.scheduler && process.env['UDPVAULT_HEAP_SETTLE'] !== '0')) ? acquireHeapSettler() : null;
  const closeHome = ownedHome ? () => ownedHome.close() : null;
  node = new Node(
    {
      identity, settings, clock, scheduler, random, log, transport, mtu,
      ...(fragmentCounter ? { fragmentCounter } : {}),
      journal: home?.journal ?? null,
      peers: new PeerTable(),
      counters: newCounters(),
      maxDatagram: { 4: maxDatagramBytes(mtu, 4), 6: maxDatagramBytes(mtu, 6) },
      limits: limitsOf(settings),
      globalLimiter: new TokenBucket(settings.globalPacketsPerSecond, settings.globalPacketsPerSecond, clock),
    },
    store,
    releaseSettler
      ? async () => {
          releaseSettler();
          await closeHome?.();
        }
      : closeHome,
    home?.paths.home ?? null,
  );
  try {
    await node.restorePeers(stored);
    if (home) {
      const dir = home.paths.home;
      node.restoreInbox(readInboxFile(dir, (why) => log.error({ file: inboxPath(dir), why }, 'the inbox file is unreadable; set aside as inbox.json.corrupt')));
      if (!settings.inboxFsync) writeInboxFile(dir, []); // in memory from now on: a crash loses what was never read
    }
  } catch (e) {
    await node.close(); // nothing may outlive a failed start
    throw e;
  }
  log.info({ publicKey: identity.keyString, port: node.port, peers: stored.length }, 'node started');
  return node;
}
