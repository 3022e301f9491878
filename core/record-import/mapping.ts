import { CaneError, ValidationError, type FieldProblem } from '../errors';
import type { ModuleDef, Registry } from '../metadata/registry';
import { fieldLabel } from '../metadata/labels';
import { isTruthy } from '../metadata/field-types';
import { SYSTEM_FIELDS } from '../records/validate';

/** Which field each column goes to, by column position ('' leaves the column out). */
export type ColumnMapping = string[];

/** Fields a CSV column can fill: stored fields plus the e-mail addresses, not Cane's own bookkeeping. */
export function importableFields(registry: Registry, module: ModuleDef): Array<{ name: string; label: string; required: boolean }> {
  return Object.values(module.fields)
    .filter((f) => f.name === 'id' || !SYSTEM_FIELDS.has(f.name))
    .filter((f) => (f.source !== 'non-db' || f.cane_email === 'primary' || f.cane_email === 'secondary') && !f.auto_increment && !f.system_only && !isTruthy(f.readonly))
    .filter((f) => !['link', 'relate', 'assigned_user_name', 'image', 'function'].includes(f.type) || f.name === 'assigned_user_id')
    .map((f) => ({ name: f.name, label: fieldLabel(registry, module.name, f.name), required: isRequired(module, f.name) }))
    .sort((a, b) => Number(b.required) - Number(a.required) || a.label.localeCompare(b.label));
}

/** Required fields a create cannot do without: required, no default, not filled in by Cane. */
export function isRequired(module: ModuleDef, name: string): boolean {
  const f = module.fields[name];
  return !!f && isTruthy(f.required) && (f.default === undefined || f.default === null || f.default === '') && !SYSTEM_FIELDS.has(name) && f.source !== 'non-db' && !f.auto_increment;
}

const squash = (s: string) => s.toLowerCase().replace(/[\s_\-.:]+/g, '');

/** A field for each header whose name or label matches it (case, spaces and underscores aside); a saved mapping wins. */
export function suggestMapping(registry: Registry, module: ModuleDef, headers: string[], saved: Record<string, string> = {}): ColumnMapping {
  const fields = importableFields(registry, module);
  const byKey = new Map<string, string>();
  for (const f of fields) {
    if (!byKey.has(squash(f.label))) byKey.set(squash(f.label), f.name);
  }
  for (const f of fields) byKey.set(squash(f.name), f.name);
  byKey.set('email', module.fields.email1 ? 'email1' : 'email');
  byKey.set('emailaddress', module.fields.email1 ? 'email1' : 'email');
  const taken = new Set<string>();
  return headers.map((header) => {
    const savedField = saved[header];
    const field = savedField && module.fields[savedField] ? savedField : byKey.get(squash(header.replace(/:$/, '')));
    if (!field || taken.has(field) || !module.fields[field]) return '';
    taken.add(field);
    return field;
  });
}

/** Refuses, before any row is read, a mapping that sends two columns to one field, names an unknown field or leaves a required field out. */
export function checkMapping(registry: Registry, module: ModuleDef, headers: string[], mapping: ColumnMapping, willCreate: boolean): void {
  if (mapping.length > headers.length) throw new CaneError('invalid_parameter', `The mapping has ${mapping.length} columns, the file ${headers.length}`, 422, { field: 'mapping', rule: 'columns' });
  const allowed = new Set(importableFields(registry, module).map((f) => f.name));
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  mapping.forEach((field, column) => {
    if (!field) return;
    if (!allowed.has(field)) {
      problems.push({ field, rule: 'mapping', message: `column "${headers[column]}" is mapped to ${field}, which is not a field of ${module.name} that can be imported` });
      return;
    }
    const before = seen.get(field);
    if (before !== undefined) problems.push({ field, rule: 'mapped_twice', message: `${fieldLabel(registry, module.name, field)} is mapped from two columns, "${headers[before]}" and "${headers[column]}"; map it once` });
    else seen.set(field, column);
  });
  if (willCreate) {
    for (const f of importableFields(registry, module)) {
      if (f.required && !seen.has(f.name)) problems.push({ field: f.name, rule: 'required', message: `${f.label} is required and no column is mapped to it` });
    }
  }
  if (!mapping.some(Boolean)) problems.push({ field: 'mapping', rule: 'required', message: 'no column is mapped to a field' });
  if (problems.length) throw new ValidationError(module.name, problems);
}

/** A row's values by field: empty cells are left out so they neither blank an existing value nor fail a format. */
export function rowValues(mapping: ColumnMapping, values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  mapping.forEach((field, column) => {
    const v = values[column];
    if (field && v !== undefined && v.trim() !== '') out[field] = v.trim();
  });
  return out;
}
