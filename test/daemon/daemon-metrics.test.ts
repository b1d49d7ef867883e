/** The daemon serves the optional Prometheus endpoint between its node and its ready line, and closes it before the node. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { startDaemon } from '../../src/daemon/daemon';
import { connect } from '../../src/control/client';

let dir: string;
let text: string;
const sink = (): Writable =>
  new Writable({
    write(c: Buffer, _e, cb) {
      text += c.toString();
      cb();
    },
  });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-dmetrics-'));
  text = '';
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('metrics: "127.0.0.1:0" serves /metrics, named in the ready line and status; closed at stop', async () => {
  const home = path.join(dir, 'home');
  const d = await startDaemon({ home, env: {}, flags: { port: 0, host: '127.0.0.1', metrics: '127.0.0.1:0' }, handleSignals: false, logDestination: sink() });
  const ready = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'ready')!;
  const url = ready.metrics as string;
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const scrape = await get(url);
  expect(scrape.status).toBe(200);
  expect(scrape.body).toMatch(/^udpvault_/m);
  const c = await connect({ home });
  expect((await c.status()).daemon?.metricsUrl).toBe(url);
  c.close();
  await d.stop();
  await expect(get(url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});

test('a metrics address that cannot be served stops start-up naming the setting, leaving nothing behind', async () => {
  const home = path.join(dir, 'home');
  await expect(startDaemon({ home, env: {}, flags: { port: 0, host: '127.0.0.1', metrics: '192.0.2.1:9464' }, handleSignals: false, logDestination: sink() })).rejects.toMatchObject({
    code: 'ERR_BAD_CONFIG',
    message: expect.stringContaining('(setting "metrics")'),
  });
  expect(fs.existsSync(path.join(home, 'daemon.lock'))).toBe(false);
  expect(fs.existsSync(path.join(home, 'control.sock'))).toBe(false);
});
