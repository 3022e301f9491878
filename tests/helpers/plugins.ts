import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Writes plugin folders (plugin.json + index.js) into a temporary directory and returns it. */
export function pluginDir(plugins: Array<{ manifest: Record<string, unknown>; code: string }>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-plugins-'));
  for (const { manifest, code } of plugins) {
    const folder = path.join(dir, String(manifest.id));
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'plugin.json'), JSON.stringify({ name: manifest.id, version: '1.0.0', apiVersion: 1, entry: 'index.js', ...manifest }, null, 2));
    fs.writeFileSync(path.join(folder, 'index.js'), code);
  }
  return dir;
}
