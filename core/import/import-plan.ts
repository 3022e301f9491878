import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths';
import { readJsonFile } from '../metadata/json-file';
import { applyTemplates } from '../metadata/templates';
import { loadRegistry, type Registry } from '../metadata/registry';
import type { Dictionary, TemplateDef } from '../metadata/types';
import { toJson, type Json } from './php-array';
import { PhpScope } from './php-evaluator';
import { asList, dictionaryToCane, dropdownToCane, fieldsToCane, isObject, stringsToCane, withoutEmptyArrays, type JsonObject } from './cane-shapes';
import { ModuleFiles, moduleLayouts, moduleStrings, subpanelLayoutColumns } from './module-files';
import { extensionFragments } from './extension-fragments';
import { phpFiles, subfolders, ImportProblems, type SugarSource } from './sugar-source';

/** The files an import writes into the custom overlay (path relative to it → JSON), and what it left out. */
export interface ImportPlan {
  files: Map<string, JsonObject>;
  problems: ImportProblems;
}

interface ModuleVardefs {
  module: string;
  objectName: string;
  dictionary: JsonObject;
  templates?: string[];
}

/**
 * Reads a Sugar source into Cane's overlay files. Modules Cane does not ship are written whole (their
 * Extension fragments merged in); modules Cane ships get only their customisations (custom/modules
 * files, Extension fragments as Cane's JSON fragments) and the links to imported modules. Relationships touching an imported module are carried wherever they
 * were declared: into the imported module's vardefs, or as join tables into metadata/relationships.
 */
export function planImport(source: SugarSource, language = 'en_us', caneRoot = packageRoot()): ImportPlan {
  const problems = new ImportProblems(source.base);
  const files = new Map<string, JsonObject>();
  const shipped = (m: string) => fs.existsSync(path.join(caneRoot, 'modules', m, 'vardefs.json'));
  const moduleFiles = new Map<string, ModuleFiles>();
  const filesOf = (m: string) => moduleFiles.get(m) ?? moduleFiles.set(m, new ModuleFiles(source, m, language)).get(m)!;

  const sourceModules = source.onlyModule ? [source.onlyModule] : subfolders(source.modulesDir).filter((m) => fs.existsSync(path.join(source.modulesDir!, m, 'vardefs.php')));
  const caneTables = caneOwnTables(caneRoot);
  const imported = sourceModules.filter((m) => !shipped(m)).filter((m) => {
    const table = tableOf(source, m);
    if (!table || !caneTables.has(table)) return true;
    problems.note(path.join(source.modulesDir!, m), `module ${m}, whose table '${table}' is one of Cane's own tables`, 'not imported');
    return false;
  });
  if (source.onlyModule && shipped(source.onlyModule)) problems.note(path.join(source.modulesDir!, source.onlyModule), `module ${source.onlyModule}, which Cane ships`, 'not imported; import the custom/ tree to bring its customisations');
  const customised = [...new Set([...subfolders(source.customDir && path.join(source.customDir, 'modules')), ...subfolders(source.customDir && path.join(source.customDir, 'Extension', 'modules'))])]
    .filter((m) => shipped(m) && filesOf(m).hasCustomisations());

  // Vardefs: imported modules with their Extension fragments in one scope, as Sugar includes them.
  const vardefs = new Map<string, ModuleVardefs>();
  for (const m of imported) {
    const f = filesOf(m);
    const scope = problems.evaluate([...f.baseVardefs(), ...f.extensionFiles('Vardefs')]);
    const found = dictionaryOf(scope, m);
    if (!found) {
      problems.note(f.baseVardefs()[0], `no literal $dictionary for module ${m}`, 'module not imported');
      continue;
    }
    if (typeof found.dictionary.table !== 'string') {
      // Employees: `$dictionary['Employee'] = $dictionary['User']` after an include — PHP builds it from another module's.
      problems.note(f.baseVardefs()[0], `module ${m}, whose $dictionary names no table (PHP builds it from another module's)`, 'module not imported');
      continue;
    }
    const call = scope.createVardefs.find((c) => c.module === m) ?? scope.createVardefs[0];
    vardefs.set(m, { module: m, ...found, templates: call ? knownTemplates(call.templates, caneRoot, (t) => problems.note(f.baseVardefs()[0], `the template '${t}' of createVardef`, 'left out: Cane has no such template')) : undefined });
  }
  const importedNow = [...vardefs.keys()];
  const touchesImported = (rel: Json) => isObject(rel) && (importedNow.includes(String(rel.lhs_module)) || importedNow.includes(String(rel.rhs_module)));

  // Other source modules (Cane ships them): their relationships and links to imported modules.
  const others = new Map<string, ModuleVardefs>();
  for (const m of sourceModules.filter((x) => !vardefs.has(x) && importedNow.length && !source.onlyModule)) {
    const found = dictionaryOf(problems.evaluate(filesOf(m).baseVardefs()), m);
    if (found) others.set(m, { module: m, ...found });
  }
  for (const other of others.values()) {
    const rels = isObject(other.dictionary.relationships) ? other.dictionary.relationships : {};
    for (const [name, rel] of Object.entries(rels)) {
      if (!touchesImported(rel) || !isObject(rel) || rel.join_table) continue;
      const home = vardefs.get(String(rel.rhs_module)) ?? vardefs.get(String(rel.lhs_module))!;
      const own = isObject(home.dictionary.relationships) ? home.dictionary.relationships : {};
      if (!own[name]) home.dictionary.relationships = { ...own, [name]: rel };
    }
  }
  const joinTables = joinTableFiles(source, problems, touchesImported, caneRoot);
  const carriedRelationships = new Set([...vardefs.values()].flatMap((v) => Object.entries(isObject(v.dictionary.relationships) ? v.dictionary.relationships : {}).filter(([, r]) => touchesImported(r)).map(([n]) => n)));
  for (const jt of joinTables.values()) for (const def of Object.values(jt)) if (isObject(def) && isObject(def.relationships)) for (const n of Object.keys(def.relationships)) carriedRelationships.add(n);

  // Shipped modules: links of the source's vardefs through carried relationships, as an Extension fragment.
  const linkFragments = new Map<string, JsonObject>();
  for (const [m, base] of others) {
    const links = Object.fromEntries(Object.entries(fieldsToCane(base.dictionary.fields))
      .filter(([, field]) => isObject(field) && field.type === 'link' && carriedRelationships.has(String(field.relationship))));
    if (Object.keys(links).length) linkFragments.set(`Extension/modules/${m}/Ext/Vardefs/sugar_import_links.json`, { fields: links });
  }

  const columnsCache = new Map<string, string[] | undefined>();
  const subpanelColumnsOf = (module: string, name: string) => {
    const key = `${module}/${name}`;
    if (!columnsCache.has(key)) columnsCache.set(key, sourceModules.includes(module) || customised.includes(module) ? subpanelLayoutColumns(filesOf(module), name, problems) : undefined);
    return columnsCache.get(key);
  };

  const dropdownsUsed = new Set<string>();
  const fieldsOf = new Map<string, Set<string>>();
  for (const v of vardefs.values()) {
    const body = dictionaryToCane(v.dictionary, v.templates, (what, instead) => problems.note(filesOf(v.module).baseVardefs()[0], what, instead));
    files.set(`modules/${v.module}/vardefs.json`, { [v.objectName]: body });
    // Templates bring enum fields too (issue's type_dom, status_dom …): their dropdowns are needed as well.
    const withTemplates = applyTemplates(body as Dictionary, { module: v.module, objectName: v.objectName, table: String(body.table ?? v.module.toLowerCase()) },
      (t) => readJsonFile(path.join(caneRoot, 'metadata', 'templates', t, 'vardefs.json')) as TemplateDef);
    for (const field of Object.values(withTemplates.fields ?? {})) if (typeof field.options === 'string') dropdownsUsed.add(field.options);
    fieldsOf.set(v.module, new Set(Object.keys(withTemplates.fields ?? {})));
  }
  const moduleDropdowns: JsonObject = {};
  for (const m of new Set([...importedNow, ...customised])) {
    const isImported = importedNow.includes(m);
    const { strings, dropdowns } = moduleStrings(filesOf(m), isImported, problems);
    for (const [name, options] of Object.entries(dropdowns)) moduleDropdowns[name] ??= options;
    if (strings && Object.keys(strings).length) files.set(`modules/${m}/language/${language}.json`, strings);
    const fragments = isImported ? new Map<string, JsonObject>() : extensionFragments(filesOf(m), problems, subpanelColumnsOf);
    // A shipped module's fields: Cane's own, those its Extension fragments add, and links to imported modules.
    const known = fieldsOf.get(m) ?? new Set([
      ...Object.keys(shippedFields(caneRoot, m)),
      ...[...fragments.entries(), ...linkFragments.entries()].filter(([f]) => f.startsWith(`Extension/modules/${m}/Ext/Vardefs/`)).flatMap(([, c]) => Object.keys(isObject(c.fields) ? c.fields : {})),
    ]);
    for (const [file, content] of moduleLayouts(filesOf(m), isImported, problems, subpanelColumnsOf, known)) files.set(`modules/${m}/${file}`, content);
    for (const [file, content] of fragments) files.set(file, content);
  }
  for (const [file, content] of linkFragments) files.set(file, content);
  for (const [file, content] of files) {
    if (!file.includes('/Ext/Vardefs/')) continue;
    for (const field of Object.values(isObject(content.fields) ? content.fields : {})) if (isObject(field) && typeof field.options === 'string') dropdownsUsed.add(field.options);
  }
  for (const [name, content] of joinTables) files.set(`metadata/relationships/${name}.json`, content);

  const app = appLanguage(source, problems, dropdownsUsed, moduleDropdowns, importedNow, caneRoot, language);
  if (app) files.set(`metadata/language/${language}.json`, app);
  return { files, problems };
}

function dictionaryOf(scope: PhpScope, module: string): { objectName: string; dictionary: JsonObject } | undefined {
  const all = toJson(scope.vars.get('dictionary') ?? null);
  if (!isObject(all)) return undefined;
  const call = scope.createVardefs.find((c) => c.module === module);
  const objectName = call && all[call.objectName] ? call.objectName : Object.keys(all).find((k) => isObject(all[k]) && isObject((all[k] as JsonObject).fields));
  if (!objectName || !isObject(all[objectName])) return undefined;
  return { objectName, dictionary: all[objectName] as JsonObject };
}

/** The fields of a module Cane ships, templates and Extension fragments applied (its vardefs as the loader builds them). */
function shippedFields(caneRoot: string, module: string): Record<string, unknown> {
  if (!shippedRegistries.has(caneRoot)) shippedRegistries.set(caneRoot, loadRegistry({ root: caneRoot, customDir: path.join(caneRoot, 'no-custom-overlay'), warn: () => {} }));
  return shippedRegistries.get(caneRoot)!.modules.get(module)?.fields ?? {};
}
const shippedRegistries = new Map<string, Registry>();

/** Tables Cane declares outside modules (metadata/tables, metadata/relationships). */
function caneOwnTables(caneRoot: string): Set<string> {
  const tables = new Set<string>();
  for (const kind of ['tables', 'relationships']) {
    const dir = path.join(caneRoot, 'metadata', kind);
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((x) => x.endsWith('.json')) : []) {
      for (const def of Object.values(readJsonFile(path.join(dir, f)) as Record<string, { table?: string }>)) if (def.table) tables.add(def.table);
    }
  }
  return tables;
}

/** The table a module's vardefs.php names, read without evaluating (a cheap look before the import). */
function tableOf(source: SugarSource, module: string): string | undefined {
  const file = path.join(source.modulesDir!, module, 'vardefs.php');
  return /'table'\s*=>\s*'([A-Za-z0-9_]+)'/.exec(fs.readFileSync(file, 'utf8'))?.[1];
}

function knownTemplates(names: string[], caneRoot: string, unknown: (t: string) => void): string[] {
  return names.filter((t) => {
    const ok = t === 'default' || fs.existsSync(path.join(caneRoot, 'metadata', 'templates', t, 'vardefs.json'));
    if (!ok) unknown(t);
    return ok;
  });
}

/** metadata/*MetaData.php join tables whose relationships touch an imported module, in Cane's join-table shape. */
function joinTableFiles(source: SugarSource, problems: ImportProblems, touchesImported: (rel: Json) => boolean, caneRoot: string): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const file of source.metadataDirs.flatMap((d) => phpFiles(d))) {
    const all = toJson(problems.evaluate([file]).vars.get('dictionary') ?? null);
    if (!isObject(all)) continue;
    for (const [name, def] of Object.entries(all)) {
      if (!isObject(def) || !isObject(def.relationships) || !Object.values(def.relationships).some(touchesImported)) continue;
      if (fs.existsSync(path.join(caneRoot, 'metadata', 'relationships', `${name}.json`))) continue;
      const table: JsonObject = { table: def.table ?? name, fields: asList(def.fields).filter(isObject).map(withoutEmptyArrays) };
      const indices = asList(def.indices).filter(isObject).map((i) => ({ ...i, fields: asList(i.fields) }));
      if (indices.length) table.indices = indices;
      table.relationships = def.relationships;
      out.set(name, { [name]: table });
    }
  }
  return out;
}

/**
 * custom/metadata/language: the dropdowns imported fields use (from the application's lists, else from
 * the module language files that define them), every dropdown of the source's
 * customisation files, and moduleList entries for imported modules (kept with Cane's own, since a
 * custom dropdown replaces the shipped one whole).
 */
function appLanguage(
  source: SugarSource, problems: ImportProblems, used: Set<string>, moduleLists: JsonObject, imported: string[], caneRoot: string, language: string,
): JsonObject | undefined {
  const base = problems.evaluate(source.appLanguageFiles.filter((f) => !source.customAppLanguageFiles.includes(f)));
  const custom = problems.evaluate(source.customAppLanguageFiles);
  const customLists = toJson(custom.vars.get('app_list_strings') ?? null);
  const baseLists = toJson(base.vars.get('app_list_strings') ?? null);
  // A dropdown only a module's language files define is used when the application's lists lack it.
  const lists = { ...moduleLists, ...(isObject(baseLists) ? baseLists : {}), ...(isObject(customLists) ? customLists : {}) };
  const dropdowns: JsonObject = {};
  const wanted = new Set([...used, ...Object.keys(isObject(customLists) ? customLists : {})]);
  for (const name of wanted) {
    const options = lists[name];
    const converted = options === undefined ? undefined : dropdownToCane(options);
    if (converted) dropdowns[name] = converted;
  }
  const shipped = readJsonFile(path.join(caneRoot, 'metadata', 'language', `${language}.json`)) as { app_list_strings?: Record<string, JsonObject> };
  for (const listName of ['moduleList', 'moduleListSingular']) {
    const fromSource = isObject(lists[listName]) ? lists[listName] : {};
    const added = Object.fromEntries(imported.map((m) => [m, typeof fromSource[m] === 'string' ? fromSource[m] : m]));
    if (imported.length || isObject(dropdowns[listName])) dropdowns[listName] = { ...(shipped.app_list_strings?.[listName] ?? {}), ...(isObject(dropdowns[listName]) ? dropdowns[listName] : {}), ...added };
  }
  const appStrings = toJson(custom.vars.get('app_strings') ?? null);
  const out: JsonObject = {};
  if (Object.keys(dropdowns).length) out.app_list_strings = dropdowns;
  if (isObject(appStrings) && Object.keys(appStrings).length) out.app_strings = stringsToCane(appStrings, (what, instead) => problems.note(source.customAppLanguageFiles[0], what, instead));
  return Object.keys(out).length ? out : undefined;
}
