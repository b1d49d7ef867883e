/**
 * A scripted control socket for CLI tests that must see the exact requests the CLI sends
 * (e.g. `replaceKey`, `backlog`) or get answers no real node gives yet (ERR_KEY_CONFLICT).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export type Answer = { result: unknown } | { error: { code: string; message: string; kind: string } } | null;

export class FakeDaemon {
  readonly home: string;
  readonly requests: Record<string, unknown>[] = [];
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  private constructor(home: string, server: net.Server) {
    this.home = home;
    this.#server = server;
  }

  /** `answer(req)` returns the result or error of a request; null leaves it unanswered. */
  static async start(answer: (req: Record<string, unknown>) => Answer): Promise<FakeDaemon> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-fake-'));
    const server = net.createServer();
    const d = new FakeDaemon(home, server);
    server.on('connection', (s) => {
      d.#sockets.add(s);
      s.on('close', () => d.#sockets.delete(s));
      s.on('error', () => undefined);
      let buf = '';
      s.on('data', (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const req = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
          buf = buf.slice(i + 1);
          d.requests.push(req);
          const a = req.op === 'hello' ? { result: { protocol: 1, version: '0.0.0', publicKey: 'k', ops: [] } } : answer(req);
          if (a === null) continue;
          s.write(`${JSON.stringify({ v: 1, id: req.id, ...('result' in a ? { ok: true, result: a.result } : { ok: false, error: a.error }) })}\n`);
        }
      });
    });
    await new Promise<void>((r) => server.listen(path.join(home, 'control.sock'), r));
    return d;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((r) => this.#server.close(r));
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
