#!/usr/bin/env node
/** The `udpvault` executable (SPEC §1). Exit codes: 0 ok, 1 failed, 2 bad usage/input, 3 no daemon. */
import { main } from '../src/cli/main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; if a stray handle kept the process alive, do not hang.
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (e: unknown) => {
    process.stderr.write(`udpvault: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
