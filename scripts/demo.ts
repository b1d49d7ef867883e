/**
 * `npm run demo`: two udpvault daemons on this machine (two temporary homes, two ports),
 * keys exchanged with `udpvault id` and `udpvault peer add --key`, `subscribe --json` on each
 * side, messages sent both ways (text, binary file, reliable), then both daemons stopped.
 * Everything goes through the real `udpvault` executable, as a user would type it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const CLI = path.join(__dirname, '..', 'bin', 'udpvault.js');
const run = (...args: string[]): string => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' }).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForSocket(home: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(path.join(home, 'control.sock'))) return;
    await sleep(50);
  }
  throw new Error(`daemon for ${home} did not start`);
}

async function main(): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'udpvault-demo-'));
  const alice = path.join(base, 'alice');
  const bob = path.join(base, 'bob');
  const pa = 21000 + Math.floor(Math.random() * 20000);
  const portB = pa + 1;
  const children: ChildProcess[] = [];
  const stop = (): void => children.forEach((c) => c.kill('SIGTERM'));
  process.on('exit', stop);
  try {
    console.log(`$ udpvault daemon --home ${alice} --port ${pa} &`);
    children.push(spawn(process.execPath, [CLI, 'daemon', '--home', alice, '--port', String(pa), '--log-level', 'warn'], { stdio: 'inherit' }));
    console.log(`$ udpvault daemon --home ${bob} --port ${portB} &`);
    children.push(spawn(process.execPath, [CLI, 'daemon', '--home', bob, '--port', String(portB), '--log-level', 'warn'], { stdio: 'inherit' }));
    await Promise.all([waitForSocket(alice), waitForSocket(bob)]);
    const ka = run('id', '--home', alice);
    const kb = run('id', '--home', bob);
    console.log(`alice's key: ${ka}\nbob's key:   ${kb}`);
    console.log(run('peer', 'add', `127.0.0.1:${portB}`, '--key', kb, '--name', 'bob', '--home', alice));
    console.log(run('peer', 'add', `127.0.0.1:${pa}`, '--key', ka, '--name', 'alice', '--home', bob));
    const received: string[] = [];
    for (const [who, home] of [['bob', bob], ['alice', alice]] as const) {
      const sub = spawn(process.execPath, [CLI, 'subscribe', '--json', '--home', home], { stdio: ['ignore', 'pipe', 'ignore'] });
      children.push(sub);
      createInterface({ input: sub.stdout! }).on('line', (l) => {
        received.push(l);
        console.log(`[${who} received] ${l}`);
      });
    }
    await sleep(300);
    const file = path.join(base, 'hello.bin');
    fs.writeFileSync(file, Buffer.from([0, 1, 2, 253, 254, 255]));
    for (const args of [
      ['send', 'bob', 'hello bob, this is alice', '--home', alice],
      ['send', 'bob', '--file', file, '--reliable', '--home', alice],
      ['send', 'alice', 'hi alice, bob here (reliable)', '--reliable', '--home', bob],
    ]) {
      console.log(`$ udpvault ${args.join(' ')}`);
      console.log(run(...args));
    }
    for (let i = 0; i < 40 && received.length < 3; i++) await sleep(50);
    console.log(run('peer', 'list', '--home', alice));
    console.log(received.length === 3 ? '\ndemo ok: 3 messages crossed, encrypted' : `\ndemo FAILED: ${received.length} of 3 messages arrived`);
    process.exitCode = received.length === 3 ? 0 : 1;
  } finally {
    stop();
    await sleep(300);
    fs.rmSync(base, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
