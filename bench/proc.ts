/** The parent's handle on one bench process (bench/worker.ts): fork, ask, wait for its exit. */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Command, Hello, Role } from './protocol';

type Reply = Record<string, unknown>;

export class BenchProcess {
  readonly role: Role;
  #p: ChildProcess;
  #waiters: Array<{ resolve: (m: Reply) => void; reject: (e: Error) => void }> = [];
  #exited: Promise<void>;

  private constructor(role: Role, env: Record<string, string>) {
    this.role = role;
    this.#p = fork(path.join(__dirname, 'worker.js'), [role], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
      // BENCH_NODE_ARGS: extra node flags for the bench processes (e.g. --cpu-prof for bench/hot.ts).
      execArgv: ['--expose-gc', ...(process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean)],
    });
    this.#p.on('message', (m: Reply) => {
      const w = this.#waiters.shift();
      if (!w) return;
      if (typeof m['error'] === 'string') w.reject(new Error(`${role}: ${m['error']}`));
      else w.resolve(m);
    });
    this.#exited = new Promise((resolve) => {
      this.#p.on('exit', (code) => {
        for (const w of this.#waiters.splice(0)) w.reject(new Error(`${role} process exited (${code ?? 'signal'})`));
        resolve();
      });
    });
  }

  /** Starts a process (with `env` added to this one's environment) and waits for its address. */
  static async start(role: Role, env: Record<string, string> = {}): Promise<[BenchProcess, Hello]> {
    const p = new BenchProcess(role, env);
    const hello = (await p.#next()) as unknown as Hello;
    return [p, hello];
  }

  #next(): Promise<Reply> {
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async ask<T = Reply>(c: Command): Promise<T> {
    const r = this.#next();
    this.#p.send(c);
    return (await r) as T;
  }

  /** The process id (bench/smaps.ts reads the centre's mappings). */
  get pid(): number {
    return this.#p.pid ?? 0;
  }

  /** Ends the process and waits until it is gone (so the next measurement has the CPU). */
  async exit(): Promise<void> {
    if (this.#p.exitCode === null && this.#p.signalCode === null) {
      if (this.#p.connected) this.#p.send({ cmd: 'exit' } satisfies Command);
      const timer = setTimeout(() => this.#p.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
