import fs from 'node:fs';
import path from 'node:path';
import { MetadataError, NotFoundError } from '../errors';
import { packageRoot } from '../paths';
import { readJsonFile, readJsonIfExists } from './json-file';
import { deepMerge } from './merge';
import { ExtensionOverlay } from './extensions';
import { MetadataSchemas, type MetadataKind } from './schema-validator';
import { normalizeSugarShapes } from './sugar-shapes';
import { checkLayoutFields } from './layout-check';
import { applyTemplates, substitute, templateNames } from './templates';
import { isKnownPhysicalType, isStored, physicalType, valueKind } from './field-types';
import type { Dictionary, FieldDef, IndexDef, ModuleViews, RelationshipMeta, TemplateDef } from './types';
import type { LinkDef, ModuleDef, RelationshipDef, TableDef } from './registry-types';

export * from './registry-types';

export interface RegistryOptions {
  /** Folder holding modules/ and metadata/ (default: Cane's package root). */
  root?: string;
  /** Overlay folder, like Sugar's custom/ (default: CANE_CUSTOM_DIR or ./custom). */
  customDir?: string;
  language?: string;
  /** Receives warnings, e.g. a template link to a module that is not installed. */
  warn?: (message: string) => void;
  /**
   * Custom fields found in the database (SuiteCRM Studio's fields_meta_data rows), by module:
   * added as custom_fields where the metadata does not declare the field itself.
   */
  studioFields?: Readonly<Record<string, Readonly<Record<string, FieldDef>>>>;
}

/** Everything built from metadata at start, frozen. */
export class Registry {
  constructor(
    readonly modules: ReadonlyMap<string, ModuleDef>,
    readonly relationships: ReadonlyMap<string, RelationshipDef>,
    readonly tables: readonly TableDef[],
    readonly appStrings: Readonly<Record<string, string>>,
    readonly appListStrings: Readonly<Record<string, Readonly<Record<string, string>>>>,
  ) {
    Object.freeze(this);
  }

  module(name: string): ModuleDef {
    const def = this.modules.get(name);
    if (!def) throw new NotFoundError(`Unknown module: ${name}`, { module: name });
    return def;
  }

  dropdown(name: string): Readonly<Record<string, string>> | undefined {
    return Object.hasOwn(this.appListStrings, name) ? this.appListStrings[name] : undefined;
  }

  /** A label: module strings first, then application strings, else the key itself. */
  label(module: string | undefined, key: string): string {
    const own = module ? this.modules.get(module)?.strings[key] : undefined;
    return own ?? this.appStrings[key] ?? key;
  }
}

const VIEW_FILES: Array<{ file: string; kind: MetadataKind; view: keyof ModuleViews; key?: string }> = [
  { file: 'listviewdefs.json', kind: 'listviewdefs', view: 'list' },
  { file: 'detailviewdefs.json', kind: 'viewdefs', view: 'detail', key: 'DetailView' },
  { file: 'editviewdefs.json', kind: 'viewdefs', view: 'edit', key: 'EditView' },
  { file: 'quickcreatedefs.json', kind: 'viewdefs', view: 'quickcreate', key: 'QuickCreate' },
  { file: 'searchdefs.json', kind: 'searchdefs', view: 'search' },
  { file: 'subpaneldefs.json', kind: 'subpaneldefs', view: 'subpanels' },
];

/** Loads, layers and checks all metadata; any problem throws a MetadataError naming file and pointer. */
export function loadRegistry(options: RegistryOptions = {}): Registry {
  return new RegistryBuilder(options).build();
}

class RegistryBuilder {
  private readonly root: string;
  private readonly custom: string;
  private readonly lang: string;
  private readonly schemas: MetadataSchemas;
  private readonly warn: (message: string) => void;
  private readonly templateCache = new Map<string, TemplateDef>();
  /** convertdefs.json of the modules that have one. */
  private readonly convertFiles = new Map<string, string>();
  /** Which file each field of each module came from, for error messages. */
  private readonly fieldOrigin = new Map<string, string>();
  private readonly studioFields: NonNullable<RegistryOptions['studioFields']>;
  private readonly extensions: ExtensionOverlay;

  constructor(options: RegistryOptions) {
    this.root = options.root ?? packageRoot();
    this.custom = path.resolve(options.customDir ?? process.env.CANE_CUSTOM_DIR ?? 'custom');
    this.lang = options.language ?? 'en_us';
    this.warn = options.warn ?? (() => undefined);
    this.studioFields = options.studioFields ?? {};
    this.schemas = new MetadataSchemas(path.join(packageRoot(), 'metadata', 'schemas'));
    this.extensions = new ExtensionOverlay(this.custom, this.lang, this.schemas);
  }

  build(): Registry {
    const { appStrings, appListStrings } = this.loadAppStrings();
    const dictionaries = this.loadDictionaries();
    const joinTables = this.loadJoinTables();

    const relationships = new Map<string, RelationshipDef>();
    const addRelationship = (name: string, meta: RelationshipMeta, file: string, relFields: string[]) => {
      relationships.set(name, {
        ...meta,
        name,
        file,
        lhs_key: meta.lhs_key ?? 'id',
        rhs_key: meta.rhs_key ?? 'id',
        lhs_table: meta.lhs_table ?? '',
        rhs_table: meta.rhs_table ?? '',
        relFields,
      });
    };
    for (const d of dictionaries) {
      for (const [name, meta] of Object.entries(d.dictionary.relationships ?? {})) addRelationship(name, meta, d.file, []);
    }
    for (const jt of joinTables) {
      for (const [name, meta] of Object.entries(jt.relationships)) {
        const keys = new Set(['id', 'date_modified', 'deleted', meta.join_key_lhs, meta.join_key_rhs, meta.relationship_role_column]);
        addRelationship(name, meta, jt.file, jt.fields.map((f) => f.name).filter((n) => !keys.has(n)));
      }
    }

    const moduleNames = new Set(dictionaries.map((d) => d.module));
    for (const m of this.extensions.modules().filter((x) => !moduleNames.has(x))) this.warn(`${this.extensions.folder(m)}: module ${m} is not defined; its Extension fragments are ignored`);
    const modules = new Map<string, ModuleDef>();
    for (const d of dictionaries) {
      modules.set(d.module, this.buildModule(d, relationships, moduleNames, appListStrings));
    }
    this.checkTables(modules, joinTables);
    this.checkConversions(modules);

    const tables: TableDef[] = [];
    for (const m of modules.values()) {
      const own = m.columns.filter((c) => !m.customColumns.includes(c));
      const onlyOn = (columns: readonly string[]) => (index: IndexDef) => index.fields.every((f) => columns.includes(f.replace(/ ?\(\d+\)$/, '')));
      tables.push({ name: m.table, kind: 'module', module: m.name, fields: own.map((c) => m.fields[c]), indices: m.indices.filter(onlyOn(own)), file: m.file });
      if (m.customTable) tables.push(customTable(m, onlyOn(m.customColumns)));
      if (m.audited) tables.push(this.auditTable(m));
    }
    for (const jt of joinTables) {
      tables.push({ name: jt.table, kind: Object.keys(jt.relationships).length ? 'join' : 'table', fields: jt.fields, indices: jt.indices, file: jt.file });
    }

    const dropdowns = byName(Object.fromEntries(Object.entries(appListStrings).map(([name, options]) => [name, byName(options)])));
    return new Registry(deepFreeze(modules), deepFreeze(relationships), deepFreeze(tables), deepFreeze(byName(appStrings)), deepFreeze(dropdowns));
  }

  // ---------------------------------------------------------------- application strings

  private loadAppStrings() {
    const shipped = this.read('app-strings', path.join(this.root, 'metadata', 'language', `${this.lang}.json`)) as {
      app_strings?: Record<string, string>;
      app_list_strings?: Record<string, Record<string, string>>;
    };
    const overlay = (this.readOptional('app-strings', path.join(this.custom, 'metadata', 'language', `${this.lang}.json`)) ?? {}) as typeof shipped;
    // A custom dropdown replaces the shipped one whole, as Sugar's dropdown editor writes it.
    const appStrings = { ...shipped.app_strings, ...overlay.app_strings };
    const appListStrings = { ...shipped.app_list_strings, ...overlay.app_list_strings } as Record<string, Record<string, string>>;
    // Extension fragments then change single labels and options (a new option keeps the others).
    for (const file of this.extensions.applicationLanguageFiles()) {
      const fragment = (this.readOptional('app-strings', file) ?? {}) as typeof shipped;
      Object.assign(appStrings, fragment.app_strings);
      for (const [name, options] of Object.entries(fragment.app_list_strings ?? {})) appListStrings[name] = { ...appListStrings[name], ...options };
    }
    return { appStrings, appListStrings };
  }

  // ---------------------------------------------------------------- vardefs

  private loadDictionaries() {
    const shippedDir = path.join(this.root, 'modules');
    const customDir = path.join(this.custom, 'modules');
    const names = new Set([...moduleFolders(shippedDir), ...moduleFolders(customDir)]);
    const result: Array<{ module: string; objectName: string; dictionary: Dictionary; file: string; custom: boolean }> = [];
    for (const module of [...names].sort()) {
      const shippedFile = path.join(shippedDir, module, 'vardefs.json');
      const customFile = path.join(customDir, module, 'vardefs.json');
      const shipped = this.readOptional('vardefs', shippedFile) as Record<string, Dictionary> | undefined;
      const overlay = this.readOptional(shipped ? 'vardefs-overlay' : 'vardefs', customFile) as Record<string, Dictionary> | undefined;
      const base = shipped ?? overlay!;
      const file = shipped ? shippedFile : customFile;
      const [objectName, raw] = Object.entries(base)[0];
      const table = raw.table ?? module.toLowerCase();
      for (const [name, field] of Object.entries(raw.fields ?? {})) this.checkFieldName(file, objectName, name, field);
      let dictionary = applyTemplates({ ...raw, table }, { module, objectName, table }, (t) => this.template(t, file, objectName));
      for (const name of Object.keys(dictionary.fields ?? {})) this.fieldOrigin.set(`${module}.${name}`, file);
      if (shipped && overlay) {
        const [overlayObject, extra] = Object.entries(overlay)[0];
        if (overlayObject !== objectName) {
          throw new MetadataError(customFile, `/${overlayObject}`, 'object_name', `overlay must extend '${objectName}', the object of module ${module}`);
        }
        const extraFields: Record<string, FieldDef> = { ...extra.fields };
        for (const [name, field] of Object.entries(extraFields)) {
          this.checkFieldName(customFile, objectName, name, field);
          if (!dictionary.fields?.[name] && !field.type) {
            throw new MetadataError(customFile, `/${objectName}/fields/${name}`, 'required', `new field '${name}' needs a 'type'`);
          }
          // Sugar's Studio names its fields *_c and keeps them in <table>_cstm; an overlay field so named goes there too.
          if (!dictionary.fields?.[name] && name.endsWith('_c') && field.source === undefined) extraFields[name] = { ...field, source: 'custom_fields' };
          this.fieldOrigin.set(`${module}.${name}`, customFile);
        }
        extra.fields = extraFields;
        const indices = [...(dictionary.indices ?? []), ...(extra.indices ?? [])];
        dictionary = { ...deepMerge(dictionary, { ...extra, indices: undefined }), indices };
      }
      dictionary = this.extensions.applyVardefs(module, objectName, dictionary, (name, from) => this.fieldOrigin.set(`${module}.${name}`, from));
      for (const [name, field] of Object.entries(this.studioFields[module] ?? {})) {
        if (dictionary.fields?.[name]) continue;
        dictionary.fields = { ...dictionary.fields, [name]: { ...field, name, source: 'custom_fields' } };
        this.fieldOrigin.set(`${module}.${name}`, 'fields_meta_data');
      }
      for (const [name, field] of Object.entries(dictionary.fields ?? {})) field.name ??= name;
      result.push({ module, objectName, dictionary, file, custom: !shipped });
    }
    return result;
  }

  private checkFieldName(file: string, objectName: string, key: string, field: FieldDef) {
    if (field.name !== undefined && field.name !== key) {
      throw new MetadataError(file, `/${objectName}/fields/${key}/name`, 'name', `field name '${field.name}' must equal its key '${key}'`);
    }
  }

  private template(name: string, file: string, objectName: string): TemplateDef {
    const cached = this.templateCache.get(name);
    if (cached) return cached;
    const templateFile = path.join(this.root, 'metadata', 'templates', name, 'vardefs.json');
    if (!fs.existsSync(templateFile)) {
      throw new MetadataError(file, `/${objectName}/templates`, 'template', `unknown template '${name}'`);
    }
    const template = this.read('template', templateFile) as TemplateDef;
    this.templateCache.set(name, template);
    return template;
  }

  // ---------------------------------------------------------------- join tables

  private loadJoinTables() {
    const dirs = ['relationships', 'tables'].flatMap((kind) => [path.join(this.root, 'metadata', kind), path.join(this.custom, 'metadata', kind)]);
    const files = dirs
      .flatMap((dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f)) : []));
    return files.map((file) => {
      const [name, def] = Object.entries(this.read('join-table', file) as Record<string, {
        table: string; fields: FieldDef[] | Record<string, FieldDef>; indices?: IndexDef[]; relationships?: Record<string, RelationshipMeta>;
      }>)[0];
      const fields = Array.isArray(def.fields) ? def.fields : Object.entries(def.fields).map(([n, f]) => ({ ...f, name: f.name ?? n }));
      fields.forEach((f, i) => {
        if (!f.name) throw new MetadataError(file, `/${name}/fields/${i}`, 'required', "join-table field needs a 'name'");
      });
      return { name, table: def.table, fields, indices: def.indices ?? [], relationships: def.relationships ?? {}, file };
    });
  }

  // ---------------------------------------------------------------- modules

  private buildModule(
    d: { module: string; objectName: string; dictionary: Dictionary; file: string; custom: boolean },
    relationships: Map<string, RelationshipDef>,
    moduleNames: Set<string>,
    dropdowns: Record<string, Record<string, string>>,
  ): ModuleDef {
    const { module, objectName, dictionary } = d;
    const fields = dictionary.fields ?? {};
    const origin = (field: string) => this.fieldOrigin.get(`${module}.${field}`) ?? d.file;
    const pointer = (field: string, attr?: string) => `/${objectName}/fields/${field}${attr ? `/${attr}` : ''}`;

    for (const [name, field] of Object.entries(fields)) {
      // A field naming a dropdown Cane does not have (a Studio field, or one SuiteCRM fills in at run
      // time such as aor_moduleList) keeps its values, unchecked, rather than stop the start, as Sugar does.
      const kind = valueKind(field);
      if ((kind === 'enum' || kind === 'multienum') && field.options !== undefined && !dropdowns[field.options] && !field.function) {
        this.warn(`${module}.${name}: dropdown '${field.options}' is not defined in app_list_strings; its values are not checked`);
        fields[name] = { ...field, options: undefined };
      }
    }
    const links: Record<string, LinkDef> = {};
    for (const [name, field] of Object.entries(fields)) {
      if (!IDENTIFIER.test(name)) throw new MetadataError(origin(name), pointer(name), 'pattern', `'${name}' is not a valid field name`);
      if (isStored(field) && !isKnownPhysicalType(physicalType(field))) {
        throw new MetadataError(origin(name), pointer(name, 'dbType'), 'type', `no column type for '${physicalType(field)}'; give the field a dbType`);
      }
      if (field.type === 'link') {
        const link = this.resolveLink(module, field, relationships, moduleNames, origin(name), pointer(name, 'relationship'));
        if (link) links[name] = link;
      }
    }
    for (const [name, field] of Object.entries(fields)) {
      if ((field.type === 'relate' || field.type === 'parent') && field.id_name && !fields[field.id_name]) {
        throw new MetadataError(origin(name), pointer(name, 'id_name'), 'id_name', `'${field.id_name}' is not a field of ${module}`);
      }
      if (field.type === 'relate' && typeof field.link === 'string' && !links[field.link]) {
        // As in Sugar, a relate field whose link is missing or disabled only loses its name lookup through the link.
        this.warn(`${module}.${name}: '${field.link}' is not a link of ${module}${fields[field.link] ? ' that loaded' : ''}; the relate field does not follow it`);
      }
      // On a relate field the parts are the related module's columns (Calls.contact_name: first_name, last_name).
      for (const part of field.type === 'relate' ? [] : field.db_concat_fields ?? []) {
        if (!fields[part]) throw new MetadataError(origin(name), pointer(name, 'db_concat_fields'), 'db_concat_fields', `'${part}' is not a field of ${module}`);
      }
    }

    const columns = Object.keys(fields).filter((n) => isStored(fields[n]));
    const customColumns = columns.filter((n) => fields[n].source === 'custom_fields');
    const indices = dictionary.indices ?? [];
    indices.forEach((index, i) => {
      for (const column of index.fields) {
        const bare = column.replace(/ ?\(\d+\)$/, '');
        if (!columns.includes(bare)) {
          throw new MetadataError(d.file, `/${objectName}/indices/${i}/fields`, 'index', `index '${index.name}' uses '${bare}', which is not a column of ${dictionary.table}`);
        }
      }
    });

    const strings = this.moduleStrings(module, templateNames(dictionary));
    const views = this.moduleViews(module, fields);
    return {
      name: module,
      objectName,
      table: dictionary.table!,
      audited: dictionary.audited === true,
      optimisticLocking: dictionary.optimistic_locking === true,
      appendOnly: dictionary.append_only ? { writers: Object.freeze([...(dictionary.append_only === true ? [] : dictionary.append_only.writers)]) } : null,
      fields: byName(fields),
      columns,
      customTable: customColumns.length ? `${dictionary.table}_cstm` : null,
      customColumns,
      links: byName(links),
      indices,
      views,
      strings: byName(strings),
      dictionary,
      file: d.file,
      custom: d.custom,
    };
  }

  private resolveLink(
    module: string, field: FieldDef, relationships: Map<string, RelationshipDef>, moduleNames: Set<string>, file: string, pointer: string,
  ): LinkDef | undefined {
    if (!field.relationship) throw new MetadataError(file, pointer, 'required', `link '${field.name}' needs a relationship`);
    const rel = relationships.get(field.relationship);
    if (!rel) {
      // Declared in a module that is not here (SuiteCRM's Cases for AOP_Case_Events …), or a typo:
      // the link is disabled, as Sugar's would not load; metadata:check reports it.
      this.warn(`${module}.${field.name}: relationship ${field.relationship} is not declared by any module; link disabled`);
      return undefined;
    }
    const missing = [rel.lhs_module, rel.rhs_module].find((m) => !moduleNames.has(m));
    if (missing) {
      this.warn(`${module}.${field.name}: relationship ${rel.name} needs module ${missing}, which is not installed; link disabled`);
      return undefined;
    }
    if (rel.lhs_module !== module && rel.rhs_module !== module) {
      throw new MetadataError(file, pointer, 'relationship', `relationship '${rel.name}' joins ${rel.lhs_module} and ${rel.rhs_module}, not ${module}`);
    }
    let side: 'lhs' | 'rhs';
    if (rel.lhs_module === rel.rhs_module) side = field.side === 'right' ? 'rhs' : 'lhs';
    else side = rel.lhs_module === module ? 'lhs' : 'rhs';
    const other = side === 'lhs' ? rel.rhs_module : rel.lhs_module;
    const one =
      rel.relationship_type === 'one-to-one' ||
      (rel.relationship_type === 'one-to-many' && side === 'rhs') ||
      field.link_type === 'one';
    return { name: field.name, relationship: rel, side, module: other, one };
  }

  private moduleStrings(module: string, templates: string[]): Record<string, string> {
    let strings: Record<string, string> = {};
    for (const t of templates) {
      const file = path.join(this.root, 'metadata', 'templates', t === 'default' ? 'basic' : t, 'language', `${this.lang}.json`);
      strings = { ...strings, ...((this.readOptional('mod-strings', file) as Record<string, string>) ?? {}) };
    }
    for (const dir of [path.join(this.root, 'modules'), path.join(this.custom, 'modules')]) {
      const file = path.join(dir, module, 'language', `${this.lang}.json`);
      strings = { ...strings, ...((this.readOptional('mod-strings', file) as Record<string, string>) ?? {}) };
    }
    return { ...strings, ...this.extensions.strings(module) };
  }

  private moduleViews(module: string, fields: Record<string, FieldDef>): ModuleViews {
    const views: ModuleViews = {};
    for (const spec of VIEW_FILES) {
      const customFile = path.join(this.custom, 'modules', module, 'metadata', spec.file);
      const shippedFile = path.join(this.root, 'modules', module, 'metadata', spec.file);
      const file = fs.existsSync(customFile) ? customFile : shippedFile;
      const data = this.readOptional(spec.kind, file) as Record<string, Record<string, unknown>> | undefined;
      if (!data) continue;
      const [key, body] = Object.entries(data)[0];
      if (key !== module) throw new MetadataError(file, `/${key}`, 'module', `layout must be keyed by its module '${module}'`);
      const layout = spec.key ? body[spec.key] : body;
      if (!layout) throw new MetadataError(file, `/${key}`, 'required', `missing '${spec.key}'`);
      checkLayoutFields(file, `/${key}${spec.key ? `/${spec.key}` : ''}`, spec.view, layout as Record<string, unknown>, fields, module, this.warn);
      (views as Record<string, unknown>)[spec.view] = layout;
    }
    this.extensions.applyViews(module, views, fields);
    const convertFile = [path.join(this.custom, 'modules', module, 'metadata', 'convertdefs.json'), path.join(this.root, 'modules', module, 'metadata', 'convertdefs.json')].find((f) => fs.existsSync(f));
    const convert = convertFile ? this.readOptional('convertdefs', convertFile) : undefined;
    if (convert) {
      views.convert = convert as ModuleViews['convert'];
      this.convertFiles.set(module, convertFile!);
    }
    return views;
  }

  /** Conversion layouts name modules and fields that exist: checked once every module is built. */
  private checkConversions(modules: Map<string, ModuleDef>): void {
    for (const [name, file] of this.convertFiles) {
      const source = modules.get(name)!;
      for (const [target, { ConvertLead: def }] of Object.entries(source.views.convert ?? {})) {
        const into = modules.get(target);
        if (!into) throw new MetadataError(file, `/${target}`, 'module', `${name} converts into '${target}', which is not a module`);
        checkLayoutFields(file, `/${target}/ConvertLead`, 'edit', def as unknown as Record<string, unknown>, into.fields, target, this.warn);
        for (const [to, from] of Object.entries(def.field_map ?? {})) {
          if (!into.fields[to]) throw new MetadataError(file, `/${target}/ConvertLead/field_map/${to}`, 'field', `'${to}' is not a field of ${target}`);
          if (!source.fields[from]) throw new MetadataError(file, `/${target}/ConvertLead/field_map/${to}`, 'field', `'${from}' is not a field of ${name}`);
        }
      }
    }
  }

  private auditTable(m: ModuleDef): TableDef {
    const file = path.join(packageRoot(), 'metadata', 'audit_template.json');
    const template = substitute(readJsonFile(file) as Record<string, Dictionary>, { module: m.name, objectName: m.objectName, table: m.table });
    this.schemas.check('vardefs', file, template);
    const def = Object.values(template)[0];
    return {
      name: def.table!,
      kind: 'audit',
      module: m.name,
      fields: Object.entries(def.fields ?? {}).map(([name, f]) => ({ ...f, name })),
      indices: def.indices ?? [],
      file,
    };
  }

  private checkTables(modules: Map<string, ModuleDef>, joinTables: Array<{ table: string; file: string }>) {
    const seen = new Map<string, string>();
    const claim = (table: string, file: string) => {
      const other = seen.get(table);
      if (other) throw new MetadataError(file, '', 'table', `table '${table}' is already declared by ${other}`);
      seen.set(table, file);
    };
    for (const m of modules.values()) claim(m.table, m.file);
    for (const jt of joinTables) claim(jt.table, jt.file);
  }

  // ---------------------------------------------------------------- files

  private read(kind: MetadataKind, file: string): unknown {
    if (!fs.existsSync(file)) throw new MetadataError(file, '', 'exists', 'file not found');
    const data = normalizeSugarShapes(kind, readJsonFile(file));
    this.schemas.check(kind, file, data);
    return data;
  }

  private readOptional(kind: MetadataKind, file: string): unknown | undefined {
    const data = normalizeSugarShapes(kind, readJsonIfExists(file));
    if (data !== undefined) this.schemas.check(kind, file, data);
    return data;
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `<table>_cstm` as Sugar's DynamicField creates it: id_c (the record's id) and one column per custom field. */
function customTable(m: ModuleDef, ownIndex: (index: IndexDef) => boolean): TableDef {
  const idC: FieldDef = { name: 'id_c', type: 'id', required: true };
  return {
    name: m.customTable!,
    kind: 'custom',
    module: m.name,
    fields: [idC, ...m.customColumns.map((c) => m.fields[c])],
    indices: [{ name: `${m.customTable}pk`, type: 'primary', fields: ['id_c'] }, ...m.indices.filter(ownIndex)],
    file: m.file,
  };
}

function moduleFolders(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((name) => fs.existsSync(path.join(dir, name, 'vardefs.json')));
}

/**
 * A map keyed by names from metadata, without a prototype: input naming 'constructor' or
 * '__proto__' as a field, link, string or option finds nothing instead of Object.prototype's members.
 */
function byName<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

function deepFreeze<T>(value: T): T {
  if (value instanceof Map) {
    for (const v of value.values()) deepFreeze(v);
    return Object.freeze(value);
  }
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
