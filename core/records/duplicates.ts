import type { ModuleDef } from '../metadata/registry';
import type { Filter } from '../query/filter-to-knex';

/**
 * Sugar's duplicate check as a filter: records that look like `record` — people by last name (and
 * first name when given), companies and everything else with a name by a name that starts the
 * same, and any of them by one of the record's e-mail addresses. Undefined when the record gives
 * nothing to compare.
 */
export function duplicateFilter(module: ModuleDef, record: Record<string, unknown>): Filter | undefined {
  const text = (name: string) => (typeof record[name] === 'string' && (record[name] as string).trim() ? (record[name] as string).trim() : undefined);
  const alike: Filter = [];
  if (module.fields.last_name && text('last_name')) {
    alike.push(text('first_name') && module.fields.first_name ? { last_name: text('last_name'), first_name: text('first_name') } : { last_name: text('last_name') });
  } else if (module.fields.name && !module.fields.last_name && text('name')) {
    alike.push({ name: { $starts: text('name') } });
  }
  const addresses = emailsOf(record);
  if (addresses.length && module.fields.email?.cane_email === 'all') alike.push({ email: { $in: addresses } });
  if (!alike.length) return undefined;
  const filter: Filter = [{ $or: alike }];
  if (text('id')) filter.push({ id: { $not_equals: text('id') } });
  return filter;
}

function emailsOf(record: Record<string, unknown>): string[] {
  const found = [record.email1, record.email2].filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  if (Array.isArray(record.email)) {
    for (const entry of record.email) {
      const address = entry && typeof entry === 'object' ? (entry as Record<string, unknown>).email_address : undefined;
      if (typeof address === 'string' && address.trim()) found.push(address);
    }
  }
  return [...new Set(found.map((a) => a.trim()))];
}
