import type { ModuleDef } from '../metadata/registry';
import { isStored, valueKind } from '../metadata/field-types';
import type { FieldDef } from '../metadata/types';
import type { Filter } from '../query/filter-to-knex';
import { searchBoxText } from '../query/like-pattern';

/** How a text input of the list search matches: Sugar's default is the start of the value. */
export type TextMatch = 'starts' | 'contains';

/** The name of the per-field "starts with / contains" choice of the advanced search. */
export const matchParam = (name: string) => `s_${name}_match`;

/** A text field the list search matches with LIKE (not a dropdown, id, date or multi-select). */
export function isTextSearch(field: FieldDef): boolean {
  const kind = valueKind(field);
  if (kind === 'enum' || kind === 'bool' || kind === 'multienum' || kind === 'date' || kind === 'datetime') return false;
  if (field.type === 'id' || (field.type === 'relate' && isStored(field))) return false;
  return isStored(field) || !!field.db_concat_fields || field.cane_email === 'all' || field.cane_email === 'primary';
}

/**
 * The list view's search inputs (searchdefs) as filter clauses, with Sugar's rules: text matches the
 * start of the value, `%` or `*` typed anywhere are wildcards (`%Finch` finds "Blue Finch Bank"),
 * and the advanced search may ask for "contains" per field; dropdowns, ids and relates equal, dates
 * as ranges, "my items" is $owner.
 */
export function listSearchFilter(module: ModuleDef, names: string[], query: Record<string, string>): Filter {
  const filter: Filter = [];
  for (const name of names) {
    if (name === 'current_user_only') {
      if (query.current_user_only === '1') filter.push({ $owner: '' });
      continue;
    }
    const field = module.fields[name];
    if (!field) continue;
    const kind = valueKind(field);
    const value = (query[`s_${name}`] ?? '').trim();
    if (kind === 'date' || kind === 'datetime') {
      const from = (query[`s_${name}_from`] ?? '').trim();
      const to = (query[`s_${name}_to`] ?? '').trim();
      if (from) filter.push({ [name]: { $gte: kind === 'datetime' ? `${from} 00:00:00` : from } });
      if (to) filter.push({ [name]: { $lte: kind === 'datetime' ? `${to} 23:59:59` : to } });
      continue;
    }
    if (!value || kind === 'multienum') continue;
    if (isTextSearch(field)) {
      const op = query[matchParam(name)] === 'contains' ? '$contains' : '$starts';
      filter.push({ [name]: { [op]: searchBoxText(value) } });
    } else if (isStored(field)) {
      filter.push({ [name]: value });
    }
  }
  return filter;
}
