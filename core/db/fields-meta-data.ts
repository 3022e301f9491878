import type { Knex } from 'knex';
import { isKnownPhysicalType, isStored, physicalType, valueKind } from '../metadata/field-types';
import type { FieldDef } from '../metadata/types';
import type { ModuleDef } from '../metadata/registry-types';
import type { Database } from './connection';

/**
 * Sugar's Studio describes each custom field by a row of fields_meta_data (id = module name + field
 * name, custom_module = the module) and keeps its values in <table>_cstm. These translate between
 * such a row and a vardef field, both ways: Cane reads the fields Studio added and writes a row for
 * each custom field of its own metadata, so SuiteCRM sees them too.
 */
export const FIELDS_META_DATA = 'fields_meta_data';

type MetaRow = Record<string, unknown>;

const ENUM_TYPES = new Set(['enum', 'multienum', 'radioenum', 'dynamicenum']);
const PRECISION_TYPES = new Set(['decimal', 'float', 'currency']);

/** Studio's fields by module, from the rows not deleted; nothing when the table does not exist. */
export async function readStudioFields(db: Database, warn: (message: string) => void): Promise<Record<string, Record<string, FieldDef>>> {
  if (!(await db.dialect.tables(db.knex)).has(FIELDS_META_DATA)) return {};
  const rows: MetaRow[] = await db.knex(FIELDS_META_DATA).where('deleted', 0).orderBy('id');
  const result: Record<string, Record<string, FieldDef>> = {};
  for (const row of rows) {
    const module = String(row.custom_module ?? '');
    const field = fieldFromRow(row);
    if (!module || !field) {
      warn(`fields_meta_data row ${String(row.id)}: ${module ? `type '${String(row.type)}'` : 'no custom_module'} is not supported; the field is left out`);
      continue;
    }
    (result[module] ??= {})[field.name] = field;
  }
  return result;
}

/** A vardef field from a Studio row (TemplateField's get_field_def), or undefined for kinds Cane cannot store. */
export function fieldFromRow(row: MetaRow): FieldDef | undefined {
  const name = String(row.name ?? '');
  const type = String(row.type ?? '');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !type) return undefined;
  const field: FieldDef = { name, type, source: 'custom_fields' };
  if (!isStored(field) || type === 'relate' || !isKnownPhysicalType(physicalType(field))) return undefined;
  const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));
  if (text(row.vname)) field.vname = text(row.vname);
  if (text(row.help)) field.help = text(row.help);
  if (text(row.comments)) field.comment = text(row.comments);
  if (Number(row.len) > 0) field.len = Number(row.len);
  if (truthy(row.required)) field.required = true;
  if (truthy(row.audited)) field.audited = true;
  if (truthy(row.massupdate)) field.massupdate = true;
  if (text(row.default_value)) field.default = text(row.default_value);
  if (ENUM_TYPES.has(type) && text(row.ext1)) field.options = text(row.ext1);
  if (PRECISION_TYPES.has(type) && text(row.ext1)) field.precision = Number(row.ext1);
  return field;
}

/** The fields_meta_data row Studio would have written for a custom field of a module. */
export function rowFromField(module: ModuleDef, field: FieldDef, now: string): MetaRow {
  const kind = valueKind(field);
  const len = Number(field.len);
  return {
    id: `${module.name}${field.name}`,
    name: field.name,
    vname: field.vname ?? '',
    comments: field.comment ?? '',
    help: field.help ?? '',
    custom_module: module.name,
    type: field.type,
    len: Number.isInteger(len) && len > 0 ? len : null,
    required: field.required ? 1 : 0,
    default_value: field.default === undefined || field.default === null ? null : String(field.default),
    date_modified: now,
    deleted: 0,
    audited: field.audited ? 1 : 0,
    massupdate: field.massupdate ? 1 : 0,
    duplicate_merge: 0,
    reportable: 1,
    importable: 'true',
    ext1: (kind === 'enum' || kind === 'multienum') && field.options ? field.options : PRECISION_TYPES.has(field.type) && field.precision !== undefined ? String(field.precision) : '',
    ext2: '',
    ext3: '',
    ext4: null,
  };
}

/** Ids of the fields_meta_data rows present (deleted or not): a row Studio owns is never rewritten. */
export async function existingMetaIds(knex: Knex, tables: ReadonlySet<string>): Promise<Set<string>> {
  if (!tables.has(FIELDS_META_DATA)) return new Set();
  return new Set((await knex(FIELDS_META_DATA).select('id')).map((r: { id: string }) => r.id));
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}
