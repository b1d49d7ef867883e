/** Plain dgram sender/receiver: the ceiling every contender is a ratio of. */
import * as dgram from 'node:dgram';
import type { Command, Hello } from '../protocol';
import { Blaster, Counter, memory, payload, type RoleHandler } from './role';

export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Binds `s` to an ephemeral loopback port with 4 MiB socket buffers (where the kernel allows); returns the port. */
export async function bindLoopback(s: dgram.Socket): Promise<number> {
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  for (const set of [(n: number) => s.setRecvBufferSize(n), (n: number) => s.setSendBufferSize(n)]) {
    try {
      set(SOCKET_BUFFER_BYTES);
    } catch {
      /* capped by net.core.[rw]mem_max */
    }
  }
  return s.address().port;
}

export function rawRole(): RoleHandler {
  const s = dgram.createSocket('udp4');
  const counter = new Counter();
  let blaster: Blaster | null = null;
  s.on('message', (d) => counter.add(d.length));
  return {
    async init(): Promise<Hello> {
      return { port: await bindLoopback(s), key: '' };
    },
    async handle(c: Command): Promise<unknown> {
      switch (c.cmd) {
        case 'connect':
          return { ms: 0, mtu: null };
        case 'count':
          counter.start();
          return {};
        case 'report':
          return counter.stop();
        case 'blast': {
          const data = payload(c.size);
          blaster = new Blaster(() => {
            for (let i = 0; i < c.batch; i++) s.send(data, c.port, '127.0.0.1');
            return true;
          });
          blaster.start();
          return {};
        }
        case 'stop':
          blaster?.stop();
          return {};
        case 'rss':
          return memory();
        default:
          throw new Error(`raw: no command ${c.cmd}`);
      }
    },
  };
}
