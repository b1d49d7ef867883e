/** The subcommands of SPEC §1: arguments, options and help texts. */
import type { CommandSpec } from './args';

const json = { type: 'boolean', help: 'machine-readable JSON output (schema in docs/CONTROL.md)' } as const;
const verbose = { type: 'boolean', help: 'every detail: full keys, raw counters, every drop reason' } as const;

export const SPECS = {
  daemon: {
    name: 'daemon',
    summary: 'Runs the daemon in the foreground until SIGINT/SIGTERM (SIGHUP reloads the configuration and peer store). Creates the home and the identity on first start.',
    args: [],
    options: {
      port: { type: 'string', value: 'N', help: 'UDP port (default 11000; 0 = any free port)' },
      host: { type: 'string', value: 'ADDR', help: 'bind address (default 0.0.0.0; :: for IPv6)' },
      config: { type: 'string', value: 'FILE', help: 'JSON file of settings (see config/default.json)' },
      'log-level': { type: 'string', value: 'L', help: 'trace, debug, info, warn, error, fatal or silent' },
    },
    details: ['Settings: defaults < --config file < UDPVAULT_* environment (e.g. UDPVAULT_PORT) < flags.', 'Logs are JSON lines on stdout.'],
  },
  id: {
    name: 'id',
    summary: "Prints this node's public identity: the key string that peers pass to --key. Works without a running daemon (creates the identity on first use).",
    args: [],
    options: {
      json,
      fingerprint: { type: 'boolean', help: 'print the key fingerprint instead: a short form to read aloud and compare' },
    },
    details: [
      'The fingerprint is the first 12 bytes of SHA-256 of the public key, in six groups of four hex',
      'digits (3f2a-9c01-77de-4b10-e2c5-0a9f); peer list shows its first two groups.',
    ],
  },
  'peer add': {
    name: 'peer add',
    summary: 'Adds (or updates) a peer and starts the handshake.',
    args: ['<host:port>'],
    options: {
      key: { type: 'string', value: 'KEY', help: 'the peer\'s key ("udpvault id" on the peer); without it the first key seen is trusted and recorded (TOFU)' },
      name: { type: 'string', value: 'NAME', help: 'a name to refer to the peer by' },
      compat: { type: 'string', value: 'vault-v2', help: 'speak py-vault-udp protocol v2 to this peer' },
      'allow-plaintext': { type: 'boolean', help: 'vault-v2 only: accept plaintext payloads from this peer (marked encrypted: false)' },
      'replace-key': { type: 'boolean', help: 'allow --key to replace the key recorded for an existing peer' },
    },
    details: [
      'An existing peer (same key, name or endpoint) is updated, never renamed or re-keyed silently:',
      'a different key needs --replace-key, a conflicting name is refused (exit 2).',
      "A key that is another encoding of a peer's or this node's own identity (the same",
      'X25519 handshake key) is refused (exit 2).',
    ],
  },
  'peer list': {
    name: 'peer list',
    summary: 'Lists the peers with name, key fingerprint, endpoint, session state, last handshake, RTT, traffic and drops.',
    args: [],
    options: { json, verbose },
  },
  'peer remove': {
    name: 'peer remove',
    summary: 'Removes a peer and its sessions.',
    args: ['<name|key|host:port>'],
    options: {},
  },
  send: {
    name: 'send',
    summary: 'Sends one message: the MESSAGE argument, the contents of --file, or stdin when neither is given.',
    args: ['<peer>', '[MESSAGE]'],
    options: {
      file: { type: 'string', value: 'F', help: 'send the bytes of file F' },
      reliable: { type: 'boolean', help: 'wait for the acknowledgement (retransmitted until acknowledged or timed out)' },
      timeout: { type: 'string', value: 'S', help: 'fail after S seconds (decimals allowed)' },
      all: { type: 'boolean', help: 'send to every peer (then no <peer> argument)' },
    },
    details: [
      '<peer> is a name, a key or host:port. Exits 0 only when the message was sent (datagram mode)',
      'or acknowledged (--reliable); 1 when it failed, 2 on bad input, 3 when no daemon runs.',
    ],
  },
  subscribe: {
    name: 'subscribe',
    summary: 'Streams received messages until interrupted: one line per message.',
    args: [],
    options: {
      json: { type: 'boolean', help: 'one JSON object per line: peer, name, addr, size, base64, text, receivedAt, reliable, encrypted' },
      peer: { type: 'string', value: 'P', help: 'only messages from this peer (name, key or host:port)' },
      backlog: { type: 'boolean', help: 'first the messages the daemon kept in its inbox while no reader was attached' },
    },
    details: ['Exits 0 when stopped with Ctrl-C (SIGINT) or SIGTERM, 3 when the daemon stops or goes away.'],
  },
  status: {
    name: 'status',
    summary: 'Shows the daemon state, port, MTU, peers and counters (packets/bytes in/out, drops by reason).',
    args: [],
    options: { json, verbose },
  },
  wait: {
    name: 'wait',
    summary: 'Waits until the daemon of the home answers on its control socket (exit 0), or exits 3 at the timeout.',
    args: [],
    options: { timeout: { type: 'string', value: 'S', help: 'give up after S seconds (default 30; decimals allowed)' } },
    details: ['For scripts and service managers: udpvault daemon --home H & udpvault wait --home H && ...'],
  },
  completion: {
    name: 'completion',
    summary: 'Prints a shell completion script.',
    args: ['<bash|zsh|fish>'],
    options: {},
    details: [
      'bash: source <(udpvault completion bash)   (or save it in /etc/bash_completion.d/udpvault)',
      'zsh:  source <(udpvault completion zsh)    (or save it as _udpvault in a directory of $fpath)',
      'fish: udpvault completion fish > ~/.config/fish/completions/udpvault.fish',
    ],
  },
  help: {
    name: 'help',
    summary: "Shows the help of a command (udpvault help send), or the list of commands.",
    args: ['[COMMAND]', '[SUBCOMMAND]'],
    options: {},
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof SPECS;

/** The top-level command words, in the order the help lists them. */
export const COMMANDS = ['daemon', 'wait', 'id', 'peer', 'send', 'subscribe', 'status', 'completion', 'help'] as const;
export const PEER_SUBCOMMANDS = ['add', 'list', 'remove'] as const;

export const TOP_USAGE = `usage: udpvault <command> [options] [--home DIR]

commands:
  daemon      run the daemon in the foreground
  wait        wait until the daemon answers:  udpvault wait [--timeout S]
  id          print this node's public key:   udpvault id [--fingerprint]
  peer add    add or update a peer:           udpvault peer add HOST:PORT [--key KEY] [--name NAME]
  peer list   list the peers
  peer remove remove a peer:                  udpvault peer remove NAME|KEY|HOST:PORT
  send        send a message:                 udpvault send PEER [MESSAGE] [--file F] [--reliable]
  subscribe   stream received messages:       udpvault subscribe [--json] [--peer P] [--backlog]
  status      show the daemon's state and counters
  completion  print a completion script:      udpvault completion bash|zsh|fish
  help        show a command's help:          udpvault help COMMAND

Run "udpvault help COMMAND" or "udpvault COMMAND --help" for a command's options.
Exit codes: 0 ok, 1 operation failed, 2 bad usage or input, 3 daemon not running.
`;

export const PEER_USAGE = `usage: udpvault peer <add|list|remove> [options] [--home DIR]

Manages the peers of the daemon of the home.

subcommands:
  add <host:port> [--key KEY] [--name NAME]   add or update a peer and start the handshake
  list [--json] [--verbose]                   list the peers
  remove <name|key|host:port>                 remove a peer and its sessions

Run "udpvault help peer add" (or "udpvault peer add --help") for a subcommand's options.
`;
