import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';

/** One plugin folder (plugin.json + index.js) in a new temporary directory; answers the folder. */
export function pluginFolder(manifest: Record<string, unknown>, code: string): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cane-plugin-src-')), String(manifest.id));
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify({ name: manifest.id, version: '1.0.0', apiVersion: 1, entry: 'index.js', ...manifest }, null, 2));
  fs.writeFileSync(path.join(dir, 'index.js'), code);
  return dir;
}

/** A .tgz of a plugin folder laid out as npm packs it (under `package/`). */
export function pluginArchive(folder: string): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-plugin-tgz-'));
  fs.cpSync(folder, path.join(work, 'package'), { recursive: true });
  const file = path.join(work, `${path.basename(folder)}.tgz`);
  tar.create({ gzip: true, file, cwd: work, sync: true, portable: true }, ['package']);
  return file;
}

/** A .tgz whose second entry climbs out of the folder it is unpacked into ('../escape.js'). */
export function escapingArchive(folder: string): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-plugin-bad-'));
  const inner = path.join(work, 'inner');
  fs.cpSync(folder, inner, { recursive: true });
  fs.writeFileSync(path.join(work, 'escape.js'), '// would land outside');
  const file = path.join(work, 'escaping.tgz');
  tar.create({ gzip: true, file, cwd: inner, sync: true, portable: true, preservePaths: true }, ['plugin.json', 'index.js', '../escape.js']);
  return file;
}
