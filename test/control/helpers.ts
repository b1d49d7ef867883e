/** Control-test helpers: a temp home, a server on a fake node, a raw line socket. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlServer, type ControlSettings } from '../../src/control/server';
import type { Logger } from '../../src/runtime/log';
import { FakeNode } from './fake-node';

export interface Harness {
  dir: string;
  sock: string;
  node: FakeNode;
  server: ControlServer;
  cleanup(): Promise<void>;
}

export async function startHarness(settings: Partial<ControlSettings> & { logger?: Logger } = {}): Promise<Harness> {
  const { logger, ...given } = settings;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-ctl-'));
  const sock = path.join(dir, 'control.sock');
  const node = new FakeNode();
  const server = await ControlServer.listen({
    path: sock,
    node,
    home: dir,
    settings: { maxMessageBytes: 1024 * 1024, subscriberBufferMessages: 10_000, ...given },
    ...(logger && { logger }),
  });
  return {
    dir,
    sock,
    node,
    server,
    cleanup: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A raw connection that collects parsed response lines. */
export class RawSocket {
  readonly socket: net.Socket;
  readonly lines: Record<string, unknown>[] = [];
  #buf = '';
  #waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.#buf += d;
      let i: number;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(this.#buf.slice(0, i)) as Record<string, unknown>);
        this.#buf = this.#buf.slice(i + 1);
      }
      this.#wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  static connect(p: string): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const s = net.connect(p, () => resolve(new RawSocket(s)));
      s.once('error', reject);
    });
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  request(obj: Record<string, unknown>): void {
    this.socket.write(`${JSON.stringify(obj)}\n`);
  }

  /** Waits until `n` lines arrived (or the socket closed). */
  async waitLines(n: number, timeoutMs = 5000): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} lines, have ${JSON.stringify(this.lines)}`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.lines;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket did not close');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
