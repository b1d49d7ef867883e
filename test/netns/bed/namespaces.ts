/**
 * Network namespaces and links for one bed instance. Names are unique per process and per bed
 * (uvb-<pid>-<n>-<role>); everything a bed made is removed by destroy(), by a process 'exit'
 * hook if destroy() never ran, and — for namespaces whose creating process is gone — by the
 * next bed that starts. Interface names are local to each namespace, so beds never collide.
 */
import type { ChildProcess } from 'node:child_process';
import { stopChild } from '../../helpers/netns';
import { alive, must, run } from './sys';

export { stopChild };

const NAME = /^uvb-(\d+)-/;
let bedCounter = 0;
const live = new Set<Namespaces>();

process.once('exit', () => {
  for (const b of live) b.destroySync();
});

/** Deletes uvb-<pid>-… namespaces whose process no longer exists. */
export function removeStaleBeds(): void {
  const list = run('ip', ['netns', 'list']);
  if (!list.ok) return;
  for (const line of list.out.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = NAME.exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) run('ip', ['netns', 'del', name]);
  }
}

export class Namespaces {
  readonly prefix: string;
  readonly #names: string[] = [];
  readonly #children: ChildProcess[] = [];

  constructor() {
    if (bedCounter === 0) removeStaleBeds();
    this.prefix = `uvb-${process.pid}-${++bedCounter}`;
    live.add(this);
  }

  /** Creates namespace <prefix>-<role> with lo up and IPv6 off (only the test's own traffic). */
  add(role: string): string {
    const ns = `${this.prefix}-${role}`;
    run('ip', ['netns', 'del', ns]);
    must('ip', ['netns', 'add', ns]);
    this.#names.push(ns);
    must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    return ns;
  }

  /** A veth pair between two namespaces, addressed as /24s, with the given MTUs. */
  veth(a: { ns: string; dev: string; addr: string; mtu?: number }, b: { ns: string; dev: string; addr: string; mtu?: number }): void {
    must('ip', ['link', 'add', a.dev, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns]);
    for (const end of [a, b]) {
      must('ip', ['-n', end.ns, 'addr', 'add', `${end.addr}/24`, 'dev', end.dev]);
      must('ip', ['-n', end.ns, 'link', 'set', end.dev, 'mtu', String(end.mtu ?? 1500), 'up']);
    }
  }

  /** Turns a namespace into a router. */
  forward(ns: string): void {
    must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  }

  route(ns: string, dst: string, via: string): void {
    must('ip', ['-n', ns, 'route', 'add', dst, 'via', via]);
  }

  /** Keeps a child so destroy() stops it. */
  own(child: ChildProcess): void {
    this.#children.push(child);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.#children.map((c) => stopChild(c)));
    this.#children.length = 0;
    this.destroySync();
  }

  destroySync(): void {
    for (const c of this.#children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    this.#children.length = 0;
    for (const ns of this.#names.splice(0)) run('ip', ['netns', 'del', ns]);
    live.delete(this);
  }
}
