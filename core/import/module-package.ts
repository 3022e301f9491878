import fs from 'node:fs';
import path from 'node:path';
import { toJson, type Json } from './php-array';
import { asList, isObject, type JsonObject } from './cane-shapes';
import type { ImportProblems } from './sugar-source';

/** installdefs sections Sugar's Module Loader copies into Extension folders (ModuleInstall/extensions.php), by folder name. */
const EXTENSION_SECTIONS: Record<string, string> = { vardefs: 'Vardefs', layoutdefs: 'Layoutdefs' };
/** Sections that only register things Cane finds by itself (module folders) or describe the package. */
const QUIET_SECTIONS = new Set(['id', 'beans', 'image_dir', 'copy', 'language', 'relationships', ...Object.keys(EXTENSION_SECTIONS)]);

/** Where a file of the laid-out tree came from in the package, for the report. */
export type TreeOrigins = Array<{ tree: string; pkg: string }>;

/**
 * Lays a Module Loader package (Module Builder's "Publish", or any package with manifest.php) out as
 * the Sugar tree installing it would leave: `copy` entries at their target, `language` files under
 * custom/Extension/<module|application>/Ext/Language/<lang>.<id>.php, `vardefs` and `layoutdefs` under
 * custom/Extension/modules/<module>/Ext/…, relationship metadata under custom/metadata — as Sugar's
 * ModuleInstaller does. manifest.php is parsed, never run; sections holding PHP logic (logic hooks,
 * pre/post_execute scripts, entry points) are reported and left out.
 */
export function layOutPackage(packageDir: string, treeDir: string, problems: ImportProblems): TreeOrigins {
  const manifestFile = path.join(packageDir, 'manifest.php');
  const scope = problems.evaluate([manifestFile]);
  const installdefs = toJson(scope.vars.get('installdefs') ?? null);
  if (!isObject(installdefs)) throw new Error(`${problems.relative(manifestFile)} has no literal $installdefs array: not a package Cane can read`);
  const id = typeof installdefs.id === 'string' && /^[\w.-]+$/.test(installdefs.id) ? installdefs.id : 'package';
  const origins: TreeOrigins = [];
  // An installation, even when nothing of the package could be placed in it.
  fs.mkdirSync(path.join(treeDir, 'modules'), { recursive: true });

  const fromPackage = (value: Json | undefined, section: string): string | undefined => {
    if (typeof value !== 'string' || !value.startsWith('<basepath>')) {
      problems.note(manifestFile, `a '${section}' entry whose 'from' is not inside the package (${JSON.stringify(value ?? null)})`, 'left out');
      return undefined;
    }
    const file = path.join(packageDir, value.slice('<basepath>'.length));
    if (!inside(packageDir, file) || !fs.existsSync(file)) {
      problems.note(manifestFile, `a '${section}' entry naming ${value}, which the package does not hold`, 'left out');
      return undefined;
    }
    return file;
  };
  const place = (from: string, to: string, section: string) => {
    const target = path.join(treeDir, to);
    if (!inside(treeDir, target) && !(section === 'copy' && path.resolve(target) === path.resolve(treeDir))) {
      problems.note(manifestFile, `a '${section}' entry copying to ${to}, outside the installation`, 'left out');
      return;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.cpSync(from, target, { recursive: true });
    origins.push({ tree: path.relative(treeDir, target), pkg: path.relative(packageDir, from) });
  };
  const extensionDir = (module: string) => (module === 'application' ? 'custom/Extension/application/Ext' : `custom/Extension/modules/${module}/Ext`);
  const moduleOf = (entry: JsonObject, section: string): string | undefined => {
    const module = entry.to_module ?? entry.module;
    if (typeof module === 'string' && /^\w+$/.test(module)) return module;
    problems.note(manifestFile, `a '${section}' entry without a module name (to_module)`, 'left out');
    return undefined;
  };

  for (const entry of asList(installdefs.copy).filter(isObject)) {
    const from = fromPackage(entry.from, 'copy');
    if (from && typeof entry.to === 'string') place(from, entry.to, 'copy');
  }
  for (const entry of asList(installdefs.language).filter(isObject)) {
    const from = fromPackage(entry.from, 'language');
    const module = moduleOf(entry, 'language');
    const language = typeof entry.language === 'string' && /^\w+$/.test(entry.language) ? entry.language : undefined;
    if (from && module && language) place(from, `${extensionDir(module)}/Language/${language}.${id}.php`, 'language');
  }
  for (const [section, folder] of Object.entries(EXTENSION_SECTIONS)) {
    for (const entry of asList(installdefs[section]).filter(isObject)) {
      const from = fromPackage(entry.from, section);
      const module = moduleOf(entry, section);
      const name = typeof entry.name === 'string' ? entry.name : from && path.basename(from, '.php');
      if (from && module && name) place(from, `${extensionDir(module)}/${folder}/${name}.php`, section);
    }
  }
  for (const entry of asList(installdefs.relationships).filter(isObject)) {
    const from = fromPackage(entry.meta_data, 'relationships');
    if (from) place(from, `custom/metadata/${path.basename(from)}`, 'relationships');
    // Older packages carry the relationship's fields and subpanels with it.
    for (const [key, folder] of [['module_vardefs', 'Vardefs'], ['module_layoutdefs', 'Layoutdefs']] as const) {
      if (entry[key] === undefined) continue;
      const file = fromPackage(entry[key], 'relationships');
      const module = moduleOf(entry, 'relationships');
      if (file && module) place(file, `${extensionDir(module)}/${folder}/${path.basename(file)}`, 'relationships');
    }
  }
  for (const section of Object.keys(installdefs).filter((s) => !QUIET_SECTIONS.has(s) && asList(installdefs[s]).length > 0)) {
    problems.note(manifestFile, `the installdefs section '${section}'`, 'left out: Cane does not install PHP code, scripts or hooks from packages');
  }
  return origins;
}

/** The package folder of an extracted archive: its root, or the one folder it wraps everything in. */
export function packageRootOf(dir: string): string | undefined {
  if (fs.existsSync(path.join(dir, 'manifest.php'))) return dir;
  const entries = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.') && e.name !== '__MACOSX');
  if (entries.length === 1 && entries[0].isDirectory() && fs.existsSync(path.join(dir, entries[0].name, 'manifest.php'))) return path.join(dir, entries[0].name);
  return undefined;
}

function inside(root: string, file: string): boolean {
  const relative = path.relative(path.resolve(root), path.resolve(file));
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}
