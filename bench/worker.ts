/**
 * One bench process, driven by bench/run.ts over IPC (bench/protocol.ts): `node worker.js ROLE`.
 * It answers `init` with its address, then every command with one reply ({ error } on failure).
 */
import type { Command, Role } from './protocol';
import type { RoleHandler } from './roles/role';

/** Each role loads only its own modules (a raw or secret-stream process never loads udpvault). */
const ROLES: Record<Role, () => RoleHandler> = {
  raw: () => (require('./roles/raw') as typeof import('./roles/raw')).rawRole(),
  udpvault: () => (require('./roles/udpvault') as typeof import('./roles/udpvault')).udpvaultRole(),
  'secret-stream': () => (require('./roles/secret-stream') as typeof import('./roles/secret-stream')).secretStreamRole(),
  floor: () => (require('./roles/floor') as typeof import('./roles/floor')).floorRole(),
  ladder: () => (require('./roles/ladder') as typeof import('./roles/ladder')).ladderRole(),
  crowd: () => (require('./roles/crowd') as typeof import('./roles/crowd')).crowdRole(),
};

const reply = (m: unknown): void => void process.send?.(m);
const errorReply = (e: unknown): void => reply({ error: e instanceof Error ? e.message : String(e) });

async function main(): Promise<void> {
  const make = ROLES[process.argv[2] as Role];
  if (!make) throw new Error(`unknown role ${process.argv[2] ?? ''}`);
  const role = make();
  process.on('message', (c: Command) => {
    if (c.cmd === 'exit') process.exit(0);
    role.handle(c).then(reply, errorReply);
  });
  process.on('disconnect', () => process.exit(0));
  reply(await role.init());
}

main().catch((e: unknown) => {
  errorReply(e);
  setImmediate(() => process.exit(1));
});
