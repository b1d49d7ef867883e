/**
 * A transparent UDP relay between node A and node B that records every datagram and lets a
 * test hold, drop or rewrite them. A reaches B at `toB` and B reaches A at `toA`.
 */
import * as dgram from 'node:dgram';

export interface Tap {
  /** Port A uses as B's endpoint. */
  portForA: number;
  /** Port B uses as A's endpoint. */
  portForB: number;
  aToB: Buffer[];
  bToA: Buffer[];
  /** Return false to drop, a Buffer to replace. */
  filter: ((dir: 'aToB' | 'bToA', d: Buffer) => boolean | Buffer) | null;
  /** Sends raw bytes to B as if from A's side of the relay. */
  injectToB(d: Uint8Array): Promise<void>;
  injectToA(d: Uint8Array): Promise<void>;
  /** Moves the B-facing side to a new port: B sees A's traffic from a new address (roaming). */
  rebindB(): Promise<number>;
  close(): Promise<void>;
}

async function bound(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

export async function startTap(aPort: number, bPort: number): Promise<Tap> {
  const sa = await bound(); // faces A
  let sb = await bound(); // faces B
  const send = (s: dgram.Socket, d: Uint8Array, port: number) =>
    new Promise<void>((r, j) => s.send(d, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  const tap: Tap = {
    portForA: sa.address().port,
    portForB: sb.address().port,
    aToB: [],
    bToA: [],
    filter: null,
    injectToB: (d) => send(sb, d, bPort),
    injectToA: (d) => send(sa, d, aPort),
    rebindB: async () => {
      const old = sb;
      sb = await bound();
      sb.on('message', (d) => relay('bToA', d));
      old.close();
      return sb.address().port;
    },
    close: async () => {
      await Promise.all([new Promise<void>((r) => sa.close(() => r())), new Promise<void>((r) => sb.close(() => r()))]);
    },
  };
  const relay = (dir: 'aToB' | 'bToA', d: Buffer): void => {
    tap[dir].push(d);
    const f = tap.filter ? tap.filter(dir, d) : true;
    if (f === false) return;
    const out = f === true ? d : f;
    if (dir === 'aToB') sb.send(out, bPort, '127.0.0.1');
    else sa.send(out, aPort, '127.0.0.1');
  };
  sa.on('message', (d) => relay('aToB', d));
  sb.on('message', (d) => relay('bToA', d));
  return tap;
}
