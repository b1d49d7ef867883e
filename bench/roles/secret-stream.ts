/**
 * hyperswarm's @hyperswarm/secret-stream over one udx-native stream. Datagram mode =
 * `trySend()` (an encrypted unordered message on the udx stream, the counterpart of udpvault's
 * datagram mode); reliable mode = stream `write()`s (ordered, reliable, congestion-controlled),
 * honouring back-pressure ('drain').
 */
import type { Command, Hello } from '../protocol';
import { loadHyperswarm, type SecretStream, type Udx, type UdxSocket, type UdxStream } from './hyperswarm';
import { SOCKET_BUFFER_BYTES } from './raw';
import { Blaster, Counter, memory, payload, type RoleHandler } from './role';

const STREAM_ID = 1;

export function secretStreamRole(): RoleHandler {
  const hs = loadHyperswarm();
  if ('missing' in hs) throw new Error(`secret-stream unavailable: ${hs.missing}`);
  const udx: Udx = new hs.Udx();
  const counter = new Counter();
  let socket: UdxSocket | null = null;
  let raw: UdxStream | null = null;
  let ss: SecretStream | null = null;
  let blaster: Blaster | null = null;
  const open = async (): Promise<Hello> => {
    socket = udx.createSocket();
    socket.bind(0, '127.0.0.1');
    socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
    socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    raw = udx.createStream(STREAM_ID);
    return { port: socket.address().port, key: '' };
  };
  return {
    init: open,
    async handle(c: Command): Promise<unknown> {
      switch (c.cmd) {
        case 'renew': {
          // a fresh socket, udx stream and secret-stream: the next connect is a first contact
          ss?.destroy();
          ss = null;
          const old = socket;
          await open();
          void old?.close().catch(() => undefined);
          return { port: socket!.address().port, key: '' };
        }
        case 'connect': {
          if (!socket || !raw) throw new Error('secret-stream: not started');
          const t0 = performance.now();
          raw.connect(socket, STREAM_ID, c.port, '127.0.0.1');
          const s = new hs.SecretStream(c.initiator, raw);
          s.on('error', () => undefined);
          s.on('message', (m: Uint8Array) => counter.add(m.byteLength));
          s.on('data', (d: Uint8Array) => counter.add(d.byteLength));
          if (!(await s.opened)) throw new Error('secret-stream: handshake failed');
          ss = s;
          return { ms: performance.now() - t0, mtu: raw.mtu };
        }
        case 'count':
          counter.start();
          return {};
        case 'report':
          return { ...counter.stop(), mtu: raw?.mtu ?? null };
        case 'blast': {
          const s = ss;
          if (!s) throw new Error('secret-stream: not connected');
          const data = payload(c.size);
          blaster = new Blaster(
            c.mode === 'reliable'
              ? () => {
                  for (let i = 0; i < c.batch; i++) if (!s.write(data)) return false;
                  return true;
                }
              : () => {
                  for (let i = 0; i < c.batch; i++) s.trySend(data);
                  return true;
                },
          );
          s.on('drain', () => blaster?.resume());
          blaster.start();
          return {};
        }
        case 'stop':
          blaster?.stop();
          return {};
        case 'rss':
          return memory();
        default:
          throw new Error(`secret-stream: no command ${c.cmd}`);
      }
    },
  };
}
