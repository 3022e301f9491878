import type { Dictionary, FieldDef, IndexDef, RelationshipMeta, TemplateDef } from './types';
import { arrayMerge } from './merge';

/** The values Sugar has in scope while evaluating a template's vardefs.php. */
export interface TemplateScope {
  module: string;
  objectName: string;
  table: string;
}

/** Replaces {module}, {module_lower}, {object_name}, {_object_name}, {table_name} in every string. */
export function substitute<T>(value: T, scope: TemplateScope): T {
  if (typeof value === 'string') {
    return value
      .replaceAll('{module_lower}', scope.module.toLowerCase())
      .replaceAll('{module}', scope.module)
      .replaceAll('{_object_name}', scope.objectName.toLowerCase())
      .replaceAll('{object_name}', scope.objectName)
      .replaceAll('{table_name}', scope.table) as T;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, scope)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[substitute(k, scope)] = substitute(v, scope);
    return out as T;
  }
  return value;
}

export function templateNames(dictionary: Dictionary): string[] {
  const t = dictionary.templates;
  if (!t) return [];
  return Array.isArray(t) ? t : Object.keys(t);
}

/**
 * VardefManager::createVardef: walk the template list backwards and array_merge each template
 * under the dictionary. The module's own definitions win; among templates the later one wins;
 * column order ends up basic first, then the other templates, then the module's fields.
 */
export function applyTemplates(
  dictionary: Dictionary,
  scope: TemplateScope,
  loadTemplate: (name: string) => TemplateDef,
): Dictionary {
  // Sugar's 'default' is 'basic'; a template named twice merges once (Sugar's keyed arrays merge by key).
  const names = [...new Set(templateNames(dictionary).map((n) => (n === 'default' ? 'basic' : n)))];
  let fields: Record<string, FieldDef> = { ...(dictionary.fields ?? {}) };
  let indices: IndexDef[] = [...(dictionary.indices ?? [])];
  let relationships: Record<string, RelationshipMeta> = { ...(dictionary.relationships ?? {}) };
  for (const name of [...names].reverse()) {
    const template = substitute(loadTemplate(name), scope);
    fields = arrayMerge(template.fields ?? {}, fields);
    indices = [...(template.indices ?? []), ...indices];
    relationships = arrayMerge(template.relationships ?? {}, relationships);
  }
  const templates = Object.fromEntries(names.map((n) => [n, n]));
  return { ...dictionary, fields, indices, relationships, templates };
}
