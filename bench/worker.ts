/**
 * One bench process, driven by bench/run.ts over IPC (bench/protocol.ts): `node worker.js ROLE`.
 * It answers `init` with its address, then every command with one reply ({ error } on failure).
 */
import type { Command, Role } from './protocol';
import { crowdRole } from './roles/crowd';
import { rawRole } from './roles/raw';
import type { RoleHandler } from './roles/role';
import { secretStreamRole } from './roles/secret-stream';
import { udpvaultRole } from './roles/udpvault';

const ROLES: Record<Role, () => RoleHandler> = {
  raw: rawRole,
  udpvault: udpvaultRole,
  'secret-stream': secretStreamRole,
  crowd: crowdRole,
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
