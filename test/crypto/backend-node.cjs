// A udpvault node in its own process on one crypto backend (test/crypto/backend.test.ts):
// argv[2] = 'native' | 'wasm' | 'auto'; argv[3] = '1' to make sodium-native unloadable (its
// require throws, as when no prebuilt binary fits). Prints JSON lines; reads JSON commands.
'use strict';
const path = require('node:path');
const readline = require('node:readline');
const Module = require('node:module');

if (process.argv[3] === '1') {
  const orig = Module._load;
  Module._load = function (request, ...rest) {
    if (request === 'sodium-native') throw new Error('No native build was found (simulated)');
    return orig.call(this, request, ...rest);
  };
}
const dist = path.join(__dirname, '..', '..', 'dist', 'src');
const { createNode } = require(path.join(dist, 'index.js'));
const { cryptoBackendName } = require(path.join(dist, 'crypto', 'sodium.js'));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const wasmLoaded = () => Object.keys(require.cache).some((k) => k.includes(`${path.sep}libsodium-wrappers${path.sep}`) || k.includes(`${path.sep}libsodium${path.sep}`));

(async () => {
  const node = await createNode({ port: 0, host: '127.0.0.1', settings: { mtu: 1500, aeadBackend: process.argv[2] } });
  node.on('message', (m) => out({ message: Buffer.from(m.data).toString('utf8') }));
  out({ ready: true, key: node.publicKey, port: node.port, backend: cryptoBackendName(), wasmLoaded: wasmLoaded() });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const c = JSON.parse(line);
    try {
      if (c.cmd === 'pair') {
        await node.addPeer({ endpoint: c.endpoint, key: c.key, name: 'peer' });
        out({ paired: true });
      } else if (c.cmd === 'send') {
        await node.send('peer', c.text, { reliable: true });
        out({ sent: c.text });
      } else if (c.cmd === 'close') {
        const state = node.peers()[0]?.state;
        await node.close();
        out({ closed: true, state, wasmLoaded: wasmLoaded() });
        break;
      }
    } catch (e) {
      out({ error: String(e && e.message) });
    }
  }
})().catch((e) => {
  out({ error: String(e && e.message) });
  process.exit(1);
});
