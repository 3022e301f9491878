import type { Knex } from 'knex';
import { emailFieldValue, readEmails } from './email-addresses';
import type { ModuleDef } from '../metadata/registry';
import type { FieldDef } from '../metadata/types';
import { valueKind } from '../metadata/field-types';
import type { Actor } from './actor';
import type { RecordContext } from './context';
import { fromStorage, type FieldValue } from './values';
import { relatedIds } from './relationships';
import { perModule } from '../metadata/per-module';

const allColumns = perModule((module) => module.columns.map((column) => [column, module.fields[column]] as const));
const readableColumns = perModule((module) => allColumns(module).filter(([, field]) => !field.sensitive));
const emailFields = perModule((module) => Object.values(module.fields).filter((f) => f.cane_email));
/** Non-db fields a read fills: counts and concatenated names. */
const computedFields = perModule((module) => Object.entries(module.fields).filter(([, field]) => field.source === 'non-db' && (field.cane_count || field.db_concat_fields)));
/** Relate and parent fields, whose names a read looks up. */
const nameFields = perModule((module) => Object.entries(module.fields).filter(([, field]) =>
  (field.type === 'relate' && field.source === 'non-db' && field.id_name && field.module) || (field.type === 'parent' && field.id_name && field.type_name)));

export type RecordData = Record<string, FieldValue> & { id: string };

/**
 * The stored columns a read of `fields` needs: the stored ones among them, what their computed
 * values are made of (the parts of a name, relate and parent ids), id and `always` (the owner
 * column access rules read). Undefined without `fields`: every column.
 */
export function readColumns(module: ModuleDef, fields: readonly string[] | undefined, always: readonly string[] = []): string[] | undefined {
  if (!fields) return undefined;
  const columns = new Set<string>(['id', ...always]);
  const stored = new Set(module.columns);
  for (const name of fields) {
    const field = module.fields[name];
    if (!field) continue;
    if (stored.has(name)) columns.add(name);
    for (const part of field.db_concat_fields ?? []) columns.add(part);
    if (field.id_name) columns.add(field.id_name);
    if (field.type_name) columns.add(field.type_name);
  }
  return [...columns].filter((c) => stored.has(c) && !module.fields[c].sensitive);
}

export interface ReadOptions {
  /** Only these fields (id is always included). */
  fields?: readonly string[];
  /** Include fields marked sensitive (user_hash). Never set by the APIs. */
  includeSensitive?: boolean;
}

/**
 * A database row of a module's table -> the record as the service returns it, with computed fields.
 * `viewer` is whose rights decide which relate and parent names show (null: Cane's own reads, every name).
 */
export async function toRecords(ctx: RecordContext, module: ModuleDef, rows: Record<string, unknown>[], viewer: Actor | null, options: ReadOptions = {}, trx?: Knex): Promise<RecordData[]> {
  const only = options.fields && new Set(options.fields);
  const wanted = (name: string) => name === 'id' || !only || only.has(name);
  const columns = options.includeSensitive ? allColumns(module) : readableColumns(module);
  const records = rows.map((row) => {
    const record: Record<string, FieldValue> = {};
    for (const [column, field] of columns) {
      const raw = row[column];
      if (raw !== undefined) record[column] = fromStorage(field, raw);
    }
    for (const key in row) {
      if (key.startsWith('_rel_')) record[key.slice(5)] = row[key] as FieldValue;
    }
    return record as RecordData;
  });
  await computeFields(ctx, module, records, wanted, viewer, trx);
  if (options.fields) {
    const relFields = new Set(Object.values(module.links).flatMap((l) => l.relationship.relFields));
    for (const r of records) for (const key of Object.keys(r)) if (!wanted(key) && !relFields.has(key)) delete r[key];
  }
  return records;
}

/** Fills counts, person names (db_concat_fields), relate names and parent names, a few batched queries per page. */
async function computeFields(ctx: RecordContext, module: ModuleDef, records: RecordData[], wanted: (name: string) => boolean, viewer: Actor | null, trx?: Knex) {
  if (!records.length) return;
  const knex = trx ?? ctx.db.knex;
  for (const [name, field] of computedFields(module)) {
    if (!wanted(name)) continue;
    if (field.cane_count) {
      const { table, key } = field.cane_count;
      const counts = await knex(table).whereIn(key, records.map((r) => r.id)).where('deleted', 0).groupBy(key).select({ id: key }).count({ n: '*' });
      const byId = new Map((counts as Array<Record<string, unknown>>).map((c) => [String(c.id), Number(c.n)]));
      for (const r of records) r[name] = byId.get(String(r.id)) ?? 0;
      continue;
    }
    if (field.db_concat_fields && (field.type === 'name' || field.type === 'fullname' || field.type === 'varchar')) {
      for (const r of records) r[name] = concatName(field, r);
    }
  }
  // Independent lookups that fill different fields: on MySQL they travel on two connections at once.
  await Promise.all([fillRelatedNames(ctx, knex, module, records, wanted, viewer), fillEmails(knex, module, records, wanted)]);
}

/** email1, email2, email, email_opt_out and invalid_email from the records' e-mail addresses, one query per page. */
async function fillEmails(knex: Knex, module: ModuleDef, records: RecordData[], wanted: (name: string) => boolean) {
  const fields = emailFields(module).filter((f) => wanted(f.name));
  if (!fields.length) return;
  const emails = await readEmails(knex, module.name, records.map((r) => String(r.id)));
  for (const r of records) for (const field of fields) r[field.name] = emailFieldValue(field.cane_email!, emails.get(String(r.id)) ?? []) as FieldValue;
}

/**
 * A record's names again as `viewer` may see them: a save reads its record back for the hooks with
 * every name, and what goes back to the caller must not show more than a read would.
 */
export async function relatedNamesFor(ctx: RecordContext, viewer: Actor, module: ModuleDef, record: RecordData): Promise<RecordData> {
  if (viewer.type === 'system') return record;
  const copy = { ...record };
  await fillRelatedNames(ctx, ctx.db.knex, module, [copy], (name) => name in record, viewer);
  return copy;
}

/**
 * Relate and parent names. A name belongs to the related record: the lookup is narrowed by the
 * viewer's view scope on the related module, so one they may not view (module access, role level,
 * owner-only) comes back null while its id stays, as Sugar's v10 keeps it.
 */
async function fillRelatedNames(ctx: RecordContext, knex: Knex, module: ModuleDef, records: RecordData[], wanted: (name: string) => boolean, viewer: Actor | null) {
  const lookups = new DisplayLookups(knex, viewer ? (target, query) => ctx.access.scope(viewer, target, 'view', query, target.table) : undefined);
  for (const [name, field] of nameFields(module)) {
    if (!wanted(name) && !(wanted(field.id_name!) && module.fields[field.id_name!]?.source === 'non-db')) continue;
    if (field.type === 'relate') await fillRelate(ctx, knex, module, name, field, records, lookups);
    else await fillParent(ctx, name, field, records, lookups);
  }
  await lookups.resolve();
}

/** Narrows a query on a related module's table to the rows the viewer may see. */
type Narrow = (target: ModuleDef, query: Knex.QueryBuilder) => Promise<void> | void;

/**
 * Collects the display values a page needs (created_by_name, modified_by_name and
 * assigned_user_name all read users) and fetches them with one query per target and column.
 */
class DisplayLookups {
  private readonly wanted = new Map<string, { target: ModuleDef; rname: string; ids: Set<string>; apply: Array<(values: Map<string, string>) => void> }>();

  constructor(private readonly knex: Knex, private readonly narrow?: Narrow) {}

  request(target: ModuleDef, rname: string, ids: Iterable<string>, apply: (values: Map<string, string>) => void) {
    const key = `${target.name}:${rname}`;
    const entry = this.wanted.get(key) ?? { target, rname, ids: new Set<string>(), apply: [] };
    for (const id of ids) entry.ids.add(id);
    entry.apply.push(apply);
    this.wanted.set(key, entry);
  }

  async resolve() {
    for (const entry of this.wanted.values()) {
      const values = await displayValues(this.knex, entry.target, entry.rname, [...entry.ids], this.narrow);
      for (const apply of entry.apply) apply(values);
    }
  }
}

function concatName(field: FieldDef, record: Record<string, unknown>): string {
  return (field.db_concat_fields ?? []).map((f) => record[f]).filter((v) => v !== null && v !== undefined && v !== '').join(' ');
}

async function fillRelate(ctx: RecordContext, knex: Knex, module: ModuleDef, name: string, field: FieldDef, records: RecordData[], lookups: DisplayLookups) {
  const target = ctx.registry.modules.get(field.module!);
  if (!target) return;
  const idField = module.fields[field.id_name!];
  let idsByRecord: Map<string, string | null>;
  if (idField && idField.source !== 'non-db') {
    idsByRecord = new Map(records.map((r) => [r.id, (r[field.id_name!] as string | null) ?? null]));
  } else if (typeof field.link === 'string' && module.links[field.link]) {
    const related = await relatedIds(ctx, knex, module.links[field.link], records.map((r) => r.id));
    idsByRecord = new Map(records.map((r) => [r.id, related.get(r.id)?.[0] ?? null]));
    for (const r of records) r[field.id_name!] = idsByRecord.get(r.id) ?? null;
  } else {
    return;
  }
  if (field.rname === 'id') return;
  const ids = [...idsByRecord.values()].filter((v): v is string => Boolean(v));
  for (const r of records) r[name] = null;
  lookups.request(target, field.rname ?? 'name', ids, (names) => {
    for (const r of records) {
      const id = idsByRecord.get(r.id);
      r[name] = id ? names.get(id) ?? null : null;
    }
  });
}

async function fillParent(ctx: RecordContext, name: string, field: FieldDef, records: RecordData[], lookups: DisplayLookups) {
  const byType = new Map<string, RecordData[]>();
  for (const r of records) {
    r[name] = null;
    const type = r[field.type_name!] as string | null;
    const id = r[field.id_name!] as string | null;
    if (type && id && ctx.registry.modules.has(type)) byType.set(type, [...(byType.get(type) ?? []), r]);
  }
  for (const [type, group] of byType) {
    lookups.request(ctx.registry.module(type), 'name', group.map((r) => String(r[field.id_name!])), (names) => {
      for (const r of group) r[name] = names.get(String(r[field.id_name!])) ?? null;
    });
  }
}

/** id -> the display value of `rname` (a column, or a concatenated name) for records of a module (those `narrow` keeps). */
export async function displayValues(knex: Knex, target: ModuleDef, rname: string, ids: string[], narrow?: Narrow): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  if (!ids.length) return result;
  const field = target.fields[rname] ?? target.fields.name;
  if (!field) return result;
  const columns = field.db_concat_fields ?? (field.source === 'non-db' ? [] : [field.name]);
  if (!columns.length) return result;
  for (let i = 0; i < ids.length; i += 500) {
    const query = knex(target.table).select([`${target.table}.id`, ...columns.map((c) => `${target.table}.${c}`)]).whereIn(`${target.table}.id`, ids.slice(i, i + 500));
    await narrow?.(target, query);
    const rows = await query;
    for (const row of rows) {
      const value = columns.map((c) => row[c]).filter((v) => v !== null && v !== '').join(' ');
      result.set(row.id, valueKind(field) === 'bool' ? String(value) : value);
    }
  }
  return result;
}
