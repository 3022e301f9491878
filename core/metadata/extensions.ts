import fs from 'node:fs';
import path from 'node:path';
import { MetadataError } from '../errors';
import { readJsonFile } from './json-file';
import { deepMerge, isPlainObject } from './merge';
import type { MetadataKind, MetadataSchemas } from './schema-validator';
import { normalizeSugarShapes } from './sugar-shapes';
import type { Dictionary, FieldDef, ModuleViews } from './types';

export type ExtensionKind = 'Vardefs' | 'Language' | 'Layoutdefs' | 'Viewdefs';

interface Fragment {
  file: string;
  data: Record<string, unknown>;
}

/** Form views a Viewdefs fragment may extend, with the ModuleViews key each fills. */
const FORM_VIEWS: Record<string, keyof ModuleViews> = { EditView: 'edit', DetailView: 'detail', QuickCreate: 'quickcreate' };
const LANGUAGE_FILE = /^([a-z]{2}_[a-z]{2})\.[^/]+\.json$/i;

/**
 * Sugar's Extension framework in JSON: custom/Extension/modules/<Module>/Ext/<Kind>/*.json fragments,
 * applied in file-name order after the shipped module and custom/modules/<Module>.
 */
export class ExtensionOverlay {
  private readonly base: string;
  private readonly application: string;

  constructor(customDir: string, private readonly lang: string, private readonly schemas: MetadataSchemas) {
    this.base = path.join(customDir, 'Extension', 'modules');
    this.application = path.join(customDir, 'Extension', 'application', 'Ext', 'Language');
  }

  /**
   * Application language fragments (custom/Extension/application/Ext/Language/<lang>.<name>.json) of
   * the current language, in file-name order: `{app_strings, app_list_strings}` whose labels and
   * dropdown options are merged one by one, as Sugar's `$app_list_strings['x']['key'] = …` lines are.
   */
  applicationLanguageFiles(): string[] {
    if (!fs.existsSync(this.application)) return [];
    return fs.readdirSync(this.application).filter((f) => f.endsWith('.json')).sort().flatMap((f) => {
      const lang = LANGUAGE_FILE.exec(f);
      if (!lang) throw new MetadataError(path.join(this.application, f), '', 'file_name', "an application Language fragment is named '<language>.<name>.json', e.g. 'en_us.regions.json'");
      return lang[1].toLowerCase() === this.lang.toLowerCase() ? [path.join(this.application, f)] : [];
    });
  }

  /** Modules that have an Extension folder. */
  modules(): string[] {
    return fs.existsSync(this.base) ? fs.readdirSync(this.base).filter((m) => fs.statSync(path.join(this.base, m)).isDirectory()).sort() : [];
  }

  folder(module: string): string {
    return path.join(this.base, module, 'Ext');
  }

  /** Vardefs fragments: `{fields, relationships, indices}` merged into the module's dictionary. */
  applyVardefs(module: string, objectName: string, dictionary: Dictionary, origin: (field: string, file: string) => void): Dictionary {
    let result = dictionary;
    for (const { file, data } of this.fragments(module, 'Vardefs')) {
      for (const key of Object.keys(data)) {
        if (!['fields', 'relationships', 'indices'].includes(key)) throw new MetadataError(file, `/${key}`, 'additionalProperties', `unknown key '${key}'; a Vardefs fragment has fields, relationships and indices`);
      }
      normalizeSugarShapes('vardefs-overlay', { [objectName]: data });
      this.check('vardefs-overlay', file, { [objectName]: data }, objectName);
      const fields: Record<string, FieldDef> = { ...(data.fields as Record<string, FieldDef> | undefined) };
      for (const [name, field] of Object.entries(fields)) {
        if (field.name !== undefined && field.name !== name) throw new MetadataError(file, `/fields/${name}/name`, 'name', `field name '${field.name}' must equal its key '${name}'`);
        const known = result.fields?.[name];
        if (!known && !field.type) throw new MetadataError(file, `/fields/${name}`, 'required', `new field '${name}' needs a 'type'`);
        // As in custom/modules: a new *_c field on a module is a Studio-style custom field, kept in <table>_cstm.
        if (!known && name.endsWith('_c') && field.source === undefined) fields[name] = { ...field, source: 'custom_fields' };
        origin(name, file);
      }
      const indices = [...(result.indices ?? []), ...((data.indices as Dictionary['indices']) ?? [])];
      result = { ...deepMerge(result, { fields, relationships: data.relationships ?? {} }), indices };
    }
    return result;
  }

  /** Language fragments for the current language (`<lang>.<name>.json`): partial mod_strings maps. */
  strings(module: string): Record<string, string> {
    let strings: Record<string, string> = {};
    for (const { file, data } of this.fragments(module, 'Language')) {
      const lang = LANGUAGE_FILE.exec(path.basename(file));
      if (!lang) throw new MetadataError(file, '', 'file_name', "a Language fragment is named '<language>.<name>.json', e.g. 'en_us.loyalty.json'");
      if (lang[1].toLowerCase() !== this.lang.toLowerCase()) continue;
      const labels = normalizeSugarShapes('mod-strings', data);
      this.check('mod-strings', file, labels);
      strings = { ...strings, ...(labels as Record<string, string>) };
    }
    return strings;
  }

  /**
   * Layoutdefs fragments add or change subpanels (`{subpanel_setup: {...}}`); Viewdefs fragments add
   * rows to form panels (`{EditView: {panels: {<panel>: {append: [[cells]]}}}}`; a list of rows makes
   * or replaces a whole panel) and columns to the list view (`{ListView: {<COLUMN>: {...}}}`).
   */
  applyViews(module: string, views: ModuleViews, fields: Record<string, FieldDef>): void {
    for (const { file, data: fragment } of this.fragments(module, 'Layoutdefs')) {
      const data = (normalizeSugarShapes('subpaneldefs', { [module]: fragment }) as Record<string, Record<string, unknown>>)[module];
      this.check('subpaneldefs', file, { [module]: data }, module);
      const setup = (data.subpanel_setup ?? {}) as Record<string, { get_subpanel_data: string }>;
      for (const [key, panel] of Object.entries(setup)) {
        if (fields[panel.get_subpanel_data]?.type !== 'link') throw new MetadataError(file, `/subpanel_setup/${key}/get_subpanel_data`, 'link', `'${panel.get_subpanel_data}' is not a link of ${module}`);
      }
      views.subpanels = deepMerge(views.subpanels ?? { subpanel_setup: {} }, data) as ModuleViews['subpanels'];
    }
    for (const { file, data } of this.fragments(module, 'Viewdefs')) {
      for (const [viewKey, body] of Object.entries(data)) {
        if (viewKey === 'ListView') this.appendListColumns(module, views, fields, file, body);
        else if (FORM_VIEWS[viewKey]) this.appendFormRows(module, views, FORM_VIEWS[viewKey], viewKey, fields, file, body);
        else throw new MetadataError(file, `/${viewKey}`, 'view', `unknown view '${viewKey}'; use ${[...Object.keys(FORM_VIEWS), 'ListView'].join(', ')}`);
      }
    }
  }

  private appendFormRows(module: string, views: ModuleViews, view: keyof ModuleViews, viewKey: string, fields: Record<string, FieldDef>, file: string, body: unknown) {
    const layout = views[view] as { panels: Record<string, unknown[][]> } | undefined;
    if (!layout) throw new MetadataError(file, `/${viewKey}`, 'view', `${module} has no ${viewKey} layout to extend`);
    const panels = isPlainObject(body) ? body.panels : undefined;
    if (!isPlainObject(body) || !isPlainObject(panels) || Object.keys(body).some((k) => k !== 'panels')) {
      throw new MetadataError(file, `/${viewKey}`, 'type', "must be {\"panels\": {<panel>: {\"append\": [rows]} or [rows]}}");
    }
    const merged = { ...layout.panels };
    for (const [panel, given] of Object.entries(panels)) {
      const pointer = `/${viewKey}/panels/${panel}`;
      // PHP writes a list with explicit keys as {"0": …}: the same list.
      const change = isPlainObject(given) && Object.keys(given).length > 0 && Object.keys(given).every((k) => /^\d+$/.test(k)) ? Object.values(given) : given;
      let rows: unknown;
      if (Array.isArray(change)) rows = change;
      else if (isPlainObject(change) && Object.keys(change).length === 1 && (Array.isArray(change.append) || isPlainObject(change.append))) {
        if (!merged[panel]) throw new MetadataError(file, `${pointer}/append`, 'panel', `${viewKey} of ${module} has no panel '${panel}'; give a list of rows to add a new panel`);
        rows = change.append;
      } else throw new MetadataError(file, pointer, 'type', 'must be a list of rows (a new or replaced panel) or {"append": [rows]}');
      // Rows in Sugar's shapes (explicit keys, a bare cell as a row) read as a panel of the layout reads them.
      rows = ((normalizeSugarShapes('viewdefs', { [module]: { [viewKey]: { panels: { [panel]: rows } } } }) as Record<string, Record<string, { panels: Record<string, unknown> }>>)[module][viewKey].panels[panel]);
      const checked = checkRows(file, `${pointer}${Array.isArray(change) ? '' : '/append'}`, rows, fields, module);
      merged[panel] = Array.isArray(change) ? checked : [...merged[panel], ...checked];
    }
    (views as Record<string, unknown>)[view] = { ...layout, panels: merged };
  }

  private appendListColumns(module: string, views: ModuleViews, fields: Record<string, FieldDef>, file: string, body: unknown) {
    if (!views.list) throw new MetadataError(file, '/ListView', 'view', `${module} has no list layout to extend`);
    body = (normalizeSugarShapes('listviewdefs', { [module]: body }) as Record<string, unknown>)[module];
    this.check('listviewdefs', file, { [module]: body }, module, '/ListView');
    for (const column of Object.keys(body as object)) {
      if (!fields[column.toLowerCase()]) throw new MetadataError(file, `/ListView/${column}`, 'field', `'${column.toLowerCase()}' is not a field of ${module}`);
    }
    views.list = deepMerge(views.list, body);
  }

  /** JSON fragments of one kind, in file-name order; anything else in the folder (Sugar's .php files) is ignored. */
  private fragments(module: string, kind: ExtensionKind): Fragment[] {
    const dir = path.join(this.folder(module), kind);
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => {
      const file = path.join(dir, f);
      const data = readJsonFile(file);
      if (!isPlainObject(data)) throw new MetadataError(file, '', 'type', `a ${kind} fragment must be a JSON object`);
      return { file, data };
    });
  }

  /** Checks a fragment against the schema of the file it extends; the pointer names the fragment's own keys. */
  private check(kind: MetadataKind, file: string, wrapped: unknown, wrapper?: string, replacement = '') {
    try {
      this.schemas.check(kind, file, wrapped);
    } catch (err) {
      if (!(err instanceof MetadataError) || !wrapper) throw err;
      const pointer = err.pointer.startsWith(`/${wrapper}`) ? `${replacement}${err.pointer.slice(wrapper.length + 1)}` || '/' : err.pointer;
      throw new MetadataError(file, pointer, err.rule, err.message.replace(/^.*?: /, '').replace(/ \([^)]*\)$/, '').replaceAll(`/${wrapper}`, replacement));
    }
  }
}

function checkRows(file: string, pointer: string, rows: unknown, fields: Record<string, FieldDef>, module: string): unknown[][] {
  if (!Array.isArray(rows)) throw new MetadataError(file, pointer, 'type', 'must be a list of rows');
  rows.forEach((row, r) => {
    if (!Array.isArray(row)) throw new MetadataError(file, `${pointer}/${r}`, 'type', 'a row must be a list of cells');
    row.forEach((cell, c) => {
      if (cell === '' || cell === null) return;
      const name = typeof cell === 'string' ? cell : isPlainObject(cell) ? cell.name : undefined;
      if (typeof name !== 'string' || !fields[name]) {
        throw new MetadataError(file, `${pointer}/${r}/${c}`, 'field', `'${String(name)}' is not a field of ${module}`);
      }
    });
  });
  return rows as unknown[][];
}
