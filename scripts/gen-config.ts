/**
 * Writes config/default.json from the settings schema (`npm run gen:config`), or with
 * `--check` exits 1 when the file differs from what the schema gives.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderDefaultConfig } from '../src/config/default-file';

const file = path.resolve(__dirname, '../../config/default.json');
const text = renderDefaultConfig();
if (process.argv.includes('--check')) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (current !== text) {
    process.stderr.write(`${file} differs from the settings schema; run npm run gen:config\n`);
    process.exitCode = 1;
  }
} else {
  fs.writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
}
