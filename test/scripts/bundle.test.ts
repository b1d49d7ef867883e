/**
 * The package entry as one script (scripts/bundle.ts, issue 12): relative requires become
 * indexes with Node's module semantics kept (one instance per module, cycles, `this`,
 * __filename/__dirname of the original file), and the built entry loads no other module of
 * dist/src through Node's resolver and exports what dist/src/index.js exports, to require and
 * to ESM import alike.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundle } from '../../scripts/bundle';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-bundle-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

test('relative requires (both quotes, ../, directories, cycles) keep one instance each, their own this, __filename and __dirname', () => {
  const root = tree({
    'index.js': `"use strict";
const a = require("./a");
const b = require('./sub/b.js');
const again = require("./a.js");
exports.same = a === again;
exports.sum = a.value + b.value;
exports.cycle = b.sawA;
exports.where = [a.file, b.dir];
exports.self = a.self;
exports.pkg = typeof require("path").join;
//# sourceMappingURL=index.js.map`,
    'a.js': `exports.value = 1; exports.file = __filename; exports.self = this === module.exports; exports.b = require("./sub");`,
    'sub/index.js': `module.exports = require("./b");`,
    'sub/b.js': `const a = require("../a"); exports.sawA = a.value === 1 && a.b === undefined; exports.value = 41; exports.dir = __dirname;`,
  });
  const b = bundle(root);
  expect(b.modules).toBe(4);
  expect(b.text).not.toMatch(/require\(["']\./);
  expect(b.text).not.toContain('sourceMappingURL');
  fs.writeFileSync(path.join(root, 'bundle.js'), b.text);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const out = require(path.join(root, 'bundle.js')) as Record<string, unknown>;
  expect(out).toEqual({
    same: true,
    sum: 42,
    cycle: true, // b ran while a was still loading (a.b not set yet), as under Node
    where: [path.join(root, 'a.js'), path.join(root, 'sub')],
    self: true,
    pkg: 'function',
  });
  fs.rmSync(root, { recursive: true, force: true });
});

test('an unresolvable relative require fails the build', () => {
  const root = tree({ 'index.js': 'require("./missing");' });
  expect(() => bundle(root)).toThrow(/cannot resolve \.\/missing/);
  fs.rmSync(root, { recursive: true, force: true });
});

const repo = path.join(__dirname, '..', '..');
const built = fs.existsSync(path.join(repo, 'dist', 'src', 'bundle.js'));

(built ? test : test.skip)('the built package entry: the exports of dist/src/index.js, a working node, no other dist/src module through the resolver', () => {
  const script = `
    const path = require('node:path');
    const loaded = (dir) => Object.keys(require.cache).filter((k) => k.includes(dir)).map((k) => path.basename(k));
    const entry = require(${JSON.stringify(repo)});
    const before = loaded(path.join('dist', 'src'));
    (async () => {
      const node = await entry.createNode({ port: 0, host: '127.0.0.1' });
      const ok = typeof node.port === 'number' && node.port > 0;
      await node.close();
      const requireAddon = loaded('require-addon').length;
      const viaIndex = Object.keys(require(${JSON.stringify(path.join(repo, 'dist', 'src', 'index.js'))})).sort();
      console.log(JSON.stringify({ keys: Object.keys(entry).sort(), viaIndex, before, ok, requireAddon }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { keys: string[]; viaIndex: string[]; before: string[]; ok: boolean; requireAddon: number };
  expect(r.keys).toEqual(r.viaIndex);
  expect(r.ok).toBe(true);
  expect(r.before.sort()).toEqual(['bundle-body.js', 'bundle.js']);
  expect(r.requireAddon).toBe(0); // sodium-native's prebuilt binding opened directly (this machine has the prebuild)
  // Node's ESM import sees exactly the entry's names (not every module's internal exports);
  // besides `default`, Node ≥ 23 names the whole CommonJS exports object 'module.exports'
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `import * as m from ${JSON.stringify(path.join(repo, 'dist', 'src', 'bundle.js'))}; console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort()), typeof m.createNode)`], { encoding: 'utf8' });
  expect(esm.trim()).toBe(`${JSON.stringify(r.viaIndex.filter((k) => k !== '__esModule'))} function`);
});
