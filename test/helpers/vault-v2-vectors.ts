/** Loads test/fixtures/vault-v2.json (a copy of the reference vectors) and derives the keys. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManualClock } from '../../src/runtime/clock';
import { signSeedKeypair, type KeyPair } from '../../src/crypto/sodium';

export interface VectorParty {
  addr: string;
  encSk: Uint8Array;
  encPk: Uint8Array;
  signSeed: Uint8Array;
  signPkB64: string;
  encPkB64: string;
  /** Call after sodiumReady(). */
  sign(): KeyPair;
}

export interface VectorDatagram {
  kind: 'control-plaintext' | 'control-encrypted' | 'payload-encrypted' | 'payload-plaintext';
  sentAt: number;
  bytes: Uint8Array;
  len: number;
  text?: string;
}

export interface Vectors {
  A: VectorParty;
  B: VectorParty;
  datagrams: VectorDatagram[];
  mtuEffective: number;
  /** The raw JSON text, for passing on to the Python checker. */
  raw: string;
}

interface RawParty {
  addr: string;
  enc_sk: string;
  enc_pk: string;
  sign_sk_seed: string;
  sign_pk: string;
}
interface RawFile {
  A: RawParty;
  B: RawParty;
  datagrams: { kind: VectorDatagram['kind']; sent_at: number; hex: string; len: number; text?: string }[];
  mtu_effective: number;
}

export const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

function party(p: RawParty): VectorParty {
  const signSeed = fromB64(p.sign_sk_seed);
  return {
    addr: p.addr,
    encSk: fromB64(p.enc_sk),
    encPk: fromB64(p.enc_pk),
    signSeed,
    signPkB64: p.sign_pk,
    encPkB64: p.enc_pk,
    sign: () => signSeedKeypair(signSeed),
  };
}

export function loadVectors(): Vectors {
  const raw = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'vault-v2.json'), 'utf8');
  const f = JSON.parse(raw) as RawFile;
  return {
    A: party(f.A),
    B: party(f.B),
    mtuEffective: f.mtu_effective,
    raw,
    datagrams: f.datagrams.map((d) => ({
      kind: d.kind,
      sentAt: d.sent_at,
      bytes: new Uint8Array(Buffer.from(d.hex, 'hex')),
      len: d.len,
      ...(d.text === undefined ? {} : { text: d.text }),
    })),
  };
}

/** A ManualClock at `sentAt` (unix seconds, as in the vectors) plus `offsetS` seconds. */
export const clockAt = (sentAt: number, offsetS: number): ManualClock => new ManualClock(sentAt * 1000 + offsetS * 1000);

/** Deterministic "random" bytes: seed, seed+1, … (mod 256). */
export function fixedRandom(seed = 1): (n: number) => Uint8Array {
  let next = seed;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = next++ & 0xff;
    return out;
  };
}
