/**
 * Helpers for the CLI integration tests: real daemons spawned as `node dist/bin/udpvault.js`
 * with temp homes, driven only through the CLI (and the exported control client).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const BIN = path.resolve(__dirname, '../../dist/bin/udpvault.js');

export function requireBuild(): void {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" first (npm test does)`);
}

export function tempDir(prefix = 'uv-it-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command to completion. */
export function cli(args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, UDPVAULT_HOME: '', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`udpvault ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 30_000} ms; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.stdin.on('error', () => undefined);
    if (opts.input !== undefined) p.stdin.end(opts.input);
    else p.stdin.end();
  });
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A background process with its output collected. */
export class Proc {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, UDPVAULT_HOME: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) =>
      this.child.on('close', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        r();
      }),
    );
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  /** Parsed JSON lines of stdout (logs of a daemon, messages of subscribe --json). */
  jsonLines(): Record<string, unknown>[] {
    // Only complete lines: a large message can be half received.
    return this.stdout
      .slice(0, this.stdout.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.kill(signal);
    await this.exited;
  }
}

export class Daemon extends Proc {
  readonly home: string;
  port = 0;
  publicKey = '';

  constructor(home: string, args: string[] = [], env: Record<string, string> = {}) {
    super(['daemon', '--home', home, '--host', '127.0.0.1', ...args], env);
    this.home = home;
  }

  /** The daemon's `ready` log line, once written. */
  readyLine(): Record<string, unknown> | undefined {
    return this.jsonLines().find((l) => l.msg === 'ready');
  }

  /** Starts a daemon and waits for its `ready` log line. */
  static async start(home: string, port = 0, args: string[] = [], env: Record<string, string> = {}): Promise<Daemon> {
    const d = new Daemon(home, ['--port', String(port), ...args], env);
    await waitFor(() => !d.running || d.readyLine() !== undefined, 15_000, 'daemon ready');
    if (!d.running) throw new Error(`daemon exited with ${d.exitCode}: ${d.stderr}`);
    const line = d.readyLine()!;
    d.port = line.port as number;
    d.publicKey = line.publicKey as string;
    return d;
  }
}

/** `udpvault subscribe --json` in the background; resolves once it is receiving. */
export async function subscribe(home: string, extra: string[] = []): Promise<Proc> {
  const p = new Proc(['subscribe', '--json', '--home', home, ...extra]);
  await waitFor(() => !p.running || p.stderr.includes('receiving messages'), 10_000, 'subscribe ready');
  if (!p.running) throw new Error(`subscribe exited with ${p.exitCode}: ${p.stderr}`);
  return p;
}

/** Two daemons that know each other (keys exchanged both ways with `id` and `peer add --key`). */
export async function pairedDaemons(root: string): Promise<{ a: Daemon; b: Daemon }> {
  const homeA = path.join(root, 'a');
  const homeB = path.join(root, 'b');
  const [a, b] = await Promise.all([Daemon.start(homeA), Daemon.start(homeB)]);
  const [ka, kb] = await Promise.all([cli(['id', '--home', homeA]), cli(['id', '--home', homeB])]);
  const keyA = ka.stdout.trim();
  const keyB = kb.stdout.trim();
  const addB = await cli(['peer', 'add', `127.0.0.1:${b.port}`, '--key', keyB, '--name', 'bob', '--home', homeA]);
  const addA = await cli(['peer', 'add', `127.0.0.1:${a.port}`, '--key', keyA, '--name', 'alice', '--home', homeB]);
  if (addA.code !== 0 || addB.code !== 0) throw new Error(`peer add failed: ${addA.stderr} ${addB.stderr}`);
  return { a, b };
}

export async function peerState(home: string, name: string): Promise<string | undefined> {
  const r = await cli(['peer', 'list', '--json', '--home', home]);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { name: string; state: string }[]).find((p) => p.name === name)?.state;
}
