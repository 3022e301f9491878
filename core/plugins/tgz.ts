import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { CaneError } from '../errors';

/** Largest unpacked plugin archive (a plugin is a manifest and one bundled file). */
export const MAX_UNPACKED_BYTES = 20 * 1024 * 1024;

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

function refuse(file: string, problem: string): never {
  throw new CaneError('invalid_parameter', `${path.basename(file)}: ${problem}`, 422, { archive: file });
}

/** Why an entry's own path may not be unpacked, if it may not. */
function pathProblem(name: string): string | undefined {
  if (path.posix.isAbsolute(name) || path.win32.isAbsolute(name) || /^[A-Za-z]:/.test(name)) return 'has an absolute path';
  if (name.split(/[\\/]+/).includes('..')) return "has a '..' segment";
  return undefined;
}

/** Whether a link target stays inside the archive's folder (links are checked by name, before anything is written). */
function linkInside(entryPath: string, target: string, hard: boolean): boolean {
  if (pathProblem(target) === 'has an absolute path') return false;
  // A hard link names its target from the archive root, a symbolic one from its own folder.
  const resolved = path.posix.normalize(hard ? target : path.posix.join(path.posix.dirname(entryPath), target));
  return resolved !== '..' && !resolved.startsWith('../') && !path.posix.isAbsolute(resolved);
}

/**
 * Checks every entry of a plugin archive (.tgz), then unpacks it into a new temporary folder.
 * Refused, naming the entry: absolute paths, '..' segments, links pointing outside the archive,
 * devices and other special files. Answers the plugin folder (the archive root, or its one top
 * folder such as npm's `package/`) and a cleanup function.
 */
export function unpackPluginArchive(file: string): { dir: string; cleanup: () => void } {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) refuse(file, 'no such file');
  let total = 0;
  let entries = 0;
  const problems: string[] = [];
  try {
    tar.list({
      file,
      sync: true,
      strict: true,
      onReadEntry: (entry) => {
        entries++;
        const name = entry.path;
        const problem = pathProblem(name)
          ?? (!ALLOWED_TYPES.has(entry.type) ? `is a ${entry.type}, not a file or folder` : undefined)
          ?? ((entry.type === 'SymbolicLink' || entry.type === 'Link') && !linkInside(name, entry.linkpath ?? '', entry.type === 'Link') ? `links to '${entry.linkpath}', outside the archive` : undefined);
        if (problem) problems.push(`entry '${name}' ${problem}`);
        total += entry.size ?? 0;
      },
    });
  } catch (err) {
    refuse(file, `not a readable .tgz archive: ${(err as Error).message}`);
  }
  if (problems.length) refuse(file, problems[0]);
  if (!entries) refuse(file, 'the archive is empty');
  if (total > MAX_UNPACKED_BYTES) refuse(file, `unpacks to ${total} bytes; the limit is ${MAX_UNPACKED_BYTES}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-plugin-'));
  const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
  try {
    tar.extract({ file, cwd: root, sync: true, strict: true, preserveOwner: false, noChmod: true });
    return { dir: pluginFolder(file, root), cleanup };
  } catch (err) {
    cleanup();
    if (err instanceof CaneError) throw err;
    return refuse(file, `could not be unpacked: ${(err as Error).message}`);
  }
}

function pluginFolder(file: string, root: string): string {
  if (fs.existsSync(path.join(root, 'plugin.json'))) return root;
  const top = fs.readdirSync(root).filter((name) => !name.startsWith('.'));
  if (top.length === 1 && fs.lstatSync(path.join(root, top[0])).isDirectory() && fs.existsSync(path.join(root, top[0], 'plugin.json'))) return path.join(root, top[0]);
  return refuse(file, 'has no plugin.json at its root or in its one top folder');
}
