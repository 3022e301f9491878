import type { CrmServices } from '../../app/services';
import type { Actor } from '../../records/actor';
import type { SmsCampaigns } from '../../sms/campaigns';
import { formatDate, formatDateTime } from '../../records/time';
import { utcToZoned, zonedToUtc } from '../../views/time-zone';

/** Stages after which an opportunity is no longer open (Sugar's closed stages). */
export const CLOSED_STAGES = ['Closed Won', 'Closed Lost'];

/** How long the dashboard shows a campaign's results before reading them again. */
export const RESULTS_TTL_MS = 30_000;

type CampaignResults = Awaited<ReturnType<SmsCampaigns['results']>>;

export interface StageTotal { stage: string; label: string; count: number; amount: number }
export interface DayCount { day: string; sent: number; delivered: number }

/**
 * The numbers behind the home dashboard, each read under the user's access: list pages' access
 * check and owner scope for aggregates, the record service for rows.
 */
export class DashboardData {
  private readonly results = new Map<string, { at: number; value: CampaignResults }>();

  constructor(private readonly services: CrmServices) {}

  private get engine() { return this.services.engine; }

  /** The user's own open opportunities, soonest close date first. */
  async myOpenOpportunities(actor: Actor, limit = 10) {
    const page = await this.engine.records.list(actor, 'Opportunities', {
      filter: [{ assigned_user_id: actor.id ?? '' }, { sales_stage: { $not_in: CLOSED_STAGES } }],
      orderBy: [{ field: 'date_closed', direction: 'asc' }],
      fields: ['id', 'name', 'account_name', 'sales_stage', 'amount', 'currency_id', 'date_closed'],
      maxNum: limit,
    });
    return page.records;
  }

  /** Count and amount (in the system currency) per sales stage of the open opportunities the user may list, in the stage list's order. */
  async pipeline(actor: Actor): Promise<StageTotal[]> {
    const module = this.engine.registry.module('Opportunities');
    const { knex } = this.engine.db;
    await this.engine.context.access.check(actor, module, 'list');
    const query = knex({ [module.table]: module.table })
      .where(`${module.table}.deleted`, 0)
      .where((q) => q.whereNotIn(`${module.table}.sales_stage`, CLOSED_STAGES).orWhereNull(`${module.table}.sales_stage`));
    await this.engine.context.access.scope(actor, module, 'list', query, module.table);
    const rows: Array<Record<string, unknown>> = await query.groupBy(`${module.table}.sales_stage`)
      .select({ stage: `${module.table}.sales_stage` })
      .count({ n: '*' })
      .sum({ amount: knex.raw('COALESCE(??, ??)', [`${module.table}.amount_usdollar`, `${module.table}.amount`]) });
    const labels = this.engine.registry.dropdown('sales_stage_dom') ?? {};
    const order = Object.keys(labels);
    return rows
      .map((r) => ({ stage: String(r.stage ?? ''), label: labels[String(r.stage ?? '')] ?? (String(r.stage ?? '') || 'No stage'), count: Number(r.n), amount: Math.round(Number(r.amount ?? 0) * 100) / 100 }))
      .sort((a, b) => rank(order, a.stage) - rank(order, b.stage));
  }

  /** The latest SMS campaigns the user may list, each with its results (as on the campaign's SMS page). */
  async campaignResults(actor: Actor, limit = 3) {
    const campaigns = this.services.sms?.campaigns;
    if (!campaigns) return [];
    const page = await this.engine.records.list(actor, 'Campaigns', {
      filter: [{ campaign_type: 'SMS' }],
      orderBy: [{ field: 'date_entered', direction: 'desc' }],
      fields: ['id', 'name', 'status'],
      maxNum: limit,
    });
    const out = [];
    for (const c of page.records) out.push({ id: String(c.id), name: String(c.name ?? c.id), results: await this.cachedResults(String(c.id)) });
    return out;
  }

  /**
   * results() reads every message of a campaign (about half a second for 100,000 on SQLite); the home
   * page is opened far more often than numbers change, so each campaign's are kept for RESULTS_TTL_MS
   * in this process. The campaign's own page always reads them fresh.
   */
  private async cachedResults(campaignId: string) {
    const now = this.engine.context.clock().getTime();
    const hit = this.results.get(campaignId);
    if (hit && now - hit.at < RESULTS_TTL_MS) return hit.value;
    const value = await this.services.sms!.campaigns.results(campaignId);
    if (this.results.size >= 200) this.results.delete(this.results.keys().next().value!);
    this.results.set(campaignId, { at: now, value });
    return value;
  }

  /**
   * Outbound SMS the user may list, per day of the user's time zone over the last `days` days
   * (today included): sent means the provider took the message (it has a provider id), delivered
   * that a receipt said so. The days' bounds are computed here and bucketed with one CASE, so the
   * query is the same on every database.
   */
  async smsPerDay(actor: Actor, timeZone: string, days = 30): Promise<DayCount[]> {
    const module = this.engine.registry.module('SMS');
    const { knex } = this.engine.db;
    await this.engine.context.access.check(actor, module, 'list');
    const today = utcToZoned(formatDateTime(this.engine.context.clock()), timeZone).slice(0, 10);
    const labels = Array.from({ length: days + 1 }, (_, i) => addDays(today, i - days + 1));
    // starts[i] is the UTC instant day i begins; starts[days] is tomorrow, the end of the window.
    const starts = labels.map((d) => zonedToUtc(`${d}T00:00`, timeZone)!);
    const t = module.table;
    const col = `${t}.date_entered`;
    const bucket = knex.raw(`CASE ${starts.slice(1, days).map(() => 'WHEN ?? < ? THEN ?').join(' ')} ELSE ${days - 1} END`, starts.slice(1, days).flatMap((s, i) => [col, s, i]));
    const query = knex({ [t]: t }).where(`${t}.deleted`, 0).where(`${t}.direction`, 'outbound').where(col, '>=', starts[0]).where(col, '<', starts[days]);
    await this.engine.context.access.scope(actor, module, 'list', query, t);
    const rows: Array<Record<string, unknown>> = await query
      .select({ bucket })
      .sum({ sent: knex.raw('CASE WHEN ??.provider_message_id IS NOT NULL THEN 1 ELSE 0 END', [t]) })
      .sum({ delivered: knex.raw("CASE WHEN ??.status = 'delivered' THEN 1 ELSE 0 END", [t]) })
      .groupBy('bucket');
    const byBucket = new Map(rows.map((r) => [Number(r.bucket), r]));
    return labels.slice(0, days).map((day, i) => ({ day, sent: Number(byBucket.get(i)?.sent ?? 0), delivered: Number(byBucket.get(i)?.delivered ?? 0) }));
  }
}

/** 'YYYY-MM-DD' plus n calendar days. */
function addDays(day: string, n: number): string {
  return formatDate(new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000));
}

function rank(order: string[], stage: string): number {
  const i = order.indexOf(stage);
  return i < 0 ? order.length : i;
}
