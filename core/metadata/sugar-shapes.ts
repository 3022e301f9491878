import { isPlainObject } from './merge';
import type { MetadataKind } from './schema-validator';

/**
 * Sugar's metadata is PHP arrays; a mechanical PHP→JSON conversion writes an empty array as `[]`
 * where a map is meant, rows with explicit keys (`0 => …`) as objects where a list is meant, and
 * flags as 0/1 or strings. This rewrites those shapes into the one Cane's schemas describe, so a
 * file loads as Sugar would read it. Everything else is left for the schema check to judge.
 */
export function normalizeSugarShapes(kind: MetadataKind, data: unknown): unknown {
  if (!isPlainObject(data)) return data;
  switch (kind) {
    case 'vardefs': case 'vardefs-overlay': case 'template': case 'join-table':
      for (const dictionary of kind === 'template' ? [data] : Object.values(data)) normalizeDictionary(dictionary);
      return data;
    case 'listviewdefs':
      return mapValues(data, normalizeListView);
    case 'viewdefs':
      return mapValues(data, (views) => mapValues(views, normalizePanelLayout));
    case 'searchdefs':
      return mapValues(data, normalizeSearchDefs);
    case 'subpaneldefs':
      return mapValues(data, normalizeSubpanelDefs);
    case 'app-strings':
      return normalizeAppStrings(data);
    case 'mod-strings':
      return onlyLabels(data);
    default:
      return data;
  }
}

/** PHP's truthiness, which is how Sugar reads its flags: false, 0, '', '0' and null are false. */
export function phpTruthy(value: unknown): boolean {
  return !(value === false || value === 0 || value === '' || value === '0' || value === null || value === undefined);
}

/** A list written with explicit keys (`{"0": a, "1": b}`) back to a list, in key order. */
function asList(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (!keys.every((k) => /^\d+$/.test(k))) return value;
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => value[k]);
}

/** An empty PHP array where a map is meant. */
function asMap(value: unknown): unknown {
  return Array.isArray(value) && value.length === 0 ? {} : value;
}

/** A PHP list where a map is meant: PHP's own keys, "0", "1", … */
function listAsMap(value: unknown): unknown {
  return Array.isArray(value) ? Object.fromEntries(value.map((v, i) => [String(i), v])) : value;
}

function mapValues(value: unknown, fn: (v: unknown) => unknown): unknown {
  if (!isPlainObject(value)) return value;
  for (const [key, v] of Object.entries(value)) value[key] = fn(v);
  return value;
}

function normalizeDictionary(dictionary: unknown) {
  if (!isPlainObject(dictionary)) return;
  if ('fields' in dictionary) dictionary.fields = asMap(dictionary.fields);
  const fields = Array.isArray(dictionary.fields) ? dictionary.fields : isPlainObject(dictionary.fields) ? Object.values(dictionary.fields) : [];
  fields.forEach(normalizeField);
  if ('relationships' in dictionary) {
    dictionary.relationships = mapValues(asMap(dictionary.relationships), (r) => (normalizeRelationship(r), r));
    // A scalar among the relationships is a dictionary key misplaced in SuiteCRM's own files (FP_Event_Locations): Sugar ignores it.
    if (isPlainObject(dictionary.relationships)) {
      for (const [name, value] of Object.entries(dictionary.relationships)) if (!isPlainObject(value)) delete dictionary.relationships[name];
    }
  }
  if (dictionary.indices !== undefined) dictionary.indices = asList(dictionary.indices);
  if (Array.isArray(dictionary.indices)) dictionary.indices.forEach(normalizeIndex);
  for (const flag of ['audited', 'optimistic_locking', 'unified_search', 'unified_search_default_enabled', 'duplicate_merge']) {
    if (flag in dictionary && typeof dictionary[flag] !== 'boolean') dictionary[flag] = phpTruthy(dictionary[flag]);
  }
}

function normalizeField(field: unknown) {
  if (!isPlainObject(field)) return;
  // Sugar reads min/max with isset() and compares only numbers: false means "no bound".
  for (const bound of ['min', 'max']) if (field[bound] === false) delete field[bound];
  if (isPlainObject(field.validation)) for (const bound of ['min', 'max']) if (field.validation[bound] === false) delete field.validation[bound];
  // A value computed by PHP code Cane does not run: a virtual field, empty unless something provides it.
  if (field.source === 'function') {
    field.source = 'non-db';
    field.sugar_source = 'function';
  }
  for (const list of ['db_concat_fields', 'fields', 'sort_on', 'populate_list', 'related_fields']) {
    if (list in field) field[list] = asList(field[list]);
  }
  for (const map of ['rel_fields', 'relationship_fields', 'studio', 'full_text_search']) {
    if (map in field) field[map] = asMap(field[map]);
  }
}

function normalizeRelationship(relationship: unknown) {
  if (!isPlainObject(relationship)) return;
  if (typeof relationship.relationship_role_column_value === 'number') {
    relationship.relationship_role_column_value = String(relationship.relationship_role_column_value);
  }
}

function normalizeIndex(index: unknown) {
  if (!isPlainObject(index)) return;
  index.fields = typeof index.fields === 'string' ? [index.fields] : asList(index.fields);
}

const LIST_FLAGS = ['default', 'link', 'sortable', 'currency_format'];

function normalizeListView(columns: unknown): unknown {
  if (!isPlainObject(columns)) return columns;
  // Sugar upper-cases the column keys itself (ListViewDisplay), so lower-case ones name the same fields.
  const result: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(columns)) {
    if (isPlainObject(column)) {
      for (const flag of LIST_FLAGS) if (flag in column && typeof column[flag] !== 'boolean') column[flag] = phpTruthy(column[flag]);
      if ('related_fields' in column) column.related_fields = asList(column.related_fields);
    }
    result[key.toUpperCase()] = column;
  }
  return result;
}

function normalizePanelLayout(layout: unknown): unknown {
  if (!isPlainObject(layout)) return layout;
  if (isPlainObject(layout.templateMeta) && 'widths' in layout.templateMeta) layout.templateMeta.widths = asList(layout.templateMeta.widths);
  if (isPlainObject(layout.templateMeta)) {
    const meta = layout.templateMeta;
    if (isPlainObject(meta.form) && isPlainObject(meta.form.buttons)) meta.form.buttons = Object.values(meta.form.buttons);
    // A list entry among templateMeta's keys (Documents' detail view has one) is PHP left-over: Sugar ignores it.
    for (const key of Object.keys(meta)) if (/^\d+$/.test(key)) delete meta[key];
  }
  layout.panels = mapValues(layout.panels, (rows) => {
    const list = asList(rows);
    if (!Array.isArray(list)) return list;
    // A row may be one bare cell (`'name'`), or cells keyed explicitly.
    const rowsOf = list.map((row) => (typeof row === 'string' || row === null ? [row] : isPlainObject(row) && !Array.isArray(asList(row)) ? [row] : asList(row)));
    // An empty PHP array as a cell's displayParams is an empty map.
    for (const row of rowsOf) if (Array.isArray(row)) for (const cell of row) if (isPlainObject(cell) && 'displayParams' in cell) cell.displayParams = asMap(cell.displayParams);
    return rowsOf;
  });
  return layout;
}

function normalizeSearchDefs(defs: unknown): unknown {
  if (!isPlainObject(defs)) return defs;
  if (isPlainObject(defs.layout)) {
    for (const kind of Object.keys(defs.layout)) {
      let entries = asList(asMap(defs.layout[kind]));
      // List-shaped layouts ('name', or array('name' => 'name', …)) are keyed by the field name, as SearchForm reads them.
      if (Array.isArray(entries)) {
        entries = Object.fromEntries(entries.map((e, i) => {
          const entry = typeof e === 'string' ? { name: e } : e;
          return [isPlainObject(entry) && typeof entry.name === 'string' ? entry.name : String(i), entry];
        }));
      }
      mapValues(entries, (e) => {
        const entry = typeof e === 'string' ? { name: e } : e;
        if (isPlainObject(entry) && 'default' in entry && typeof entry.default !== 'boolean') entry.default = phpTruthy(entry.default);
        return entry;
      });
      defs.layout[kind] = entries;
    }
  }
  return defs;
}

function normalizeSubpanelDefs(defs: unknown): unknown {
  if (!isPlainObject(defs)) return defs;
  defs.subpanel_setup = mapValues(asMap(defs.subpanel_setup), (panel) => {
    if (!isPlainObject(panel)) return panel;
    if (typeof panel.order === 'string' && /^\d+$/.test(panel.order)) panel.order = Number(panel.order);
    if (typeof panel.sort_order === 'string') panel.sort_order = panel.sort_order.toLowerCase();
    if ('top_buttons' in panel) panel.top_buttons = asList(panel.top_buttons);
    if ('list_fields' in panel) panel.list_fields = asList(panel.list_fields);
    if ('collection_list' in panel) panel.collection_list = asMap(panel.collection_list);
    return panel;
  });
  return defs;
}

function normalizeAppStrings(data: Record<string, unknown>): unknown {
  if ('app_strings' in data) data.app_strings = onlyLabels(asMap(data.app_strings));
  if ('app_list_strings' in data) {
    data.app_list_strings = mapValues(asMap(data.app_list_strings), (dropdown) => {
      const options = listAsMap(dropdown);
      // Nested arrays inside a dropdown are PHP data for Sugar's own code, never option labels.
      return isPlainObject(options) ? Object.fromEntries(Object.entries(options).filter(([, v]) => !isPlainObject(v) && !Array.isArray(v))) : options;
    });
    // Entries that are not dropdowns (strings, numbers) are PHP data for Sugar's own code.
    data.app_list_strings = Object.fromEntries(Object.entries(data.app_list_strings as Record<string, unknown>).filter(([, v]) => isPlainObject(v)));
  }
  return data;
}

/** Labels are strings; array values in $mod_strings / $app_strings feed Sugar's PHP code, never a label. */
function onlyLabels(strings: unknown): unknown {
  if (!isPlainObject(strings)) return strings;
  return Object.fromEntries(Object.entries(strings).filter(([, v]) => typeof v === 'string' || typeof v === 'number').map(([k, v]) => [k, String(v)]));
}
