/**
 * Hosts many udpvault nodes in one process: the idle peers of the memory measurement. Node `i`
 * binds its own loopback address (crowdHost), so the centre sees one handshake per source
 * address and its per-IP handshake limit (a normal setting) is never what paces the crowd.
 */
import type { UdpVaultNode } from '../../src/index';
/** The package entry (package.json "main"), as in the udpvault role. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createNode } = require('../../..') as typeof import('../../src/index');
import { crowdHost, type Command, type CrowdMember, type Hello } from '../protocol';
import { memory, type RoleHandler } from './role';
import { BENCH_SETTINGS } from './udpvault';

export function crowdRole(): RoleHandler {
  const nodes: UdpVaultNode[] = [];
  return {
    async init(): Promise<Hello> {
      return { port: 0, key: '' };
    },
    async handle(c: Command): Promise<unknown> {
      switch (c.cmd) {
        case 'spawn': {
          const members: CrowdMember[] = [];
          for (let i = 0; i < c.n; i++) {
            const host = crowdHost(c.firstIndex + i);
            const node = await createNode({ port: 0, host, settings: BENCH_SETTINGS });
            nodes.push(node);
            members.push({ host, port: node.port, key: node.publicKey });
          }
          return { members };
        }
        case 'join': {
          // nodes [from, from + count) of this process take the centre as their peer, once the
          // centre has added them: a node that knew the centre earlier would retry refused
          // handshakes (a signature each) until then, and 10,000 of them swamp two cores
          for (const node of nodes.slice(c.from, c.from + c.count)) await node.addPeer({ endpoint: `127.0.0.1:${c.port}`, key: c.key });
          return {};
        }
        case 'established':
          return { n: nodes.filter((n) => n.peers()[0]?.state === 'established').length };
        case 'rss':
          return memory();
        default:
          throw new Error(`crowd: no command ${c.cmd}`);
      }
    },
  };
}
