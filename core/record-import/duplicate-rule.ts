import type { ModuleDef } from '../metadata/registry';
import type { Filter } from '../query/filter-to-knex';
import { duplicateFilter } from '../records/duplicates';

export type DuplicateMode = 'create' | 'update' | 'skip';
export const DUPLICATE_MODES: DuplicateMode[] = ['skip', 'update', 'create'];

const PHONE_FIELDS = ['phone_mobile', 'phone_work', 'phone_office', 'phone_home'];

/** Sugar's duplicate rule (name, e-mail) with the row's phone numbers as one more way to match. */
export function importDuplicateFilter(module: ModuleDef, values: Record<string, unknown>): Filter | undefined {
  const base = duplicateFilter(module, values);
  const phones = PHONE_FIELDS.filter((f) => module.fields[f] && typeof values[f] === 'string' && (values[f] as string).trim()).map((f) => ({ [f]: (values[f] as string).trim() }));
  if (!phones.length) return base;
  if (!base) return [{ $or: phones }];
  const [first, ...rest] = base as Array<{ $or: Filter }>;
  return [{ $or: [...(first.$or as unknown[]), ...phones] as Filter }, ...rest];
}

/** Keys a row is known by inside one file, so a file that repeats a person does not create it twice. */
export function rowKeys(module: ModuleDef, values: Record<string, string>): string[] {
  const keys: string[] = [];
  const low = (s: string | undefined) => s?.trim().toLowerCase() ?? '';
  if (module.fields.last_name && values.last_name) keys.push(`n:${low(values.last_name)}|${low(values.first_name)}`);
  else if (module.fields.name && values.name) keys.push(`n:${low(values.name)}`);
  for (const f of ['email1', 'email2']) if (values[f]) keys.push(`e:${low(values[f])}`);
  for (const f of PHONE_FIELDS) if (values[f]) keys.push(`p:${values[f].replace(/\D/g, '')}`);
  return keys;
}
