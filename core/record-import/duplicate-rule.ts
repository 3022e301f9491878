import type { ModuleDef } from '../metadata/registry';

export type DuplicateMode = 'create' | 'update' | 'skip';
export const DUPLICATE_MODES: DuplicateMode[] = ['skip', 'update', 'create'];

const PHONE_FIELDS = ['phone_mobile', 'phone_work', 'phone_office', 'phone_home'];

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
