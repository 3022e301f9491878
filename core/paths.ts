import fs from 'node:fs';
import path from 'node:path';

/** The folder holding Cane's package.json; shipped metadata (modules/, metadata/) lives there. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate) && JSON.parse(fs.readFileSync(candidate, 'utf8')).name === 'cane') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find Cane's package.json above ${__dirname}`);
    dir = parent;
  }
}
