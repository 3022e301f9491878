import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { unpackPluginArchive } from '../../core/plugins/tgz';

function workDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-tgz-unit-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function pack(cwd: string, entries: string[], options: { preservePaths?: boolean } = {}): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cane-tgz-out-')), 'plugin.tgz');
  tar.create({ gzip: true, file, cwd, sync: true, ...options }, entries);
  return file;
}

describe('plugin archives', () => {
  it('unpacks a plugin at the archive root or under one top folder', () => {
    const dir = workDir({ 'plugin.json': '{}', 'index.js': '', 'package/plugin.json': '{}', 'package/index.js': '' });
    const atRoot = unpackPluginArchive(pack(dir, ['plugin.json', 'index.js']));
    expect(fs.existsSync(path.join(atRoot.dir, 'plugin.json'))).toBe(true);
    atRoot.cleanup();
    const nested = unpackPluginArchive(pack(dir, ['package']));
    expect(path.basename(nested.dir)).toBe('package');
    nested.cleanup();
    expect(fs.existsSync(nested.dir)).toBe(false);
  });

  it('accepts a link to a file inside and names entries that reach outside', () => {
    const dir = workDir({ 'package/plugin.json': '{}', 'package/lib/index.js': '' });
    fs.symlinkSync('lib/index.js', path.join(dir, 'package', 'index.js'));
    const inside = unpackPluginArchive(pack(dir, ['package']));
    expect(fs.readFileSync(path.join(inside.dir, 'index.js'), 'utf8')).toBe('');
    inside.cleanup();

    fs.symlinkSync('../../../outside.js', path.join(dir, 'package', 'lib', 'up.js'));
    expect(() => unpackPluginArchive(pack(dir, ['package']))).toThrow("plugin.tgz: entry 'package/lib/up.js' links to '../../../outside.js', outside the archive");
  });

  it('refuses absolute paths, an archive without plugin.json and a file that is not an archive', () => {
    const dir = workDir({ 'plugin.json': '{}' });
    const absolute = pack(dir, [path.join(dir, 'plugin.json')], { preservePaths: true });
    expect(() => unpackPluginArchive(absolute)).toThrow(`plugin.tgz: entry '${path.join(dir, 'plugin.json')}' has an absolute path`);
    const empty = workDir({ 'a/readme.txt': 'x', 'b/readme.txt': 'y' });
    expect(() => unpackPluginArchive(pack(empty, ['a', 'b']))).toThrow('plugin.tgz: has no plugin.json at its root or in its one top folder');
    const text = path.join(empty, 'not.tgz');
    fs.writeFileSync(text, 'hello');
    expect(() => unpackPluginArchive(text)).toThrow(/^not\.tgz: not a readable \.tgz archive/);
  });
});
