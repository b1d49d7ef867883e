/**
 * Support for the kill -9 loop: compiles the store's sources (and what they import) with the
 * project's Babel configuration into a temp directory, so a child process runs the current
 * code without `npm run build`, and runs one child round.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { transformSync } from '@babel/core';

export const REPO = path.resolve(__dirname, '../..');
export const WRITER = path.join(__dirname, 'fixtures', 'kill-writer.js');

const IMPORT_RE = /(?:from|require\(|import\()\s*'(\.{1,2}\/[^']+)'/g;

/** Compiles `entries` (repo-relative .ts paths) and their relative imports into `outDir`, mirroring the tree. */
export function compileClosure(entries: string[], outDir: string): void {
  const todo = entries.map((e) => path.join(REPO, e));
  const done = new Set<string>();
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(IMPORT_RE)) todo.push(`${path.resolve(path.dirname(file), m[1]!)}.ts`);
    const out = transformSync(src, { filename: file, cwd: REPO, sourceMaps: false });
    const dest = path.join(outDir, path.relative(REPO, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, out!.code!);
  }
}

/** Children run at the lowest CPU priority, so they do not starve tests running beside them. */
export function lowPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    os.setPriority(pid, 19);
  } catch {
    // not permitted here: run at normal priority
  }
}

export interface RoundOutput {
  /** Every line the child printed before it died. */
  lines: string[];
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Runs the writer until it has acknowledged `acks` writes, then kills it with SIGKILL; resolves with everything it printed. */
export function killRound(lib: string, home: string, round: number, acks: number): Promise<RoundOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, lib, home, String(round)], {
      env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    let stderr = '';
    let seen = 0;
    let killed = false;
    lowPriority(child.pid);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      seen = buf.split('\n').filter((l) => l.startsWith('ok ')).length;
      if (!killed && seen >= acks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      const lines = buf.split('\n');
      lines.pop(); // an unterminated last line is not an acknowledgement
      resolve({ lines, stderr, signal });
    });
  });
}
