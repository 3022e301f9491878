import type { Knex } from 'knex';
import type { ModuleDef } from '../metadata/registry';
import type { Filter } from '../query/filter-to-knex';
import type { Actor } from '../records/actor';
import type { RecordService } from '../records/record-service';
import { MAX_PAGE } from '../records/queries';
import { fieldColumn, recordRows } from '../records/custom-fields';

const PHONE_FIELDS = ['phone_mobile', 'phone_work', 'phone_office', 'phone_home'];
const CHUNK = 500;
const low = (v: unknown) => String(v ?? '').trim().toLowerCase();

/**
 * The existing record each row duplicates, for a whole batch at once: the duplicate rule
 * (last + first name, or name; e-mail address, any of the record's, without case; phone number)
 * asked as one `$in` query per rule and chunk instead of an `$or` per row, which no index serves
 * and which would scan the table once per row. Only records the actor may see are found. Names match exactly (without case),
 * where Sugar's check for companies also takes names that start the same.
 */
export async function findDuplicates(records: RecordService, knex: Knex, actor: Actor, module: ModuleDef, rows: Array<Record<string, string>>): Promise<Array<string | undefined>> {
  const found: Array<string | undefined> = new Array(rows.length).fill(undefined);
  const take = (i: number, id: string | undefined) => { if (id && !found[i]) found[i] = id; };
  const person = Boolean(module.fields.last_name);
  const nameField = person ? 'last_name' : module.fields.name && !module.fields.name.db_concat_fields ? 'name' : undefined;

  const lookup = async (field: string, values: string[], fields: string[]) => {
    const hits: Array<Record<string, unknown>> = [];
    const unique = [...new Set(values.filter(Boolean))];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const filter: Filter = [{ [field]: { $in: unique.slice(i, i + CHUNK) } }];
      // Every page: a common name can match more records than one page holds.
      for (let offset = 0; offset >= 0;) {
        const page = await records.list(actor, module.name, { filter, maxNum: MAX_PAGE, offset, fields: ['id', ...fields] });
        hits.push(...page.records);
        offset = page.nextOffset;
      }
    }
    return hits;
  };

  if (nameField) {
    const byName = new Map<string, Array<Record<string, unknown>>>();
    for (const r of await lookup(nameField, rows.map((r) => r[nameField]?.trim() ?? ''), person ? ['last_name', 'first_name'] : ['name'])) {
      const key = low(r[nameField]);
      byName.set(key, [...(byName.get(key) ?? []), r]);
    }
    rows.forEach((row, i) => {
      const candidates = byName.get(low(row[nameField])) ?? [];
      const match = person && row.first_name ? candidates.find((c) => low(c.first_name) === low(row.first_name)) : candidates[0];
      take(i, match?.id as string | undefined);
    });
  }

  if (module.fields.email?.cane_email === 'all') {
    // The records with each address, through the address tables' indexes, then those of them the actor may see.
    const addresses = [...new Set(rows.flatMap((r) => [r.email1, r.email2].filter(Boolean).map((a) => a.trim().toUpperCase())))];
    const addressesOf = new Map<string, string[]>();
    for (let i = 0; i < addresses.length; i += CHUNK) {
      const links: Array<{ bean_id: string; email_address_caps: string }> = await knex('email_addr_bean_rel as r').join('email_addresses as a', 'a.id', 'r.email_address_id')
        .whereIn('a.email_address_caps', addresses.slice(i, i + CHUNK)).andWhere({ 'r.bean_module': module.name, 'r.deleted': 0, 'a.deleted': 0 })
        .select('r.bean_id', 'a.email_address_caps');
      for (const link of links) addressesOf.set(link.bean_id, [...(addressesOf.get(link.bean_id) ?? []), low(link.email_address_caps)]);
    }
    const byAddress = new Map<string, string>();
    for (const r of await lookup('id', [...addressesOf.keys()], [])) {
      for (const a of addressesOf.get(r.id as string) ?? []) if (!byAddress.has(a)) byAddress.set(a, r.id as string);
    }
    rows.forEach((row, i) => take(i, [row.email1, row.email2].map((a) => byAddress.get(low(a))).find(Boolean)));
  }

  for (const field of PHONE_FIELDS.filter((f) => module.fields[f])) {
    if (!rows.some((r) => r[field])) continue;
    // Candidates from a plain scan of the column first (no index holds it; with `deleted = 0` SQLite
    // walks the index on deleted and fetches every row through it, several times slower), then the
    // ones the actor may see.
    const phones = [...new Set(rows.map((r) => r[field]?.trim() ?? '').filter(Boolean))];
    const candidates = new Set<string>();
    for (let i = 0; i < phones.length; i += CHUNK) {
      const ids: string[] = await recordRows(knex, module).clearSelect().whereIn(fieldColumn(module, module.table, field), phones.slice(i, i + CHUNK)).pluck(`${module.table}.id`);
      for (const id of ids) candidates.add(id);
    }
    const byPhone = new Map<string, string>();
    for (const r of await lookup('id', [...candidates], [field])) byPhone.set(String(r[field]).trim(), r.id as string);
    rows.forEach((row, i) => take(i, row[field] ? byPhone.get(row[field].trim()) : undefined));
  }
  return found;
}
