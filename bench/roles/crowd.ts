/**
 * Hosts many udpvault nodes in one process: the idle peers of the memory measurement. Node `i`
 * binds its own loopback address (crowdHost), so the centre sees one handshake per source
 * address and its per-IP handshake limit (a normal setting) is never what paces the crowd.
 */
import { createNode, type UdpVaultNode } from '../../src/index';
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
        case 'add': {
          // every node takes the centre as its peer (its first init is refused: the centre
          // does not know it yet; it is answered once the centre adds it)
          for (const node of nodes) await node.addPeer({ endpoint: `127.0.0.1:${c.port}`, key: c.key });
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
