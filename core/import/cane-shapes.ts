import type { Json } from './php-array';

/**
 * Sugar's PHP metadata, once literal, in the JSON shapes Cane's loader reads: empty PHP arrays
 * dropped, rows written with explicit keys turned into lists, 0/1 flags into booleans, list-shaped
 * search layouts keyed by field name.
 */
export type JsonObject = { [key: string]: Json };
export type Note = (what: string, instead: string) => void;

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A PHP array meant as a list, whatever keys it was written with. */
export function asList(value: Json | undefined): Json[] {
  if (Array.isArray(value)) return value;
  if (isObject(value)) return Object.values(value);
  return [];
}

function asBoolean(value: Json | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value === 'true' || value === '1';
  return Boolean(value);
}

/** $dictionary['<Object>'] as vardefs.json's body; templates come from createVardef. */
export function dictionaryToCane(dictionary: JsonObject, templates: string[] | undefined, note?: Note): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(dictionary)) {
    if (key === 'fields') out.fields = fieldsToCane(value, note);
    else if (key === 'indices') {
      const indices = asList(value).filter(isObject).map((index) => ({ ...index, fields: asList(index.fields) }));
      if (indices.length) out.indices = indices;
    } else if (key === 'relationships') {
      if (isObject(value) && Object.keys(value).length) out.relationships = value;
    } else if (!(Array.isArray(value) && value.length === 0)) out[key] = value;
  }
  if (templates?.length) out.templates = templates;
  return out;
}

/** Fields keyed by name; Sugar keys a field by its array key, so a differing 'name' gives way to it. */
export function fieldsToCane(value: Json | undefined, note?: Note): JsonObject {
  const fields: JsonObject = {};
  if (!isObject(value)) return fields;
  for (const [name, field] of Object.entries(value)) {
    if (!isObject(field)) continue;
    const clean = withoutEmptyArrays(field);
    if (typeof clean.name === 'string' && clean.name !== name) {
      note?.(`field '${name}' whose 'name' is '${clean.name}'`, `kept as '${name}' (the key Sugar uses)`);
      clean.name = name;
    }
    fields[name] = clean;
  }
  return fields;
}

/** A PHP `array()` left empty means "none": the key is dropped. */
export function withoutEmptyArrays(value: JsonObject): JsonObject {
  const clean: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!(Array.isArray(v) && v.length === 0)) clean[k] = v;
  return clean;
}

/** $viewdefs[module]['EditView'|'DetailView'|'QuickCreate']: panels as lists of rows of cells. */
export function panelLayoutToCane(layout: JsonObject, note: Note): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(layout)) {
    if (key === 'templateMeta' && isObject(value)) out.templateMeta = templateMetaToCane(value, note);
    else if (key === 'panels' && isObject(value)) {
      const panels: JsonObject = {};
      for (const [panel, rows] of Object.entries(value)) {
        const list = asList(rows).map((row) => (Array.isArray(row) || isObject(row) ? asList(row) : [row]));
        if (list.length) panels[panel] = list;
      }
      out.panels = panels;
    } else if (key === 'panels' && Array.isArray(value)) {
      out.panels = { default: value.map((row) => (Array.isArray(row) || isObject(row) ? asList(row) : [row])) };
    } else out[key] = value;
  }
  return out;
}

function templateMetaToCane(meta: JsonObject, note: Note): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(meta)) {
    if (key === 'includes' || key === 'javascript') {
      note(`templateMeta '${key}' (JavaScript for Sugar's own UI)`, 'left out');
      continue;
    }
    if (key === 'widths') out.widths = asList(value);
    else if (Array.isArray(value) && value.length === 0) continue;
    else out[key] = value;
  }
  return out;
}

/** $listViewDefs[module]: column keys upper case, default/link as booleans. */
export function listViewToCane(columns: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, column] of Object.entries(columns)) {
    if (!isObject(column)) continue;
    const c: JsonObject = { ...column };
    for (const flag of ['default', 'link', 'sortable', 'currency_format']) {
      const b = asBoolean(c[flag]);
      if (b !== undefined) c[flag] = b;
    }
    if (typeof c.width === 'number') c.width = String(c.width);
    if (typeof c.id === 'string') c.id = c.id.toUpperCase();
    out[key.toUpperCase()] = c;
  }
  return out;
}

/** $searchdefs[module]: basic/advanced search keyed by field name (Sugar writes them as lists too). */
export function searchDefsToCane(defs: JsonObject): JsonObject {
  const out: JsonObject = {};
  if (isObject(defs.templateMeta)) out.templateMeta = { ...defs.templateMeta };
  const layout: JsonObject = {};
  for (const [kind, entries] of Object.entries(isObject(defs.layout) ? defs.layout : {})) {
    if (kind !== 'basic_search' && kind !== 'advanced_search') continue;
    const keyed: JsonObject = {};
    const items: Array<[string, Json]> = Array.isArray(entries) ? entries.map((e) => ['', e]) : Object.entries(isObject(entries) ? entries : {});
    for (const [key, entry] of items) {
      const def: JsonObject = typeof entry === 'string' ? { name: entry } : isObject(entry) ? { ...entry } : {};
      if (typeof def.name !== 'string') {
        if (!key || /^\d+$/.test(key)) continue;
        def.name = key;
      }
      const b = asBoolean(def.default);
      if (b !== undefined) def.default = b;
      if (typeof def.width === 'number') def.width = String(def.width);
      keyed[def.name as string] = def;
    }
    layout[kind] = keyed;
  }
  out.layout = layout;
  return out;
}

/**
 * $layout_defs[module]['subpanel_setup']: subpanels fed by a PHP function or a collection are left
 * out (reported); list_fields come from the listed module's $subpanel_layout when the source has it.
 */
export function subpanelsToCane(
  setup: JsonObject,
  listFields: (module: string, subpanelName: string) => string[] | undefined,
  note: Note,
): JsonObject {
  const out: JsonObject = {};
  for (const [name, raw] of Object.entries(setup)) {
    if (!isObject(raw)) continue;
    const data = raw.get_subpanel_data;
    if (typeof data === 'string' && data.startsWith('function:')) {
      note(`subpanel '${name}' whose rows come from the PHP function ${data.slice('function:'.length)}`, 'left out');
      continue;
    }
    if (raw.collection_list !== undefined || raw.type === 'collection') {
      // A collection (History, Activities) is kept; members fed by PHP functions are left out.
      const members: JsonObject = {};
      for (const [member, source] of Object.entries(isObject(raw.collection_list) ? raw.collection_list : {})) {
        const from = isObject(source) ? source.get_subpanel_data : undefined;
        if (typeof from === 'string' && from.startsWith('function:')) note(`member '${member}' of subpanel '${name}' whose rows come from the PHP function ${from.slice('function:'.length)}`, 'left out');
        else if (isObject(source)) members[member] = source;
      }
      if (!Object.keys(members).length) {
        note(`subpanel '${name}' whose members all come from PHP functions`, 'left out');
        continue;
      }
      const collection: JsonObject = { ...raw, type: 'collection', collection_list: members };
      if (typeof collection.sort_order === 'string') collection.sort_order = collection.sort_order.toLowerCase();
      if (typeof collection.order === 'string') collection.order = Number(collection.order);
      if (collection.top_buttons !== undefined) collection.top_buttons = asList(collection.top_buttons);
      out[name] = collection;
      continue;
    }
    if (typeof raw.module !== 'string' || typeof data !== 'string') {
      note(`subpanel '${name}' without a module or get_subpanel_data`, 'left out');
      continue;
    }
    const subpanel: JsonObject = { ...raw };
    if (typeof subpanel.sort_order === 'string') subpanel.sort_order = subpanel.sort_order.toLowerCase();
    if (typeof subpanel.order === 'string') subpanel.order = Number(subpanel.order);
    if (subpanel.top_buttons !== undefined) subpanel.top_buttons = asList(subpanel.top_buttons);
    const columns = listFields(raw.module, typeof raw.subpanel_name === 'string' ? raw.subpanel_name : 'default');
    if (columns?.length && subpanel.list_fields === undefined) subpanel.list_fields = columns;
    out[name] = subpanel;
  }
  return out;
}

/** $subpanel_layout['list_fields']: the data columns, without Sugar's edit/remove buttons or query-only fields. */
export function subpanelColumns(layout: JsonObject): string[] {
  const fields = isObject(layout.list_fields) ? layout.list_fields : {};
  return Object.entries(fields)
    .filter(([, def]) => !(isObject(def) && (typeof def.widget_class === 'string' && /Button$/.test(def.widget_class))))
    .filter(([, def]) => !(isObject(def) && def.usage === 'query_only'))
    .map(([name]) => name);
}

/** $mod_strings / $app_strings: string values only. */
export function stringsToCane(strings: JsonObject, note: Note): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(strings)) {
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'number') out[key] = String(value);
    else note(`the string '${key}', which is not text`, 'left out');
  }
  return out;
}

/** A dropdown of $app_list_strings: keys to labels (a PHP list becomes keys "0", "1", …). */
export function dropdownToCane(options: Json): JsonObject | undefined {
  const entries: Array<[string, Json]> = Array.isArray(options) ? options.map((v, i) => [String(i), v]) : isObject(options) ? Object.entries(options) : [];
  if (!entries.length && !Array.isArray(options) && !isObject(options)) return undefined;
  const out: JsonObject = {};
  for (const [k, v] of entries) if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  return out;
}
