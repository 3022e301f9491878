import fs from 'node:fs';
import path from 'node:path';
import { toJson } from './php-array';
import { PhpScope } from './php-evaluator';
import { isObject, listViewToCane, panelLayoutToCane, searchDefsToCane, stringsToCane, subpanelColumns, subpanelsToCane, type JsonObject } from './cane-shapes';
import { phpFiles, type ImportProblems, type SugarSource } from './sugar-source';

/** The PHP files Sugar reads for one module, in Sugar's order: shipped, custom/modules, then Extension. */
export class ModuleFiles {
  constructor(private readonly source: SugarSource, readonly module: string, private readonly language: string) {}

  get baseDir(): string | undefined {
    return this.source.modulesDir ? path.join(this.source.modulesDir, this.module) : undefined;
  }

  private customModuleDir(): string | undefined {
    return this.source.customDir ? path.join(this.source.customDir, 'modules', this.module) : undefined;
  }

  extensionFiles(kind: 'Vardefs' | 'Language' | 'Layoutdefs'): string[] {
    if (!this.source.customDir) return [];
    const files = phpFiles(path.join(this.source.customDir, 'Extension', 'modules', this.module, 'Ext', kind));
    return kind === 'Language' ? files.filter((f) => path.basename(f).startsWith(`${this.language}.`)) : files;
  }

  baseVardefs(): string[] {
    return this.baseDir ? [path.join(this.baseDir, 'vardefs.php')] : [];
  }

  /** With includeBase (a module Cane does not ship) the Extension fragments are merged in too. */
  languageFiles(includeBase: boolean): string[] {
    const name = `${this.language}.lang.php`;
    const base = includeBase && this.baseDir ? [path.join(this.baseDir, 'language', name)] : [];
    const custom = this.customModuleDir() ? [path.join(this.customModuleDir()!, 'language', name)] : [];
    return [...base, ...custom, ...(includeBase ? this.extensionFiles('Language') : [])];
  }

  /** The layout file Sugar uses: custom/modules/<M>/metadata/<file> over modules/<M>/metadata/<file>. */
  viewFile(file: string, includeBase: boolean): string | undefined {
    const custom = this.customModuleDir() && path.join(this.customModuleDir()!, 'metadata', file);
    if (custom && fs.existsSync(custom)) return custom;
    const base = includeBase && this.baseDir ? path.join(this.baseDir, 'metadata', file) : undefined;
    return base && fs.existsSync(base) ? base : undefined;
  }

  hasCustomisations(): boolean {
    const custom = this.customModuleDir();
    return (custom !== undefined && fs.existsSync(custom)) || ['Vardefs', 'Language', 'Layoutdefs'].some((k) => this.extensionFiles(k as 'Vardefs').length > 0);
  }

  subpanelLayoutFile(name: string): string | undefined {
    for (const dir of [this.customModuleDir(), this.baseDir]) {
      const file = dir && path.join(dir, 'metadata', 'subpanels', `${name}.php`);
      if (file && fs.existsSync(file)) return file;
    }
    return undefined;
  }
}

const PANEL_VIEWS = [
  { file: 'editviewdefs', key: 'EditView' },
  { file: 'detailviewdefs', key: 'DetailView' },
  { file: 'quickcreatedefs', key: 'QuickCreate' },
];

/**
 * The module's layouts as Cane's metadata/<view>.json files (relative path → content). With
 * `fields` (the module's field names), layout cells and list columns naming none of them are left
 * out and reported: Sugar shows nothing there (a field of another edition, a copy-paste from
 * another module, a typo), while Cane's loader refuses such a layout.
 */
export function moduleLayouts(
  files: ModuleFiles, includeBase: boolean, problems: ImportProblems, subpanelColumnsOf: (module: string, name: string) => string[] | undefined,
  fields?: ReadonlySet<string>,
): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  const module = files.module;
  const scopeFor = (file: string) => {
    const scope = new PhpScope();
    scope.vars.set('module_name', module);
    return problems.evaluate([file], scope);
  };
  const forModule = (value: unknown): JsonObject | undefined => {
    const json = value === undefined ? undefined : toJson(value as never);
    if (!isObject(json)) return undefined;
    const own = json[module] ?? (Object.keys(json).length === 1 ? Object.values(json)[0] : undefined);
    return isObject(own) ? own : undefined;
  };
  for (const view of PANEL_VIEWS) {
    const file = files.viewFile(`${view.file}.php`, includeBase);
    if (!file) continue;
    const note = (what: string, instead: string) => problems.note(file, what, instead);
    const layout = forModule(scopeFor(file).vars.get('viewdefs'));
    const body = layout && isObject(layout[view.key]) ? (layout[view.key] as JsonObject) : undefined;
    if (!body) {
      if (problems.notPhp.includes(problems.relative(file))) continue;
      note(`no $viewdefs['${module}']['${view.key}'] with literal content`, 'no layout written');
      continue;
    }
    const converted = panelLayoutToCane(body, note);
    if (fields) withoutUnknownCells(converted, fields, (cell) => note(`the ${view.key} cell '${cell}', which names no field of ${module}`, 'left out (Sugar shows nothing there)'));
    out.set(`metadata/${view.file}.json`, { [module]: { [view.key]: converted } });
  }
  const listFile = files.viewFile('listviewdefs.php', includeBase);
  const list = listFile && forModule(scopeFor(listFile).vars.get('listViewDefs'));
  if (list) {
    const columns = listViewToCane(list);
    for (const column of Object.keys(columns)) {
      const computed = isObject(columns[column]) && ('related_fields' in (columns[column] as JsonObject) || 'customCode' in (columns[column] as JsonObject));
      if (!fields || fields.has(column.toLowerCase()) || computed) continue;
      problems.note(listFile, `the list column '${column}', which names no field of ${module}`, 'left out (Sugar shows it empty)');
      delete columns[column];
    }
    out.set('metadata/listviewdefs.json', { [module]: columns });
  }
  const searchFile = files.viewFile('searchdefs.php', includeBase);
  const search = searchFile && forModule(scopeFor(searchFile).vars.get('searchdefs'));
  if (search) out.set('metadata/searchdefs.json', { [module]: searchDefsToCane(search) });

  const subpanelFiles = includeBase ? [files.viewFile('subpaneldefs.php', true), ...files.extensionFiles('Layoutdefs')].filter((f): f is string => !!f) : [];
  if (subpanelFiles.length) {
    const scope = new PhpScope();
    scope.vars.set('module_name', module);
    const defs = forModule(problems.evaluate(subpanelFiles, scope).vars.get('layout_defs'));
    const setup = defs && isObject(defs.subpanel_setup) ? defs.subpanel_setup : undefined;
    if (setup) {
      const note = (what: string, instead: string) => problems.note(subpanelFiles[0], what, instead);
      out.set('metadata/subpaneldefs.json', { [module]: { subpanel_setup: subpanelsToCane(setup, subpanelColumnsOf, note) } });
    }
  }
  return out;
}

/** Blanks (as '') the cells of a panel layout that name no field; a cell may be a name or {name, …}. */
function withoutUnknownCells(layout: JsonObject, fields: ReadonlySet<string>, dropped: (cell: string) => void): void {
  if (!isObject(layout.panels)) return;
  for (const rows of Object.values(layout.panels)) {
    if (!Array.isArray(rows)) continue;
    for (const row of rows) {
      if (!Array.isArray(row)) continue;
      row.forEach((cell, i) => {
        const name = typeof cell === 'string' ? cell : isObject(cell) && typeof cell.name === 'string' ? cell.name : undefined;
        if (name === undefined || name === '' || fields.has(name) || (isObject(cell) && 'customCode' in cell)) return;
        dropped(name);
        row[i] = '';
      });
    }
  }
}

/** A module's language: its labels, and the dropdowns its language files hold (arrays in $mod_strings, or $app_list_strings set there). */
export interface ModuleLanguage {
  strings?: JsonObject;
  dropdowns: JsonObject;
}

/** $mod_strings of the module (shipped file when includeBase, custom/modules and Extension fragments). */
export function moduleStrings(files: ModuleFiles, includeBase: boolean, problems: ImportProblems): ModuleLanguage {
  const list = files.languageFiles(includeBase).filter((f) => fs.existsSync(f));
  if (!list.length) return { dropdowns: {} };
  const scope = problems.evaluate(list);
  const strings = toJson(scope.vars.get('mod_strings') ?? null);
  const lists = toJson(scope.vars.get('app_list_strings') ?? null);
  // Sugar's translate() looks in the module's $mod_strings before $app_list_strings, so a field's options may live there.
  const dropdowns: JsonObject = { ...(isObject(strings) ? Object.fromEntries(Object.entries(strings).filter(([, v]) => isObject(v) || Array.isArray(v))) : {}), ...(isObject(lists) ? lists : {}) };
  const labels = isObject(strings) ? Object.fromEntries(Object.entries(strings).filter(([, v]) => !isObject(v) && !Array.isArray(v))) : undefined;
  return { strings: labels && stringsToCane(labels, (what, instead) => problems.note(list[0], what, instead)), dropdowns };
}

/** Columns of a module's $subpanel_layout (metadata/subpanels/<name>.php), if the source has it. */
export function subpanelLayoutColumns(files: ModuleFiles, name: string, problems: ImportProblems): string[] | undefined {
  const file = files.subpanelLayoutFile(name) ?? files.subpanelLayoutFile('default');
  if (!file) return undefined;
  const layout = toJson(problems.evaluate([file]).vars.get('subpanel_layout') ?? null);
  return isObject(layout) ? subpanelColumns(layout) : undefined;
}
