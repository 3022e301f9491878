import type { Knex } from 'knex';
import { FilterError } from '../errors';
import type { ModuleDef } from '../metadata/registry';
import type { FieldDef } from '../metadata/types';
import { isStored, valueKind } from '../metadata/field-types';
import type { Dialect } from '../db/dialects/dialect';
import { normalizeInput, toStorage, type FieldValue } from '../records/values';
import { DATE_RANGES, dateRange, type DateRangeName } from './date-ranges';
import { fieldColumn } from '../records/custom-fields';
import { favoritesQuery } from '../records/favorites';
import { likePattern } from './like-pattern';

/** Sugar's v10 filter: an array of objects whose keys are ANDed. */
export type Filter = FilterClause[];
export type FilterClause = Record<string, unknown>;

export interface FilterContext {
  knex: Knex;
  module: ModuleDef;
  dialect: Dialect;
  /** Table alias the module's columns are qualified with. */
  alias: string;
  /** Current user, for $owner, $creator and $favorite. */
  userId: string | null;
  now: Date;
}

const FIELD_OPERATORS = new Set([
  '$equals', '$not_equals', '$starts', '$ends', '$contains', '$not_contains', '$in', '$not_in', '$is_null', '$not_null',
  '$empty', '$not_empty', '$lt', '$lte', '$gt', '$gte', '$between', '$dateBetween', '$dateRange',
]);

/** How deep $and/$or may nest, and how many conditions a filter may hold: beyond them a filter is an attack or a bug. */
export const FILTER_LIMITS = { depth: 16, conditions: 1000 };

/**
 * Compiles a Sugar v10 filter into where clauses on a knex query. Field names must be declared
 * in the vardefs; every value is bound, never spliced into SQL. In $starts, $ends, $contains and
 * $not_contains a `%` is a wildcard, as in Sugar (`{name: {$starts: '%Finch'}}` finds "Blue Finch
 * Bank"); `_` is literal. Throws FilterError naming the unknown field or operator, or the value it
 * cannot use.
 */

export function applyFilter(query: Knex.QueryBuilder, filter: unknown, ctx: FilterContext): void {
  if (filter === undefined || filter === null) return;
  if (!Array.isArray(filter)) throw new FilterError('filter must be an array of filter objects', { filter });
  checkSize(filter);
  for (const clause of filter) query.where((q) => applyClause(q, clause, ctx));
}

function applyClause(q: Knex.QueryBuilder, clause: unknown, ctx: FilterContext): void {
  if (!clause || typeof clause !== 'object' || Array.isArray(clause)) throw new FilterError('each filter entry must be an object', { clause });
  const entries = Object.entries(clause as Record<string, unknown>);
  if (!entries.length) throw new FilterError('empty filter object');
  for (const [key, value] of entries) {
    switch (key) {
      case '$and':
        q.where((sub) => { for (const c of asList(key, value)) sub.where((s) => applyClause(s, c, ctx)); });
        break;
      case '$or':
        q.where((sub) => { for (const c of asList(key, value)) sub.orWhere((s) => applyClause(s, c, ctx)); });
        break;
      case '$owner':
        q.where(column(ctx, fieldOf(ctx, 'assigned_user_id', '$owner')), ctx.userId ?? '');
        break;
      case '$favorite':
        q.whereIn(`${ctx.alias}.id`, favoritesQuery(ctx.knex, ctx.userId ?? undefined, ctx.module.name));
        break;
      case '$creator':
        q.where(column(ctx, fieldOf(ctx, 'created_by', '$creator')), ctx.userId ?? '');
        break;
      default:
        if (key.startsWith('$')) throw new FilterError(`Did not recognize the operand: ${key}`, { operator: key });
        applyField(q, key, value, ctx);
    }
  }
}

/** Walks the filter without recursion (a deep one must not overflow the stack) and refuses one too deep or too large. */
function checkSize(filter: unknown[]): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: filter, depth: 0 }];
  let conditions = 0;
  while (stack.length) {
    const { value, depth } = stack.pop()!;
    if (depth > FILTER_LIMITS.depth) throw new FilterError(`the filter nests $and/$or deeper than ${FILTER_LIMITS.depth} levels`, { limit: FILTER_LIMITS.depth });
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, depth });
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    for (const [key, inner] of Object.entries(value)) {
      if (++conditions > FILTER_LIMITS.conditions) throw new FilterError(`the filter has more than ${FILTER_LIMITS.conditions} conditions`, { limit: FILTER_LIMITS.conditions });
      if (key === '$and' || key === '$or') stack.push({ value: inner, depth: depth + 1 });
    }
  }
}

function asList(operator: string, value: unknown): unknown[] {
  if (!Array.isArray(value) || !value.length) throw new FilterError(`${operator} needs a non-empty array of filter objects`, { operator });
  return value;
}

function fieldOf(ctx: FilterContext, name: string, operator: string): FieldDef {
  const field = ctx.module.fields[name];
  if (!field) throw new FilterError(`${operator} needs the field ${name}, which ${ctx.module.name} does not have`, { operator });
  return field;
}

/** A filterable field: a column, or a person name concatenated from columns. */
function resolveField(ctx: FilterContext, name: string): FieldDef {
  const field = ctx.module.fields[name];
  if (!field) throw new FilterError(`Unknown field: ${name} is not a field of ${ctx.module.name}`, { field: name });
  if (field.sensitive) throw new FilterError(`${name} cannot be filtered`, { field: name });
  if (!isStored(field) && !field.db_concat_fields && field.cane_email !== 'all' && field.cane_email !== 'primary') throw new FilterError(`${name} is not stored and cannot be filtered`, { field: name });
  return field;
}

/**
 * The column expression of a field. Concatenated names are knex Raw values, which knex accepts
 * wherever a column name goes; its typings only admit strings, hence the cast.
 */
function column(ctx: FilterContext, field: FieldDef): string {
  if (!isStored(field) && field.db_concat_fields) {
    return rawConcat(ctx, field.db_concat_fields) as unknown as string;
  }
  return fieldColumn(ctx.module, ctx.alias, field.name);
}

function rawConcat(ctx: FilterContext, columns: string[]): Knex.Raw {
  // Column names come from validated metadata (identifiers only); the dialect quotes them.
  const sql = ctx.dialect.concat(columns).replace(/(["`])(\w+)\1/g, (_m, quote: string, col: string) => `${quote}${ctx.alias}${quote}.${quote}${col}${quote}`);
  return ctx.knex.raw(sql);
}

function applyField(q: Knex.QueryBuilder, name: string, spec: unknown, ctx: FilterContext): void {
  const field = resolveField(ctx, name);
  if (field.cane_email) {
    // email (any address) and email1 (the primary): records whose addresses match, as Sugar's email search subquery.
    const matching = ctx.knex('email_addr_bean_rel').join('email_addresses', 'email_addresses.id', 'email_addr_bean_rel.email_address_id')
      .where({ 'email_addr_bean_rel.bean_module': ctx.module.name, 'email_addr_bean_rel.deleted': 0, 'email_addresses.deleted': 0 })
      .select('email_addr_bean_rel.bean_id');
    if (field.cane_email === 'primary') matching.where('email_addr_bean_rel.primary_address', 1);
    applyOperators(matching, { name, type: 'varchar', len: 255 }, 'email_addresses.email_address', name, spec, ctx);
    q.whereIn(`${ctx.alias}.id`, matching);
    return;
  }
  applyOperators(q, field, column(ctx, field), name, spec, ctx);
}

function applyOperators(q: Knex.QueryBuilder, field: FieldDef, col: string, name: string, spec: unknown, ctx: FilterContext): void {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    q.where(col, bindable(field, spec, name, '$equals'));
    return;
  }
  for (const [op, value] of Object.entries(spec as Record<string, unknown>)) {
    if (!FIELD_OPERATORS.has(op)) throw new FilterError(`Did not recognize the operand: ${op}`, { field: name, operator: op });
    switch (op) {
      case '$equals': q.where(col, bindable(field, value, name, op)); break;
      case '$not_equals': q.where((s) => s.whereNot(col, bindable(field, value, name, op)).orWhereNull(col)); break;
      case '$starts': case '$ends': case '$contains': case '$not_contains': {
        const value_ = text(value, name, op);
        const special = ctx.dialect.textMatch?.(op, typeof col === 'string' ? ctx.knex.raw('??', [col]).toQuery() : (col as unknown as Knex.Raw).toQuery(), value_);
        if (special) q.whereRaw(special.sql, special.bindings);
        else like(q, col, likePattern(value_, op === '$starts' ? 'starts' : op === '$ends' ? 'ends' : 'contains', name), op === '$not_contains');
        break;
      }
      case '$in': q.whereIn(col, list(field, value, name, op)); break;
      case '$not_in': q.where((s) => s.whereNotIn(col, list(field, value, name, op)).orWhereNull(col)); break;
      case '$is_null': q.whereNull(col); break;
      case '$not_null': q.whereNotNull(col); break;
      case '$empty': q.where((s) => s.whereNull(col).orWhere(col, '')); break;
      case '$not_empty': q.whereNotNull(col).andWhereNot(col, ''); break;
      case '$lt': q.where(col, '<', bindable(field, value, name, op)); break;
      case '$lte': q.where(col, '<=', bindable(field, value, name, op)); break;
      case '$gt': q.where(col, '>', bindable(field, value, name, op)); break;
      case '$gte': q.where(col, '>=', bindable(field, value, name, op)); break;
      case '$between': case '$dateBetween': {
        if (!Array.isArray(value) || value.length !== 2) throw new FilterError(`${op} on ${name} needs an array of two values`, { field: name, operator: op });
        let [low, high] = value.map((v) => bindable(field, v, name, op));
        if (valueKind(field) === 'datetime') {
          low = String(low).length === 10 ? `${low} 00:00:00` : low;
          high = String(high).length === 10 || op === '$dateBetween' ? `${String(high).slice(0, 10)} 23:59:59` : high;
        }
        q.whereBetween(col, [low as string, high as string]);
        break;
      }
      case '$dateRange': {
        if (typeof value !== 'string' || !(DATE_RANGES as readonly string[]).includes(value)) {
          throw new FilterError(`$dateRange on ${name} must be one of ${DATE_RANGES.join(', ')}`, { field: name, operator: op, value });
        }
        const kind = valueKind(field);
        if (kind !== 'date' && kind !== 'datetime') throw new FilterError(`$dateRange needs a date field; ${name} is ${field.type}`, { field: name, operator: op });
        const [from, to] = dateRange(value as DateRangeName, ctx.now);
        q.whereBetween(col, kind === 'date' ? [from, to] : [`${from} 00:00:00`, `${to} 23:59:59`]);
        break;
      }
    }
  }
}

function like(q: Knex.QueryBuilder, col: string, pattern: string, negate: boolean) {
  // '!' as the escape character means the same thing to MySQL and SQLite (a backslash does not); see like-pattern.ts.
  const sql = negate ? `(?? IS NULL OR ?? NOT LIKE ? ESCAPE '!')` : `?? LIKE ? ESCAPE '!'`;
  if (typeof col === 'string') q.whereRaw(sql, negate ? [col, col, pattern] : [col, pattern]);
  else q.whereRaw(sql.replace(/\?\?/g, (col as unknown as Knex.Raw).toQuery()), [pattern]);
}

function text(value: unknown, name: string, op: string): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new FilterError(`${op} on ${name} needs a text value`, { field: name, operator: op });
}

/** A filter value converted and checked like record input, then in its stored form. */
function bindable(field: FieldDef, value: unknown, name: string, op: string): string | number {
  if (value === null || value === undefined || (typeof value === 'object' && !Array.isArray(value))) {
    throw new FilterError(`${op} on ${name} needs a value`, { field: name, operator: op });
  }
  const kind = valueKind(field);
  const raw = kind === 'multienum' ? String(value) : value;
  const normalized = kind === 'multienum' ? { ok: true as const, value: raw as FieldValue } : normalizeInput(field, raw);
  if (!normalized.ok) throw new FilterError(`${op} on ${name}: value ${normalized.message}`, { field: name, operator: op, rule: normalized.rule });
  const stored = toStorage(field, normalized.value);
  return stored as string | number;
}

function list(field: FieldDef, value: unknown, name: string, op: string): Array<string | number> {
  if (!Array.isArray(value)) throw new FilterError(`${op} on ${name} needs an array`, { field: name, operator: op });
  if (!value.length) throw new FilterError(`${op} on ${name} needs at least one value`, { field: name, operator: op });
  return value.map((v) => bindable(field, v, name, op));
}
