import type Router from '@koa/router';
import type { Context } from 'koa';
import { AccessDeniedError } from '../../errors';
import type { Actor } from '../../records/actor';
import { barChart, campaignStatusChart, lineChart } from '../../views/charts';
import { DashboardData } from './dashboard-data';
import { chosenDashlets, DASHLETS, DASHLETS_PREFERENCE, isDashlet, type DashletKey } from './dashlets';
import { readFormData } from './forms';
import type { Ui } from './ui-context';

const money = (n: number) => n.toLocaleString('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

/** The home page: the user's dashlets (opportunities, pipeline, campaign results, SMS per day, record counts) and the form to choose them. */
export function dashboardPage(router: Router, ui: Ui): void {
  const data = new DashboardData(ui.services);

  async function storedDashlets(userId: string): Promise<string | undefined> {
    const row = await ui.services.engine.db.knex('cane_user_preferences').where({ user_id: userId, name: DASHLETS_PREFERENCE }).first('value');
    return row?.value ?? undefined;
  }

  /** A dashlet the user may not read (no list access to its module) is left out, not an error page. */
  async function build(ctx: Context, key: DashletKey, actor: Actor): Promise<Record<string, unknown> | null> {
    const base = ui.base(ctx);
    try {
      switch (key) {
        case 'my_opportunities': {
          const rows = await data.myOpenOpportunities(actor);
          const stages = ui.services.engine.registry.dropdown('sales_stage_dom') ?? {};
          return {
            opportunities: rows.map((r) => ({
              name: String(r.name ?? r.id), href: `${base}/Opportunities/${encodeURIComponent(String(r.id))}`, account: r.account_name ?? '',
              stage: stages[String(r.sales_stage)] ?? r.sales_stage ?? '', amount: r.amount === null || r.amount === undefined ? '' : money(Number(r.amount)), closes: r.date_closed ?? '',
            })),
            listHref: `${base}/Opportunities`,
          };
        }
        case 'pipeline': {
          const stages = await data.pipeline(actor);
          const total = stages.reduce((s, x) => s + x.amount, 0);
          const n = stages.reduce((s, x) => s + x.count, 0);
          return {
            summary: `${plural(n, 'open opportunity', 'open opportunities')}, ${money(total)} in all`,
            chart: barChart({
              id: 'chart-pipeline', title: 'Pipeline by sales stage',
              description: `Amount and number of open opportunities per sales stage: ${stages.map((s) => `${s.label} ${money(s.amount)} (${s.count})`).join('; ') || 'none'}.`,
              bars: stages.map((s) => ({ label: s.label, value: s.amount, text: `${money(s.amount)} · ${plural(s.count, 'deal', 'deals')}` })),
              table: { head: ['Sales stage', 'Open opportunities', 'Amount'], rows: stages.map((s) => [s.label, count(s.count), money(s.amount)]) },
              emptyText: 'No open opportunities',
            }),
          };
        }
        case 'campaigns': {
          const statuses = ui.services.engine.registry.dropdown('sms_status_dom') ?? {};
          const campaigns = await data.campaignResults(actor);
          return {
            campaigns: campaigns.map((c, i) => {
              const r = c.results;
              return {
                name: c.name, href: `${base}/Campaigns/${encodeURIComponent(c.id)}/sms`,
                messages: count(r.messages), rate: r.delivery_rate === null ? 'no receipts yet' : `${r.delivery_rate} %`, optedOut: count(r.opted_out_after), replies: count(r.replies),
                chart: campaignStatusChart({ id: `chart-campaign-${i}`, campaignName: c.name, status: r.status, statusLabels: statuses }),
              };
            }),
            smsAvailable: Boolean(ui.services.sms),
          };
        }
        case 'sms_daily': {
          const { timeZone } = await ui.preferences(actor.id!);
          const days = await data.smsPerDay(actor, timeZone);
          const sent = days.reduce((s, d) => s + d.sent, 0);
          const delivered = days.reduce((s, d) => s + d.delivered, 0);
          return {
            summary: `${plural(sent, 'message', 'messages')} sent, ${count(delivered)} delivered in the last 30 days (${timeZone})`,
            chart: lineChart({
              id: 'chart-sms-daily', title: 'SMS sent and delivered per day',
              description: `Outbound text messages over the last 30 days, ${days[0].day} to ${days[days.length - 1].day}: ${count(sent)} sent, ${count(delivered)} delivered.`,
              labels: days.map((d) => d.day.slice(5)),
              series: [{ name: 'Sent', values: days.map((d) => d.sent) }, { name: 'Delivered', values: days.map((d) => d.delivered) }],
            }),
          };
        }
        case 'records': {
          const modules = [];
          for (const name of await ui.navigableModules(ctx)) {
            modules.push({ label: ui.moduleLabel(name), href: `${base}/${name}`, count: await ui.services.engine.records.count(actor, name).catch(() => undefined) });
          }
          return { modules };
        }
      }
    } catch (err) {
      if (err instanceof AccessDeniedError) return null;
      throw err;
    }
  }

  router.get('/', async (ctx) => {
    const actor = ui.actor(ctx);
    const dashlets = [];
    for (const key of chosenDashlets(await storedDashlets(actor.id!))) {
      const model = await build(ctx, key, actor);
      if (model) dashlets.push({ key, title: DASHLETS.find((d) => d.key === key)!.title, [key]: model });
    }
    await ui.render(ctx, 'home', { title: ui.label(undefined, 'LBL_HOME'), dashlets, customiseHref: `${ui.base(ctx)}/dashboard/customise` });
  });

  async function renderCustomise(ctx: Context, shown: DashletKey[], error?: string, status = 200) {
    await ui.render(ctx, 'dashboard-customise', {
      title: 'Customise the dashboard',
      action: `${ui.base(ctx)}/dashboard/customise`,
      back: ui.base(ctx),
      error,
      saved: ctx.query.saved === '1',
      // Shown ones first in their order, then the hidden ones.
      dashlets: [...shown, ...DASHLETS.map((d) => d.key).filter((k) => !shown.includes(k))].map((key, i) => ({
        key, title: DASHLETS.find((d) => d.key === key)!.title, shown: shown.includes(key),
        positions: DASHLETS.map((_, p) => ({ value: p + 1, selected: p === i })),
      })),
    }, status);
  }

  router.get('/dashboard/customise', async (ctx) => {
    await renderCustomise(ctx, chosenDashlets(await storedDashlets(ui.actor(ctx).id!)));
  });

  router.post('/dashboard/customise', async (ctx) => {
    const form = await readFormData(ctx, 4096);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) return ui.render(ctx, 'error', { title: 'Refused', message: 'The form had no valid security token; nothing was changed. Reload the page and try again.' }, 403);
    const current = chosenDashlets(await storedDashlets(ui.actor(ctx).id!));
    const shown = form.all('show');
    const unknown = shown.find((k) => !isDashlet(k));
    if (unknown !== undefined) return renderCustomise(ctx, current, `show: there is no dashlet called "${unknown}"; nothing was saved.`, 422);
    const positions = new Map<string, number>();
    for (const { key } of DASHLETS) {
      const raw = form.get(`position_${key}`) ?? '';
      const n = Number(raw);
      if (raw !== '' && (!Number.isInteger(n) || n < 1 || n > DASHLETS.length)) {
        return renderCustomise(ctx, current, `position_${key}: the position must be a whole number from 1 to ${DASHLETS.length}, got "${raw}"; nothing was saved.`, 422);
      }
      positions.set(key, raw === '' ? DASHLETS.length : n);
    }
    const order = DASHLETS.map((d) => d.key as string);
    const chosen = [...new Set(shown)].sort((a, b) => positions.get(a)! - positions.get(b)! || order.indexOf(a) - order.indexOf(b));
    await ui.setPreference(ui.actor(ctx).id!, DASHLETS_PREFERENCE, chosen.join(','));
    ctx.redirect(`${ui.base(ctx)}/dashboard/customise?saved=1`);
  });
}
