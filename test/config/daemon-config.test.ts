/** The daemon's use of the loader: config/default.json as --config, unknown UDPVAULT_* warned in the log. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon';
import { DEFAULT_SETTINGS } from '../../src/config/schema';
import { FakeNode } from '../control/fake-node';

let dir: string;
let d: RunningDaemon | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-daemon-config-'));
});
afterEach(async () => {
  await d?.stop();
  d = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

test('starts with config/default.json as --config and logs each unknown UDPVAULT_* variable at warn', async () => {
  const lines: string[] = [];
  d = await startDaemon({
    home: path.join(dir, 'home'),
    config: path.join(__dirname, '../../config/default.json'),
    env: { UDPVAULT_PROT: '12000', UDPVAULT_HOME: '/ignored-here', UDPVAULT_LOG_LEVEL: 'warn' },
    flags: { port: '0', host: '127.0.0.1' },
    handleSignals: false,
    logDestination: { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream,
    createNode: async () => new FakeNode(),
  });
  expect(d.settings).toEqual({ ...DEFAULT_SETTINGS, port: 0, host: '127.0.0.1', logLevel: 'warn' });
  const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40);
  expect(warnings.map((w) => w.msg)).toEqual(['unknown environment variable UDPVAULT_PROT (did you mean UDPVAULT_PORT?); it is ignored']);
});
