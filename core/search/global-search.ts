import type { Engine } from '../app/engine';
import type { AclPolicy } from '../security/acl';
import type { Actor } from '../records/actor';
import type { RecordData } from '../records/read';
import type { ModuleDef } from '../metadata/registry';
import type { Filter } from '../query/filter-to-knex';
import { LIKE_ESCAPE, likePattern, searchBoxText } from '../query/like-pattern';
import { FilterError } from '../errors';
import { isStored } from '../metadata/field-types';
import type { OrderBy } from '../query/order-by';
import { searchFields, searchableModules } from './search-fields';

/** Longer search text is refused: nobody types it, and every character is work for LIKE. */
export const MAX_SEARCH_LENGTH = 100;

export interface SearchGroup {
  module: string;
  /** Matching records the user may list. */
  total: number;
  records: RecordData[];
}

/** Beyond this many records matched by e-mail, the filter keeps the e-mail subquery instead of listing their ids. */
const EMAIL_ID_LIMIT = 500;

/**
 * The filter global search uses in one module: a name, phone or other unified-search field whose
 * value, or one of its words, starts with the text; or an e-mail address starting with it. The
 * text follows Sugar's wildcard rules (`%` and `*` match anything, see like-pattern.ts), so
 * `%Finch` or `Fi%ch` find "Blue Finch Bank" too. `emailIds`, when known, are the records whose
 * address matches: listing them (or leaving the e-mail out when there are none) lets the database
 * answer the rest from the name index alone.
 */
export function globalSearchFilter(module: ModuleDef, text: string, emailIds?: string[]): Filter {
  const value = searchBoxText(text);
  const { words, phones, email } = searchFields(module);
  // A phone number never matches text without a digit; leaving those fields out saves two LIKEs per row each.
  const fields = /\d/.test(value) ? words : words.filter((name) => !phones.includes(name));
  const any: Filter = [];
  for (const name of fields) any.push({ [name]: { $starts: value } }, { [name]: { $contains: ` ${value}` } });
  if (email && emailIds === undefined) any.push({ [email]: { $starts: value } });
  else if (emailIds?.length) any.push({ id: { $in: emailIds } });
  // Only the name column left: `name >= ''` (true wherever LIKE can match) is a range on the name
  // index, which MySQL/MariaDB then scans instead of reading every row through the `deleted` index.
  const nameOnly = fields.length === 1 && fields[0] === 'name' && isStored(module.fields.name) && any.length === 2;
  return nameOnly ? [{ $or: any }, { name: { $gte: '' } }] : [{ $or: any }];
}

/** The search text, checked: trimmed, not too long. Empty text finds nothing. */
export function searchText(raw: unknown, parameter = 'q'): string {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text.length > MAX_SEARCH_LENGTH) throw new FilterError(`${parameter}: at most ${MAX_SEARCH_LENGTH} characters are searched, got ${text.length}`, { field: parameter, rule: 'maxLength' });
  return text;
}

/** Searches across modules with the actor's rights: modules the actor may not list are left out, owner-only access sees its own records. */
export class GlobalSearch {
  constructor(private readonly engine: Engine, private readonly acl: AclPolicy) {}

  /** Modules searched for this actor: the requested ones (all searchable by default) the actor may list. */
  async modules(actor: Actor, requested?: string[]): Promise<ModuleDef[]> {
    const all = searchableModules(this.engine.registry);
    if (requested?.length) {
      const unknown = requested.filter((name) => !all.some((m) => m.name === name));
      if (unknown.length) throw new FilterError(`module_list: ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not searchable (searchable: ${all.map((m) => m.name).join(', ')})`, { field: 'module_list', rule: 'enum' });
    }
    const chosen = requested?.length ? all.filter((m) => requested.includes(m.name)) : all;
    const allowed: ModuleDef[] = [];
    for (const module of chosen) if ((await this.acl.level(actor, module, 'list')) > 0) allowed.push(module);
    return allowed;
  }

  /** The module's search filter, with the records matched by e-mail looked up first (see globalSearchFilter). */
  async filter(module: ModuleDef, text: string): Promise<Filter> {
    if (!searchFields(module).email) return globalSearchFilter(module, text);
    const { knex } = this.engine.db;
    const rows: Array<{ bean_id: string }> = await knex('email_addr_bean_rel as r').join('email_addresses as a', 'a.id', 'r.email_address_id')
      .where({ 'r.bean_module': module.name, 'r.deleted': 0, 'a.deleted': 0 })
      .whereRaw(`a.email_address LIKE ? ESCAPE '${LIKE_ESCAPE}'`, [likePattern(searchBoxText(text), 'starts', 'q')])
      .distinct('r.bean_id').limit(EMAIL_ID_LIMIT + 1);
    const ids = rows.map((r) => r.bean_id);
    return globalSearchFilter(module, text, ids.length > EMAIL_ID_LIMIT ? undefined : ids);
  }

  count(actor: Actor, module: ModuleDef, filter: Filter): Promise<number> {
    return this.engine.records.count(actor, module.name, { filter });
  }

  async page(actor: Actor, module: ModuleDef, filter: Filter, offset: number, maxNum: number): Promise<RecordData[]> {
    const page = await this.engine.records.list(actor, module.name, {
      filter, offset, maxNum, fields: resultFields(module),
      orderBy: resultOrder(module),
    });
    return page.records;
  }

  /** Results grouped by module: each module's total and its first `perModule` matches by name. */
  async grouped(actor: Actor, rawText: string, options: { modules?: string[]; perModule?: number } = {}): Promise<SearchGroup[]> {
    const text = searchText(rawText);
    if (!text) return [];
    const groups: SearchGroup[] = [];
    for (const module of await this.modules(actor, options.modules)) {
      const filter = await this.filter(module, text);
      const total = await this.count(actor, module, filter);
      if (!total) continue;
      groups.push({ module: module.name, total, records: await this.page(actor, module, filter, 0, options.perModule ?? 5) });
    }
    return groups;
  }

  /**
   * One page across modules, as Sugar's /globalsearch answers: the matches of the first module,
   * then the next, `maxNum` from `offset`, with the total over all modules.
   */
  async flat(actor: Actor, rawText: string, options: { modules?: string[]; offset: number; maxNum: number }): Promise<{ total: number; records: Array<{ module: string; record: RecordData }> }> {
    const text = searchText(rawText);
    if (!text) return { total: 0, records: [] };
    const modules = await this.modules(actor, options.modules);
    const filters = await Promise.all(modules.map((m) => this.filter(m, text)));
    const counts = await Promise.all(modules.map((m, i) => this.count(actor, m, filters[i])));
    const total = counts.reduce((a, b) => a + b, 0);
    const records: Array<{ module: string; record: RecordData }> = [];
    let skip = options.offset;
    for (const [i, module] of modules.entries()) {
      const wanted = options.maxNum - records.length;
      if (wanted <= 0) break;
      if (skip >= counts[i]) { skip -= counts[i]; continue; }
      for (const record of await this.page(actor, module, filters[i], skip, wanted)) records.push({ module: module.name, record });
      skip = 0;
    }
    return { total, records };
  }
}

/** What a result shows: its name, the searched fields, the primary e-mail and who has it. */
function resultFields(module: ModuleDef): string[] {
  const { words } = searchFields(module);
  const wanted = ['id', 'name', ...words, 'email1', 'assigned_user_id', 'assigned_user_name', 'date_modified'];
  return [...new Set(wanted)].filter((name) => module.fields[name]);
}

/**
 * Matches by name (a person's by last then first name): results read alphabetically, and the
 * database walks the name index in order and stops after a page instead of sorting every match.
 */
function resultOrder(module: ModuleDef): OrderBy[] {
  const name = module.fields.name;
  // Then `deleted` (one value here): the order of Sugar's name indexes (name, deleted), which MySQL needs to read them in order.
  const deleted: OrderBy[] = module.fields.deleted && isStored(module.fields.deleted) ? [{ field: 'deleted', direction: 'asc' }] : [];
  if (name && (isStored(name) || name.sort_on || name.db_concat_fields)) return [{ field: 'name', direction: 'asc' }, ...deleted];
  return module.fields.date_modified ? [{ field: 'date_modified', direction: 'desc' }] : [];
}
