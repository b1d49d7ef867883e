/**
 * `npm run demo`: two udpvault daemons on this machine (two temporary homes, two ports),
 * readiness through `udpvault wait`, keys exchanged with `udpvault id` and `peer add --key`,
 * `subscribe --json` on each side, messages sent both ways (text, binary file, reliable),
 * then both daemons stopped. Everything goes through the real `udpvault` executable, and every
 * command is printed shell-quoted, so that it works when pasted while the daemons run.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const CLI = path.join(__dirname, '..', 'bin', 'udpvault.js');

/** Quotes one word for a POSIX shell (only when it needs it). */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_\-.,:/@%+=]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

const show = (args: readonly string[], suffix = ''): void => console.log(`$ udpvault ${args.map(shellQuote).join(' ')}${suffix}`);

/** Runs a command to completion, printing it and its output. */
function run(...args: string[]): string {
  show(args);
  const out = execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' }).trim();
  if (out) console.log(out);
  return out;
}

/** Starts a long-running command in the background (printed with a trailing &). */
function background(args: string[], stdio: 'inherit' | 'pipe'): ChildProcess {
  show(args, ' &');
  return spawn(process.execPath, [CLI, ...args], { stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
}

function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('close', () => r()));
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`demo: ${what} did not happen within ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(t));
}

async function main(): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'udpvault-demo-'));
  const alice = path.join(base, 'alice');
  const bob = path.join(base, 'bob');
  const children: ChildProcess[] = [];
  const stopAll = (): void => children.forEach((c) => c.kill('SIGTERM'));
  process.on('exit', stopAll);
  console.log(`# paste these while the demo runs, after: alias udpvault=${shellQuote(`node ${CLI}`)}`);
  try {
    // Port 0: any free port (a fixed one may be taken); status tells which one each daemon got.
    children.push(background(['daemon', '--home', alice, '--port', '0', '--log-level', 'warn'], 'inherit'));
    children.push(background(['daemon', '--home', bob, '--port', '0', '--log-level', 'warn'], 'inherit'));
    run('wait', '--home', alice);
    run('wait', '--home', bob);
    const portOf = (home: string): number => (JSON.parse(execFileSync(process.execPath, [CLI, 'status', '--json', '--home', home], { encoding: 'utf8' })) as { port: number }).port;
    const pa = portOf(alice);
    const pb = portOf(bob);
    console.log(`# alice listens on UDP port ${pa}, bob on ${pb} (udpvault status --home DIR)`);
    const ka = run('id', '--home', alice);
    const kb = run('id', '--home', bob);
    run('id', '--fingerprint', '--home', alice);
    run('peer', 'add', `127.0.0.1:${pb}`, '--key', kb, '--name', 'bob', '--home', alice);
    run('peer', 'add', `127.0.0.1:${pa}`, '--key', ka, '--name', 'alice', '--home', bob);

    const received: string[] = [];
    let allArrived!: () => void;
    const arrived = new Promise<void>((r) => (allArrived = r));
    const ready: Promise<void>[] = [];
    for (const [who, home] of [['bob', bob], ['alice', alice]] as const) {
      const sub = background(['subscribe', '--json', '--home', home], 'pipe');
      children.push(sub);
      ready.push(new Promise((r) => createInterface({ input: sub.stderr! }).on('line', (l) => l.includes('receiving messages') && r())));
      createInterface({ input: sub.stdout! }).on('line', (l) => {
        received.push(l);
        console.log(`[${who} received] ${l}`);
        if (received.length === 3) allArrived();
      });
    }
    await within(Promise.all(ready), 10_000, 'subscribing');

    const file = path.join(base, 'hello.bin');
    fs.writeFileSync(file, Buffer.from([0, 1, 2, 253, 254, 255]));
    run('send', 'bob', "hello bob, this is alice's daemon", '--home', alice);
    run('send', 'bob', '--file', file, '--reliable', '--home', alice);
    run('send', 'alice', 'hi alice, bob here (reliable)', '--reliable', '--home', bob);
    await within(arrived, 10_000, 'delivery of the 3 messages').catch((e: Error) => console.log(e.message));
    run('peer', 'list', '--home', alice);
    run('status', '--home', bob);
    console.log(received.length === 3 ? '\ndemo ok: 3 messages crossed, encrypted' : `\ndemo FAILED: ${received.length} of 3 messages arrived`);
    process.exitCode = received.length === 3 ? 0 : 1;
  } finally {
    stopAll();
    await within(Promise.all(children.map(exited)), 10_000, 'stopping').catch(() => children.forEach((c) => c.kill('SIGKILL')));
    fs.rmSync(base, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
