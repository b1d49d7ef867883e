/**
 * Syntax checks of user-given peer attributes, shared by the CLI (which names the argument)
 * and the control server (which names the request field). Semantics (does the peer exist,
 * does the host resolve) are the node's.
 */
import * as net from 'node:net';
import { BadInputError } from '../errors';
import { isKeyString } from '../crypto/identity';

export interface Endpoint {
  host: string;
  port: number;
}

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function show(v: string): string {
  return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
}

const EXAMPLE = 'e.g. 192.0.2.1:11000, peer.example.org:11000 or [2001:db8::1]:11000';

/** Parses 'host:port' or '[v6]:port'; `what` names the argument in the error. */
export function parseEndpoint(value: string, what: string): Endpoint {
  const bad = (why: string): BadInputError => new BadInputError('ERR_BAD_ARGUMENT', `${what}: ${why}, got ${show(value)} (expected HOST:PORT, ${EXAMPLE})`);
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0 || value[end + 1] !== ':') throw bad('an IPv6 address in brackets must be followed by :PORT');
    host = value.slice(1, end);
    portText = value.slice(end + 2);
    if (!net.isIPv6(host)) throw bad('not a valid IPv6 address in brackets');
  } else {
    const i = value.lastIndexOf(':');
    if (i < 0) throw bad('missing :PORT');
    host = value.slice(0, i);
    portText = value.slice(i + 1);
    if (host.includes(':')) throw bad('an IPv6 address must be written in brackets');
    if (host === '') throw bad('missing host');
    const numeric = /^[\d.]+$/.test(host);
    if (numeric ? !net.isIPv4(host) : !HOSTNAME_RE.test(host)) throw bad('not a valid IPv4 address or host name');
  }
  if (!/^\d{1,5}$/.test(portText)) throw bad('the port is not a number');
  const port = Number(portText);
  if (port < 1 || port > 65535) throw bad('the port must be 1..65535');
  return { host, port };
}

export function checkKey(value: string, what: string): string {
  if (!isKeyString(value)) {
    throw new BadInputError('ERR_BAD_ARGUMENT', `${what}: invalid key ${show(value)}; expected the 43-character string printed by "udpvault id" on the peer`);
  }
  return value;
}

export function checkName(value: string, what: string): string {
  if (!NAME_RE.test(value)) {
    throw new BadInputError(
      'ERR_BAD_ARGUMENT',
      `${what}: invalid name ${show(value)}; use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  if (isKeyString(value)) throw new BadInputError('ERR_BAD_ARGUMENT', `${what}: the name ${show(value)} looks like a key; choose a shorter name`);
  return value;
}

export function checkCompat(value: string, what: string): 'vault-v2' {
  if (value !== 'vault-v2') throw new BadInputError('ERR_BAD_ARGUMENT', `${what}: unknown compatibility mode ${show(value)}; the only one is "vault-v2"`);
  return value;
}
