import type Router from '@koa/router';
import type { Context } from 'koa';
import { CaneError, ValidationError } from '../../errors';
import type { SmsService } from '../../sms/sms-service';
import { campaignStatusChart } from '../../views/charts';
import { readFormData } from './forms';
import type { Ui } from './ui-context';

const REFUSAL_LABELS: Record<string, string> = {
  opted_out: 'Opted out', duplicate: 'Duplicate number', no_number: 'No mobile number', invalid_number: 'Invalid number',
  not_found: 'Record not found or not visible', not_recipient: 'Cannot receive SMS', template: 'Template problem', body: 'Message too long or empty',
  frequency_cap: 'Frequency cap reached', refused: 'Refused by a rule',
};

/** "1,200 of 5,000 members gone through (1,150 queued, 50 left out), 800 per second" */
function progressOf(run: { progress: { total: number | null; done: number; queued: number; refused: number; rate: number | null } } | null) {
  const p = run?.progress;
  if (!p || p.total === null) return null;
  const n = (x: number) => x.toLocaleString('en-US');
  return {
    max: Math.max(p.total, p.done), value: p.done,
    text: `${n(p.done)} of ${n(p.total)} members gone through (${n(p.queued)} queued, ${n(p.refused)} left out)${p.rate ? `, ${n(p.rate)} per second` : ''}`,
  };
}

/** A Campaign's SMS page: lists and members, the text for the first member, test send and launch, results. */
export function smsCampaignPage(router: Router, ui: Ui, sms: SmsService): void {
  const { engine } = ui.services;

  async function show(ctx: Context, id: string, templateId: string | undefined, notice?: string, problems: Array<{ field: string; message: string }> = [], status = 200, confirm?: { sendAt: string }) {
    const overview = await sms.campaigns.overview(ui.actor(ctx), id, templateId);
    const statuses = engine.registry.dropdown('sms_status_dom') ?? {};
    const r = overview.results;
    await ui.render(ctx, 'sms-campaign', {
      title: `SMS campaign: ${String(overview.campaign.name ?? id)}`,
      moduleName: 'Campaigns',
      overview,
      listTypes: overview.lists.map((l) => ({ ...l, typeLabel: engine.registry.dropdown('prospect_list_type_dom')?.[l.list_type] ?? l.list_type, href: `${ui.base(ctx)}/ProspectLists/${encodeURIComponent(l.id)}` })),
      statusRows: Object.entries(r.status).map(([s, n]) => ({ label: statuses[s] ?? s, n })),
      statusChart: Object.keys(r.status).length ? campaignStatusChart({ id: 'chart-campaign', campaignName: String(overview.campaign.name ?? id), status: r.status, statusLabels: statuses }) : undefined,
      refusedRows: Object.entries(r.refused).map(([code, n]) => ({ label: REFUSAL_LABELS[code] ?? code, n })),
      // What the user's last action was refused for is an error; what the campaign still needs is a checklist, not an error.
      problems: problems.map((p) => ({ field: p.field, message: p.message })),
      readiness: overview.problems.filter((p) => !problems.some((q) => q.field === p.field)).map((p) => ({ field: p.field, message: p.message })),
      templateOptions: overview.templates.map((t) => ({ ...t, selected: t.id === overview.template?.id })),
      previewAction: `${ui.base(ctx)}/Campaigns/${encodeURIComponent(id)}/sms`,
      rateText: r.delivery_rate === null ? 'no receipts yet' : `${r.delivery_rate} %`,
      canLaunch: overview.problems.length === 0 && !['scheduled', 'sending', 'paused'].includes(overview.run?.state ?? ''),
      confirm,
      runLabel: overview.run ? { scheduled: `scheduled for ${overview.run.send_at} UTC`, sending: 'sending', paused: 'paused', cancelled: 'cancelled', complete: 'complete' }[overview.run.state] : null,
      progress: progressOf(overview.run),
      canPause: overview.run?.state === 'scheduled' || overview.run?.state === 'sending',
      canResume: overview.run?.state === 'paused',
      canCancel: ['scheduled', 'sending', 'paused'].includes(overview.run?.state ?? ''),
      pauseAction: `${ui.base(ctx)}/Campaigns/${encodeURIComponent(id)}/sms/pause`,
      resumeAction: `${ui.base(ctx)}/Campaigns/${encodeURIComponent(id)}/sms/resume`,
      cancelAction: `${ui.base(ctx)}/Campaigns/${encodeURIComponent(id)}/sms/cancel`,
      canTest: Boolean(overview.template) && overview.test_members > 0 && overview.campaign.campaign_type === 'SMS',
      action: `${ui.base(ctx)}/Campaigns/${encodeURIComponent(id)}/sms/launch`,
      back: `${ui.base(ctx)}/Campaigns/${encodeURIComponent(id)}`,
      smsListHref: `${ui.base(ctx)}/SMS`,
      notice,
    }, status);
  }

  router.get('/Campaigns/:id/sms', async (ctx) => {
    const templateId = typeof ctx.query.template_id === 'string' ? ctx.query.template_id.slice(0, 36) : undefined;
    await show(ctx, ctx.params.id, templateId, typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 200) : undefined);
  });

  router.post('/Campaigns/:id/sms/launch', async (ctx) => {
    const form = await readFormData(ctx, ui.services.bodyLimit);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) throw new CaneError('invalid_parameter', 'The form had no valid security token; nothing was sent. Reload the page and try again.', 403);
    const test = form.get('test') === '1';
    const templateId = form.get('template_id') || undefined;
    const sendAt = (form.get('send_at') ?? '').trim();
    // A real send is confirmed first, with what it will reach and cost; a test send goes at once.
    if (!test && form.get('confirmed') !== '1') {
      await show(ctx, ctx.params.id, templateId, undefined, [], 200, { sendAt });
      return;
    }
    try {
      const launched = await sms.campaigns.launch(ui.actor(ctx), ctx.params.id, { test, template_id: templateId, ...(sendAt ? { send_at: sendAt.replace('T', ' ') } : {}) });
      const when = launched.send_at ? ` to start at ${launched.send_at} UTC` : '';
      const notice = `${test ? 'Test send' : 'Campaign'} queued for ${launched.members} ${launched.members === 1 ? 'member' : 'members'}${when}; messages go out as the queue sends them.`;
      ctx.redirect(`${ui.base(ctx)}/Campaigns/${encodeURIComponent(ctx.params.id)}/sms?template_id=${encodeURIComponent(templateId ?? '')}&notice=${encodeURIComponent(notice)}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await show(ctx, ctx.params.id, templateId, undefined, err.problems, 422);
    }
  });

  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    router.post(`/Campaigns/:id/sms/${verb}`, async (ctx) => {
      const form = await readFormData(ctx, ui.services.bodyLimit);
      if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) throw new CaneError('invalid_parameter', 'The form had no valid security token; nothing was changed. Reload the page and try again.', 403);
      try {
        const done = await sms.campaigns[verb](ui.actor(ctx), ctx.params.id);
        const extra = 'cancelled' in done ? ` ${done.cancelled} unsent ${done.cancelled === 1 ? 'message' : 'messages'} cancelled.` : '';
        ctx.redirect(`${ui.base(ctx)}/Campaigns/${encodeURIComponent(ctx.params.id)}/sms?notice=${encodeURIComponent(`The campaign's send is ${done.state}.${extra}`)}`);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        await show(ctx, ctx.params.id, undefined, undefined, err.problems, 422);
      }
    });
  }
}
