/** Test helpers: a strict parser of the Prometheus text exposition format, and an HTTP GET. */
import * as http from 'node:http';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** TYPE by family name. */
  types: Map<string, string>;
  /** Value of the sample with exactly these labels; undefined if absent. */
  get(name: string, labels?: Record<string, string>): number | undefined;
  /** Samples of one metric name. */
  all(name: string): Sample[];
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad labels: ${text}`);
    if (m[1]! in labels) throw new Error(`duplicate label ${m[1]} in ${text}`);
    labels[m[1]!] = unescape(m[2]!);
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function key(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const byKey = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`bad exposition line: ${line}`);
    const labels = m[2] === undefined ? {} : parseLabels(m[2]);
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    if (Number.isNaN(value)) throw new Error(`bad value: ${line}`);
    const k = key(m[1]!, labels);
    if (byKey.has(k)) throw new Error(`duplicate series ${k}`);
    byKey.set(k, value);
    samples.push({ name: m[1]!, labels, value });
  }
  return {
    samples,
    types,
    get: (name, labels = {}) => byKey.get(key(name, labels)),
    all: (name) => samples.filter((s) => s.name === name),
  };
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as UTF-8 text, and as the bytes received. */
  body: string;
  raw: Buffer;
}

/** One request on its own connection (no agent, so nothing lingers after the test). */
export function request(url: string, method = 'GET', host?: string, headers: http.OutgoingHttpHeaders = {}): Promise<HttpReply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: host ?? u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: u.pathname, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
