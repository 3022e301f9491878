import type { Context } from 'koa';
import qs from 'qs';
import { FilterError } from '../../errors';
import type { ModuleDef } from '../../metadata/registry';
import { isStored } from '../../metadata/field-types';
import { parseOrderBy } from '../../query/order-by';
import type { Filter } from '../../query/filter-to-knex';
import type { ListOptions } from '../../records/queries';

/** The query string with bracket notation expanded (filter[0][name][$starts]=A), as Sugar's clients send it. */
export function queryOf(ctx: Context): Record<string, unknown> {
  return qs.parse(ctx.querystring, { depth: 12, arrayLimit: 200, parameterLimit: 2000 });
}

function integer(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : /^-?\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min) throw new FilterError(`${name} must be a whole number >= ${min}, got '${String(value)}'`, { [name]: value });
  return n;
}

function filterOf(raw: unknown): Filter | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw) as Filter;
    } catch {
      throw new FilterError('filter must be a JSON array or bracket notation (filter[0][name][$starts]=A)');
    }
  }
  // qs turns a sparse or long filter[] into an object keyed by index.
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return Object.values(raw) as Filter;
  return raw as Filter;
}

export function fieldsOf(module: ModuleDef, raw: unknown): string[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const list = (Array.isArray(raw) ? raw.map(String) : String(raw).split(',')).map((f) => f.trim()).filter(Boolean);
  for (const f of list) {
    if (f === 'my_favorite') continue; // not a field: the response adds it (favourites)
    if (!module.fields[f] || module.fields[f].type === 'link' || module.fields[f].sensitive) throw new FilterError(`Unknown field: ${f} is not a field of ${module.name}`, { field: f });
  }
  // Sugar answers these whatever fields= asks for; clients use them for identity and optimistic locking.
  for (const always of ['id', 'date_modified']) if (module.fields[always] && !list.includes(always)) list.push(always);
  return list;
}

/** Sugar's list parameters (GET query or POST /filter body): filter, fields, max_num, offset, order_by, q, deleted. */
export function listOptions(module: ModuleDef, params: Record<string, unknown>): ListOptions & { end?: boolean } {
  const filter = filterOf(params.filter) ?? [];
  if (!Array.isArray(filter)) throw new FilterError('filter must be an array of filter objects');
  const q = typeof params.q === 'string' ? params.q.trim() : '';
  if (q) {
    const searchable = Object.values(module.fields).filter((f) => f.unified_search && (isStored(f) || f.db_concat_fields) && !f.sensitive);
    if (searchable.length) filter.push({ $or: searchable.map((f) => ({ [f.name]: { $starts: q } })) });
  }
  const end = params.offset === 'end';
  return {
    filter,
    fields: fieldsOf(module, params.fields),
    maxNum: integer('max_num', params.max_num, 1),
    offset: end ? undefined : integer('offset', params.offset, 0),
    orderBy: typeof params.order_by === 'string' ? parseOrderBy(params.order_by) : undefined,
    deleted: params.deleted === true || params.deleted === 'true' || params.deleted === '1',
    end,
  };
}
