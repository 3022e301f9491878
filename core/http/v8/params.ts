import qs from 'qs';
import type { Context } from 'koa';
import type { ModuleDef, Registry } from '../../metadata/registry';
import type { Filter, FilterClause } from '../../query/filter-to-knex';
import type { OrderBy } from '../../query/order-by';
import { isAttribute } from './document';
import { badRequest } from './errors';
import { requireModule } from './module-names';

/** The query string with JSON:API's bracket notation expanded (fields[Accounts]=name, filter[name][eq]=A). */
export function v8Query(ctx: Context): Record<string, unknown> {
  return qs.parse(ctx.querystring, { depth: 4, arrayLimit: 100, parameterLimit: 1000 });
}

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);
const plural = (n: number, one: string, many: string) => (n > 1 ? many : one);

/** `fields[<Module>]=a,b`: the attributes to answer, each checked against the module. */
export function fieldsParam(registry: Registry, module: ModuleDef, raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw) || Object.keys(raw).length !== 1) throw badRequest('fields must be given as fields[<module>]=<field>,<field>');
  const [[named, list]] = Object.entries(raw);
  requireModule(registry, named);
  if (typeof list !== 'string' || !list || /[^\w\-,]/.test(list)) throw badRequest(`fields[${named}] must be a comma-separated list of field names`);
  const fields = list.split(',');
  const unknown = fields.filter((f) => !isAttribute(module.fields[f]));
  if (unknown.length) {
    throw badRequest(`The following ${plural(unknown.length, 'field', 'fields')} in ${module.objectName} module ${plural(unknown.length, 'is', 'are')} not found: ${unknown.join(', ')}`);
  }
  return fields;
}

const OPERATORS: Record<string, string> = { eq: '$equals', neq: '$not_equals', gt: '$gt', gte: '$gte', lt: '$lt', lte: '$lte', like: 'like' };

/**
 * SQL LIKE as the V8 filter passes it: with % at the start, the end or both (the forms clients
 * send), else an exact match; `_` is taken literally.
 */
function likeClause(field: string, pattern: string): FilterClause {
  const starts = pattern.startsWith('%');
  const ends = pattern.length > 1 && pattern.endsWith('%');
  const inner = pattern.slice(starts ? 1 : 0, ends ? -1 : undefined);
  if (inner.includes('%')) throw badRequest(`Filter like on ${field} may hold % only at the start and the end of the value`);
  if (!inner) return { [field]: { $not_null: true } };
  const op = starts && ends ? '$contains' : starts ? '$ends' : ends ? '$starts' : '$equals';
  return { [field]: { [op]: inner } };
}

/**
 * `filter[<field>][eq|neq|gt|gte|lt|lte|like]=value`, joined by `filter[operator]=and|or` (one level,
 * as SuiteCRM); `filter[deleted][eq]=1` asks for deleted records only.
 */
export function filterParam(module: ModuleDef, raw: unknown): { filter: Filter; deleted: boolean } {
  if (raw === undefined) return { filter: [], deleted: false };
  if (!isObject(raw)) throw badRequest('filter must be given as filter[<field>][<operator>]=<value>');
  let joiner = 'and';
  let deleted = false;
  const clauses: FilterClause[] = [];
  for (const [name, expr] of Object.entries(raw)) {
    if (name === 'operator') {
      if (typeof expr !== 'string' || !['and', 'or'].includes(expr.toLowerCase())) throw badRequest(`Filter operator ${String(expr)} is invalid`);
      joiner = expr.toLowerCase();
      continue;
    }
    if (name === 'deleted') {
      deleted = isObject(expr) && String(expr.eq) === '1';
      continue;
    }
    if (!module.fields[name] || !isAttribute(module.fields[name])) throw badRequest(`Filter field ${name} in ${module.objectName} module is not found`);
    if (!isObject(expr)) throw badRequest(`Filter field ${name} must be an array`);
    for (const [op, value] of Object.entries(expr)) {
      const operator = OPERATORS[op.toLowerCase()];
      if (!operator) throw badRequest(`Filter operator ${op} is invalid`);
      if (typeof value !== 'string') throw badRequest(`Filter ${name}[${op}] must be a single value`);
      clauses.push(operator === 'like' ? likeClause(name, value) : { [name]: { [operator]: value } });
    }
  }
  const filter: Filter = joiner === 'or' && clauses.length > 1 ? [{ $or: clauses }] : clauses;
  if (deleted) filter.push({ deleted: { $equals: '1' } });
  return { filter, deleted };
}

/** `sort=name` or `sort=-name` (descending): one field, as SuiteCRM. */
export function sortParam(module: ModuleDef, raw: unknown): OrderBy[] | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !raw || /[^\w-]/.test(raw)) throw badRequest('sort must be a field name, with - before it for descending order');
  const descending = raw.startsWith('-');
  const field = raw.replace(/^-+/, '');
  if (!isAttribute(module.fields[field])) throw badRequest(`Sort field ${field} in ${module.objectName} module is not found`);
  return [{ field, direction: descending ? 'desc' : 'asc' }];
}

export interface Page {
  /** Absent: every record, with no paging meta or links (SuiteCRM's default). */
  size?: number;
  /** 0 when not given, as SuiteCRM counts it (the first page). */
  number: number;
}

/** `page[size]` and `page[number]`: whole numbers greater than 0. */
export function pageParam(raw: unknown): Page {
  if (raw === undefined) return { number: 0 };
  if (!isObject(raw)) throw badRequest('page must be given as page[size] and page[number]');
  const page: Page = { number: 0 };
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'size' && key !== 'number') throw badRequest(`The option "page[${key}]" does not exist; use page[size] and page[number]`);
    if (typeof value !== 'string' || !/^\d{1,9}$/.test(value) || Number(value) < 1) throw badRequest(`page[${key}] must be a whole number greater than 0, got '${String(value)}'`);
    page[key] = Number(value);
  }
  return page;
}
