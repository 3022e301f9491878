import type { Knex } from 'knex';
import { FilterError } from '../errors';
import type { ModuleDef } from '../metadata/registry';
import { isStored } from '../metadata/field-types';
import { fieldColumn } from '../records/custom-fields';

export interface OrderBy {
  field: string;
  direction: 'asc' | 'desc';
}

/** Parses Sugar's `order_by` parameter: 'name:DESC,date_modified:ASC'. */
export function parseOrderBy(text: string | undefined): OrderBy[] {
  if (!text) return [];
  return text.split(',').map((part) => {
    const [field, dir = 'asc'] = part.trim().split(':');
    const direction = dir.toLowerCase();
    if (direction !== 'asc' && direction !== 'desc') throw new FilterError(`order_by direction must be ASC or DESC, got '${dir}'`, { order_by: text });
    return { field: field.trim(), direction };
  });
}

/**
 * Adds ORDER BY for declared, stored fields (person names sort on their `sort_on` column),
 * then id, so that offset paging is stable. Default: date_modified DESC, as Sugar's FilterApi.
 */
export function applyOrderBy(query: Knex.QueryBuilder, module: ModuleDef, alias: string, orderBy: OrderBy[]): void {
  const order = orderBy.length ? orderBy : module.fields.date_modified ? [{ field: 'date_modified', direction: 'desc' as const }] : [];
  for (const { field: name, direction } of order) {
    const field = module.fields[name];
    if (!field) throw new FilterError(`Unknown field in order_by: ${name} is not a field of ${module.name}`, { field: name });
    if (isStored(field) && !field.sensitive) {
      query.orderBy(fieldColumn(module, alias, name), direction);
      continue;
    }
    const sortOn = field.sort_on ? (Array.isArray(field.sort_on) ? field.sort_on : [field.sort_on]) : field.db_concat_fields ? [...field.db_concat_fields].reverse() : [];
    if (!sortOn.length) throw new FilterError(`${name} cannot be sorted`, { field: name });
    for (const column of sortOn) query.orderBy(fieldColumn(module, alias, column), direction);
  }
  query.orderBy(`${alias}.id`, order[0]?.direction ?? 'asc');
}
