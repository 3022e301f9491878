import type { Knex } from 'knex';
import { FilterError, NotFoundError } from '../errors';
import type { ModuleDef } from '../metadata/registry';
import { isTruthy } from '../metadata/field-types';
import { makeBean } from '../hooks/hook-registry';
import { applyFilter, type Filter } from '../query/filter-to-knex';
import { applyOrderBy, type OrderBy } from '../query/order-by';
import type { Actor } from './actor';
import type { RecordContext } from './context';
import { readColumns, toRecords, type ReadOptions, type RecordData } from './read';
import { ownerColumn } from '../security/acl';
import { relatedQuery } from './relationships';
import { requireLink } from './link';
import { recordRows } from './custom-fields';

export interface ListOptions extends ReadOptions {
  filter?: Filter;
  orderBy?: OrderBy[];
  offset?: number;
  /** Page size (Sugar's max_num); default 20, at most 1000. */
  maxNum?: number;
  /** Include soft-deleted records. */
  deleted?: boolean;
}

export interface ListResult {
  records: RecordData[];
  /** Offset of the next page, or -1 when this is the last one (Sugar's next_offset). */
  nextOffset: number;
}

export const MAX_PAGE = 1000;

export async function retrieveRecord(ctx: RecordContext, module: ModuleDef, id: string, options: ReadOptions & { deleted?: boolean } = {}, hooks = true): Promise<RecordData> {
  const row = await recordRows(ctx.db.knex, module).where(`${module.table}.id`, id).first();
  if (!row || (!options.deleted && isTruthy(row.deleted))) throw new NotFoundError(`Could not find record: ${id} in module: ${module.name}`, { module: module.name, id });
  const [record] = await toRecords(ctx, module, [row], null, options);
  if (hooks) await ctx.hooks.run(module.name, 'after_retrieve', makeBean(module.name, module.objectName, record, record), { id, encode: false });
  return record;
}

/** Actor-facing retrieve: access check plus after_retrieve hooks whose changes reach the caller. */
export async function retrieveFor(ctx: RecordContext, actor: Actor, module: ModuleDef, id: string, options: ReadOptions & { deleted?: boolean } = {}): Promise<RecordData> {
  const query = recordRows(ctx.db.knex, module).where(`${module.table}.id`, id);
  if (!options.deleted) query.andWhere(`${module.table}.deleted`, 0);
  await ctx.access.scope(actor, module, 'view', query, module.table);
  const row = await query.first();
  if (!row) throw new NotFoundError(`Could not find record: ${id} in module: ${module.name}`, { module: module.name, id });
  await ctx.access.check(actor, module, 'view', row);
  const [record] = await toRecords(ctx, module, [row], actor, options);
  return afterRetrieve(ctx, module, record);
}

/** Ids a many-record read asks for in one query. */
const READ_CHUNK = 500;

/**
 * retrieveFor of many records at once: one query per 500 ids under the view scope, names and
 * e-mail addresses filled for all of them together, after_retrieve hooks per record. Answers the
 * records found by their id in lower case (ids compare without case in both databases); unknown,
 * deleted and hidden ones are absent.
 */
export async function retrieveManyFor(ctx: RecordContext, actor: Actor, module: ModuleDef, ids: readonly string[], options: ReadOptions = {}): Promise<Map<string, RecordData>> {
  const found = new Map<string, RecordData>();
  const t = module.table;
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += READ_CHUNK) {
    const query = recordRows(ctx.db.knex, module).whereIn(`${t}.id`, unique.slice(i, i + READ_CHUNK)).andWhere(`${t}.deleted`, 0);
    await ctx.access.scope(actor, module, 'view', query, t);
    const rows: Array<Record<string, unknown>> = await query;
    for (const row of rows) await ctx.access.check(actor, module, 'view', row);
    for (const record of await toRecords(ctx, module, rows, actor, options)) found.set(record.id.toLowerCase(), await afterRetrieve(ctx, module, record));
  }
  return found;
}

/** The record as its module's after_retrieve hooks leave it (the same object when there are none). */
async function afterRetrieve(ctx: RecordContext, module: ModuleDef, record: RecordData): Promise<RecordData> {
  if (!ctx.hooks.has(module.name, 'after_retrieve')) return record;
  const bean = makeBean(module.name, module.objectName, record, record);
  await ctx.hooks.run(module.name, 'after_retrieve', bean, { id: record.id, encode: false });
  return { ...bean } as unknown as RecordData;
}

function pageSize(maxNum: number | undefined): number {
  if (maxNum === undefined) return 20;
  if (!Number.isInteger(maxNum) || maxNum < 1) throw new FilterError(`max_num must be a positive whole number, got ${maxNum}`, { max_num: maxNum });
  return Math.min(maxNum, MAX_PAGE);
}

function startOffset(offset: number | undefined): number {
  if (offset === undefined) return 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > Number.MAX_SAFE_INTEGER) throw new FilterError(`offset must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${offset}`, { offset });
  return offset;
}

/** A page of records: filter, access scope, order, offset; fetches one extra row to know whether more exist. */
export async function listRecords(ctx: RecordContext, actor: Actor, module: ModuleDef, options: ListOptions = {}): Promise<ListResult> {
  const alias = module.table;
  // With `fields`, only the columns they need are read (a 6-field page of Accounts reads 8 columns, not 60).
  const query = recordRows(ctx.db.knex, module, alias, readColumns(module, options.fields, [ownerColumn(module)]));
  await scopeQuery(ctx, actor, module, query, alias, options);
  return page(ctx, actor, module, query, alias, options);
}

export async function countRecords(ctx: RecordContext, actor: Actor, module: ModuleDef, options: Pick<ListOptions, 'filter' | 'deleted'> = {}): Promise<number> {
  const alias = module.table;
  const query = recordRows(ctx.db.knex, module, alias);
  await scopeQuery(ctx, actor, module, query, alias, options);
  const row = await query.clearSelect().count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

/** Records reachable through a link, with the same filter, order and paging as a list. */
export async function listRelatedRecords(ctx: RecordContext, actor: Actor, module: ModuleDef, id: string, linkName: string, options: ListOptions = {}): Promise<ListResult> {
  const link = requireLink(module, linkName);
  await retrieveFor(ctx, actor, module, id, { fields: ['id'] });
  const target = ctx.registry.module(link.module);
  const query = relatedQuery(ctx, ctx.db.knex, link, id);
  await scopeQuery(ctx, actor, target, query, target.table, { ...options, deleted: false });
  return page(ctx, actor, target, query, target.table, options);
}

/** How many records a link reaches, with the same filter and access scope as listRelatedRecords. */
export async function countRelatedRecords(ctx: RecordContext, actor: Actor, module: ModuleDef, id: string, linkName: string, options: Pick<ListOptions, 'filter'> = {}): Promise<number> {
  const link = requireLink(module, linkName);
  await retrieveFor(ctx, actor, module, id, { fields: ['id'] });
  const target = ctx.registry.module(link.module);
  const query = relatedQuery(ctx, ctx.db.knex, link, id);
  await scopeQuery(ctx, actor, target, query, target.table, { filter: options.filter, deleted: false });
  const row = await query.clearSelect().count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

async function scopeQuery(ctx: RecordContext, actor: Actor, module: ModuleDef, query: Knex.QueryBuilder, alias: string, options: Pick<ListOptions, 'filter' | 'deleted'>) {
  await ctx.access.check(actor, module, 'list');
  if (!options.deleted && module.columns.includes('deleted')) query.where(`${alias}.deleted`, 0);
  applyFilter(query, options.filter, {
    knex: ctx.db.knex, module, dialect: ctx.db.dialect, alias, userId: actor.id ?? null, now: ctx.clock(),
  });
  await ctx.access.scope(actor, module, 'list', query, alias);
}

async function page(ctx: RecordContext, actor: Actor, module: ModuleDef, query: Knex.QueryBuilder, alias: string, options: ListOptions): Promise<ListResult> {
  const size = pageSize(options.maxNum);
  const offset = startOffset(options.offset);
  applyOrderBy(query, module, alias, options.orderBy ?? []);
  const rows = await query.limit(size + 1).offset(offset);
  const more = rows.length > size;
  const records = await toRecords(ctx, module, rows.slice(0, size), actor, options);
  if (ctx.hooks.has(module.name, 'process_record')) {
    for (let i = 0; i < records.length; i++) {
      const bean = makeBean(module.name, module.objectName, records[i], records[i]);
      await ctx.hooks.run(module.name, 'process_record', bean, null);
      records[i] = { ...bean } as unknown as RecordData;
    }
  }
  return { records, nextOffset: more ? offset + size : -1 };
}
