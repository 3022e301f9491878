import type { ModuleDef } from '../../metadata/registry';
import { isStored } from '../../metadata/field-types';
import type { Filter } from '../../query/filter-to-knex';
import { searchBoxText } from '../../query/like-pattern';

/**
 * The fields search_by_module matches, as SuiteCRM's unified search: those marked unified_search, or —
 * when the client asks to search beyond the unified-search modules — the module's name field.
 */
export function searchableFields(module: ModuleDef, unifiedOnly: boolean): string[] {
  const searchable = (name: string) => !!module.fields[name] && !module.fields[name].sensitive && (isStored(module.fields[name]) || !!module.fields[name].db_concat_fields);
  const unified = Object.values(module.fields).filter((f) => f.unified_search && searchable(f.name)).map((f) => f.name);
  if (unified.length || unifiedOnly) return unified;
  return searchable('name') ? ['name'] : [];
}

/** Records whose searchable fields start with the text (`%` and `*` are wildcards, as Sugar's sql_like_string), optionally only those assigned to one user. */
export function searchFilter(fields: string[], text: string, assignedUserId: string, module: ModuleDef): Filter {
  const filter: Filter = [{ $or: fields.map((name) => ({ [name]: { $starts: searchBoxText(text) } })) }];
  if (assignedUserId && module.fields.assigned_user_id) filter.push({ assigned_user_id: assignedUserId });
  return filter;
}

/** The columns answered: select_fields, else the list view's default columns, always with id. */
export function searchColumns(module: ModuleDef, selectFields: string[]): string[] {
  const fromList = Object.entries(module.views.list ?? {}).filter(([, column]) => column.default === true).map(([name]) => name.toLowerCase());
  const columns = (selectFields.length ? selectFields : fromList).filter((name) => module.fields[name] && !module.fields[name].sensitive);
  return selectFields.length || columns.includes('id') ? columns : [...columns, 'id'];
}
