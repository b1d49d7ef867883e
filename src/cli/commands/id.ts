/** `udpvault id [--json] [--fingerprint]`: this node's key, read (or created) from the home; no daemon needed. */
import { fingerprint, staticFingerprint } from '../../crypto/fingerprint';
import { loadOrCreateIdentity } from '../../store/identity-file';
import { ed25519PkToX25519, sodiumReady } from '../../crypto/sodium';
import { ensureHome } from '../../store/home';
import { bool } from '../args';
import { EXIT_OK, type ExitCode } from '../exit';
import type { CommandContext } from './context';

/** `udpvault id [--json] [--fingerprint]`: reads (or creates on first use) home/identity.key; no daemon needed. With both flags the JSON carries the fingerprint too. */
export async function cmdId({ home, args, io }: CommandContext): Promise<ExitCode> {
  const paths = ensureHome(home);
  await sodiumReady();
  const { identity, created } = loadOrCreateIdentity(paths.identity);
  if (created) io.stderr.write(`udpvault id: created a new identity in ${paths.identity}\n`);
  const fp = bool(args, 'fingerprint') ? fingerprint(identity.keyString) : null;
  // With --fingerprint the JSON also carries the X25519 static's fingerprint: the form a refused
  // handshake is logged with (security log `unknown-identity` samples, docs/LOGS.md).
  const sfp = fp !== null ? staticFingerprint(ed25519PkToX25519(identity.publicKey)) : null;
  if (bool(args, 'json')) io.stdout.write(`${JSON.stringify({ publicKey: identity.keyString, ...(fp !== null && { fingerprint: fp, staticFingerprint: sfp }), home })}\n`);
  else io.stdout.write(`${fp ?? identity.keyString}\n`);
  return EXIT_OK;
}
