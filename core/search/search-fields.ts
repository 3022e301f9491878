import type { ModuleDef } from '../metadata/registry';
import type { Registry } from '../metadata/registry';
import { isStored } from '../metadata/field-types';

/** What global search matches in a module: names, the e-mail addresses and phone numbers. */
export interface SearchFields {
  /** Text fields matched at the start of the value or of any word in it (names, phones). */
  words: string[];
  /** The phone numbers among `words`: searched only when the text has a digit. */
  phones: string[];
  /** The any-address e-mail field, matched at the start of an address; undefined when the module has none. */
  email?: string;
}

function filterable(module: ModuleDef, name: string): boolean {
  const field = module.fields[name];
  return !!field && !field.sensitive && (isStored(field) || !!field.db_concat_fields);
}

/**
 * The fields Sugar's unified search declares (unified_search on the field), plus a person's full
 * name (first and last together, so 'Ada Lovelace' matches) and any e-mail address.
 */
export function searchFields(module: ModuleDef): SearchFields {
  let words = Object.values(module.fields)
    .filter((f) => f.unified_search && !f.cane_email && filterable(module, f.name))
    .map((f) => f.name);
  const concat = module.fields.name?.db_concat_fields;
  if (concat && filterable(module, 'name')) {
    // The full name's value and word starts already cover its parts' (first_name, last_name).
    words = ['name', ...words.filter((w) => w !== 'name' && !concat.includes(w))];
  }
  if (!words.length && filterable(module, 'name')) words.push('name');
  const email = Object.values(module.fields).find((f) => f.cane_email === 'all')?.name;
  const phones = words.filter((name) => module.fields[name].type === 'phone');
  return { words, phones, email };
}

/**
 * Modules global search covers: those Sugar's dictionaries mark unified_search, the ones enabled
 * by default (unified_search_default_enabled) first, then by name.
 */
export function searchableModules(registry: Registry): ModuleDef[] {
  const modules = [...registry.modules.values()].filter((m) => m.dictionary.unified_search === true && searchFields(m).words.length);
  const rank = (m: ModuleDef) => (m.dictionary.unified_search_default_enabled === true ? 0 : 1);
  return modules.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}
