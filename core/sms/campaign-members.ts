import type { Knex } from 'knex';
import { RECIPIENT_MODULES } from './phone-index';

/** One member to reach: the record and the (first) sending list it is on. */
export interface Member {
  module: string;
  id: string;
  listId: string;
}

/** Where a walk through the members stands: the last member handled (module, then id). */
export interface MemberCursor {
  module: string;
  id: string;
}

export interface CampaignList {
  id: string;
  name: string;
  list_type: string;
  members: number;
}

/** Members are walked module by module (alphabetically), then by record id. */
const MEMBER_MODULES = [...RECIPIENT_MODULES].sort();

/**
 * The members of a campaign's lists, read a page at a time by keyset (module, record id) so a
 * list of any size is never held in memory: each page is one query per module that walks the
 * join table's (related_id, related_type, prospect_list_id) key in order, each record once (on its
 * first sending list), members of exempt lists left out. Dynamic lists are members in the same
 * table (their plugin keeps them current), so they are read the same way.
 */
export class CampaignMembers {
  constructor(private readonly knex: Knex) {}

  /** The target lists linked to the campaign, with their member counts. */
  async lists(campaignId: string): Promise<CampaignList[]> {
    const knex = this.knex;
    const rows = await knex('prospect_list_campaigns as plc')
      .join('prospect_lists as pl', 'pl.id', 'plc.prospect_list_id')
      .where({ 'plc.campaign_id': campaignId, 'plc.deleted': 0, 'pl.deleted': 0 })
      .select('pl.id', 'pl.name', 'pl.list_type')
      .orderBy('pl.name');
    const counts = new Map<string, number>();
    if (rows.length) {
      const counted = await knex('prospect_lists_prospects').whereIn('prospect_list_id', rows.map((r: { id: string }) => r.id)).andWhere('deleted', 0)
        .groupBy('prospect_list_id').select('prospect_list_id').count({ n: '*' });
      for (const c of counted as Array<Record<string, unknown>>) counts.set(String(c.prospect_list_id), Number(c.n));
    }
    return rows.map((r: { id: string; name: string; list_type: string }) => ({ id: r.id, name: r.name, list_type: r.list_type || 'default', members: counts.get(r.id) ?? 0 }));
  }

  /** The lists a send reaches (default and seed, or test) and the exempt ones. */
  static split(lists: CampaignList[], test: boolean): { sending: string[]; exempt: string[] } {
    return {
      sending: lists.filter((l) => (test ? l.list_type === 'test' : l.list_type === 'default' || l.list_type === 'seed')).map((l) => l.id),
      exempt: lists.filter((l) => l.list_type === 'exempt').map((l) => l.id),
    };
  }

  /** Members of the sending lists whose related_type is `module` (or one of `module`), less those on the exempt lists. */
  private base(module: string | readonly string[], sending: string[], exempt: string[], walk = false): Knex.QueryBuilder {
    const knex = this.knex;
    // A page walks the (related_id, related_type, prospect_list_id) index from the cursor. SQLite
    // would rather read the whole list through (prospect_list_id, deleted) and sort it for every
    // page (quadratic on a large list); a unary + keeps those two columns off its index choice.
    const sqlite = walk && /sqlite/.test(String(knex.client.dialect));
    const table = walk && this.forceIndex ? knex.raw('?? FORCE INDEX (??)', ['prospect_lists_prospects as m', 'idx_plp_rel_id']) : 'prospect_lists_prospects as m';
    return knex.from(table)
      .modify((q: Knex.QueryBuilder) => (typeof module === 'string' ? q.where('m.related_type', module) : q.whereIn('m.related_type', module)))
      .modify((q: Knex.QueryBuilder) => {
        if (sqlite) q.whereRaw(`+m.prospect_list_id in (${sending.map(() => '?').join(', ')})`, sending).whereRaw('+m.deleted = 0');
        else q.whereIn('m.prospect_list_id', sending).andWhere('m.deleted', 0);
      })
      .modify((q: Knex.QueryBuilder) => {
        if (exempt.length) q.whereNotExists(knex('prospect_lists_prospects as x').whereIn('x.prospect_list_id', exempt).andWhere('x.deleted', 0).whereRaw('x.related_id = m.related_id').whereRaw('x.related_type = m.related_type'));
      });
  }

  /** MySQL/MariaDB: whether the walk names its index (the optimizer may otherwise sort the whole list for every page). */
  private forceIndex = false;
  private checked = false;

  private async chooseIndex(): Promise<void> {
    if (this.checked) return;
    this.checked = true;
    if (!/mysql/.test(String(this.knex.client.dialect))) return;
    const [rows] = await this.knex.raw("SHOW INDEX FROM prospect_lists_prospects WHERE Key_name = 'idx_plp_rel_id'");
    this.forceIndex = (rows as unknown[]).length > 0;
  }

  /** How many distinct members a send reaches. */
  async count(sending: string[], exempt: string[]): Promise<number> {
    if (!sending.length) return 0;
    // One pass over the lists, counted per module (a record id is unique within its module only).
    const rows = await this.base(MEMBER_MODULES, sending, exempt).groupBy('m.related_type').select('m.related_type').countDistinct({ n: 'm.related_id' });
    return (rows as Array<{ n: unknown }>).reduce((total, row) => total + Number(row.n), 0);
  }

  /** Up to `limit` members after `after` (from the start without it), in (module, id) order. */
  async page(sending: string[], exempt: string[], after: MemberCursor | null, limit: number): Promise<Member[]> {
    if (!sending.length) return [];
    await this.chooseIndex();
    const members: Member[] = [];
    for (const module of MEMBER_MODULES) {
      if (after && module < after.module) continue;
      const rows = await this.base(module, sending, exempt, true)
        .modify((q: Knex.QueryBuilder) => { if (after && module === after.module) q.andWhere('m.related_id', '>', after.id); })
        .groupBy('m.related_id').select('m.related_id').min({ list_id: 'm.prospect_list_id' })
        .orderBy('m.related_id').limit(limit - members.length);
      for (const r of rows as Array<{ related_id: string; list_id: string }>) members.push({ module, id: String(r.related_id), listId: String(r.list_id) });
      if (members.length >= limit) break;
    }
    return members;
  }

  /** Every member, page by page. */
  async *all(sending: string[], exempt: string[], pageSize = 1000): AsyncGenerator<Member[]> {
    let after: MemberCursor | null = null;
    for (;;) {
      const page = await this.page(sending, exempt, after, pageSize);
      if (!page.length) return;
      yield page;
      const last = page[page.length - 1];
      after = { module: last.module, id: last.id };
    }
  }
}
