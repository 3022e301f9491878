import crypto from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { CaneError, ValidationError } from '../../errors';
import { MAX_BACKGROUND_RECIPIENTS, type SendRequest } from '../../sms/compose';
import type { SmsService } from '../../sms/sms-service';
import { DEFAULT_PHONE_FIELD, phoneFields, RECIPIENT_MODULES } from '../../sms/phone-index';
import { readJson } from '../middleware/body';
import { FormData, readFormData } from './forms';
import { listFilter } from './list-page';
import { smsCampaignPage } from './sms-campaign-page';
import type { Ui } from './ui-context';

const MAX_LISTED = 20;

/**
 * Sending SMS from the UI: the compose page (from a record's "Send SMS" button, a list's mass
 * action, or quick send to a typed number), a JSON preview for the live counter, and the result page.
 */
export function smsPages(router: Router, ui: Ui): void {
  const { engine } = ui.services;
  if (!ui.services.sms) return;
  const sms: SmsService = ui.services.sms;

  /** The recipients a compose form carries, as a send request. */
  const recipients = (form: FormData): Pick<SendRequest, 'to' | 'parent_type' | 'parent_id' | 'records'> => {
    const module = form.get('module') ?? '';
    const ids = form.all('ids').filter((id) => /^[\w.-]{1,36}$/.test(id));
    if (module && ids.length) return ids.length === 1 ? { parent_type: module, parent_id: ids[0] } : { records: ids.map((id) => ({ module, id })) };
    if (form.get('parent_type') && form.get('parent_id')) return { parent_type: form.get('parent_type'), parent_id: form.get('parent_id') };
    const to = (form.get('to') ?? '').split(/[,;\n]+/).map((n) => n.trim()).filter(Boolean);
    return to.length ? { to: to.length === 1 ? to[0] : to } : {};
  };

  /** "All records matching the search" chosen on a list: the module and the list's search, carried as its query string. */
  const entireList = (form: FormData) => {
    const module = form.get('module') ?? '';
    if (form.get('select_entire_list') !== '1' || !RECIPIENT_MODULES.includes(module)) return undefined;
    const query = form.get('list_query') ?? '';
    return { module, query, filter: listFilter(engine.registry.module(module), Object.fromEntries(new URLSearchParams(query))) };
  };

  /**
   * Every record the list's search matches (up to what a send in the background takes), 1,000 ids
   * per query by keyset on id, so records added or removed meanwhile shift nothing.
   */
  const matchingRecords = async (ctx: Context, list: NonNullable<ReturnType<typeof entireList>>) => {
    const tooMany = () => new ValidationError('SMS', [{ field: 'records', rule: 'maxItems', message: `more than ${MAX_BACKGROUND_RECIPIENTS} records match the search; narrow it, or use a campaign` }]);
    if ((await engine.records.count(ui.actor(ctx), list.module, { filter: list.filter })) > MAX_BACKGROUND_RECIPIENTS) throw tooMany();
    const records: Array<{ module: string; id: string }> = [];
    for (let after: string | undefined; ;) {
      const filter = after === undefined ? list.filter : [...list.filter, { id: { $gt: after } }];
      const page = await engine.records.list(ui.actor(ctx), list.module, { filter, fields: ['id'], orderBy: [{ field: 'id', direction: 'asc' }], maxNum: 1000 });
      records.push(...page.records.map((r) => ({ module: list.module, id: r.id })));
      if (records.length > MAX_BACKGROUND_RECIPIENTS) throw tooMany();
      if (page.nextOffset < 0 || !page.records.length) return records;
      after = page.records[page.records.length - 1].id;
    }
  };

  /** The first records the list's search matches, in the order a send goes through them. */
  const firstMatching = (ctx: Context, list: NonNullable<ReturnType<typeof entireList>>, fields: string[]) =>
    engine.records.list(ui.actor(ctx), list.module, { filter: list.filter, fields, orderBy: [{ field: 'id', direction: 'asc' }], maxNum: MAX_LISTED });

  const request = (form: FormData): SendRequest => {
    const templateId = form.get('template_id') ?? '';
    const phoneField = form.get('phone_field') ?? '';
    return {
      ...recipients(form),
      ...(templateId ? { template_id: templateId } : { body: form.get('body') ?? '' }),
      ...(phoneField ? { phone_field: phoneField } : {}),
    };
  };

  /**
   * The compose page carries a key made when it was shown, so sending the same message from it again
   * (a double click, a resubmit after a timeout or a crash) finds the messages already queued instead
   * of sending twice. The message is part of the key: an edited text is a new send.
   */
  const idempotencyKey = (form: FormData): string | undefined => {
    const page = form.get('send_page_key') ?? '';
    if (!/^[0-9a-f-]{36}$/.test(page)) return undefined;
    const message = crypto.createHash('sha1').update(JSON.stringify([form.get('template_id') ?? '', form.get('template_id') ? '' : form.get('body') ?? '', form.get('phone_field') ?? ''])).digest('hex');
    return `ui:${page}:${message}`;
  };

  async function compose(ctx: Context, form: FormData, problems: Array<{ field: string; message: string }> = []) {
    const actor = ui.actor(ctx);
    const req = recipients(form);
    const list = entireList(form);
    const module = list?.module ?? req.parent_type ?? req.records?.[0]?.module;
    let ids = req.parent_id ? [req.parent_id] : req.records?.map((r) => r.id) ?? [];
    const names: string[] = [];
    let count = ids.length;
    if (list) {
      const first = await firstMatching(ctx, list, ['id', 'name']);
      count = await engine.records.count(actor, list.module, { filter: list.filter });
      ids = first.records.map((r) => r.id);
      names.push(...first.records.map((r) => String(r.name ?? r.id)));
    } else {
      for (const id of ids.slice(0, MAX_LISTED)) {
        const record = await engine.records.retrieve(actor, module!, id, { fields: ['id', 'name'] }).catch(() => undefined);
        names.push(record ? String(record.name ?? id) : `${id} (not found)`);
      }
    }
    const templates = await engine.records.list(actor, 'SMSTemplates', { maxNum: 200, fields: ['id', 'name', 'template_module', 'template_type'], orderBy: [{ field: 'name', direction: 'asc' }] }).catch(() => ({ records: [] }));
    const moduleDef = module && engine.registry.modules.has(module) ? engine.registry.module(module) : undefined;
    const chosenField = form.get('phone_field') ?? (module ? DEFAULT_PHONE_FIELD[module] : undefined);
    await ui.render(ctx, 'sms-compose', {
      title: count > 1 ? `Send SMS to ${count} ${ui.moduleLabel(module!)}` : 'Send SMS',
      moduleName: 'SMS',
      action: `${ui.base(ctx)}/SMS/send`,
      previewUrl: `${ui.base(ctx)}/SMS/preview`,
      quick: !module,
      to: form.get('to') ?? '',
      module,
      ids: list ? [] : ids,
      entireList: list ? { query: list.query } : undefined,
      background: Boolean(list),
      parentType: req.parent_type,
      recipients: names.map((name, i) => ({ name, href: `${ui.base(ctx)}/${module}/${encodeURIComponent(ids[i])}` })),
      more: Math.max(0, count - MAX_LISTED),
      phoneFields: moduleDef ? phoneFields(moduleDef).map((f) => ({ name: f, label: ui.label(module, String(moduleDef.fields[f].vname ?? f)), selected: f === chosenField })) : [],
      templates: templates.records.filter((t) => !t.template_module || !module || t.template_module === module).map((t) => ({ id: t.id, name: t.name, type: t.template_type, selected: t.id === form.get('template_id') })),
      body: form.get('body') ?? '',
      sendPageKey: /^[0-9a-f-]{36}$/.test(form.get('send_page_key') ?? '') ? form.get('send_page_key') : crypto.randomUUID(),
      problems,
      provider: sms.provider.name,
      region: sms.config.defaultRegion,
    }, problems.length ? 422 : 200);
  }

  router.get('/SMS/compose', async (ctx) => {
    const form = FormData.of(ctx.query);
    if (form.get('parent_type') && !RECIPIENT_MODULES.includes(form.get('parent_type')!)) throw new CaneError('invalid_parameter', `${form.get('parent_type')} records cannot receive SMS`, 422);
    await compose(ctx, form);
  });

  // From a list's mass action: the selected rows arrive as ids, the module in the query.
  router.post('/SMS/compose', async (ctx) => {
    const form = await readFormData(ctx, ui.services.bodyLimit);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) throw new CaneError('invalid_parameter', 'The form had no valid security token. Reload the page and try again.', 403);
    const module = String(ctx.query.module ?? form.get('module') ?? '');
    if (!RECIPIENT_MODULES.includes(module)) throw new CaneError('invalid_parameter', `${module || 'These'} records cannot receive SMS`, 422);
    const ids = form.all('ids');
    if (!ids.length && form.get('select_entire_list') !== '1') throw new CaneError('invalid_parameter', 'Select at least one record first.', 422);
    await compose(ctx, form.with('module', module));
  });

  router.post('/SMS/preview', async (ctx) => {
    const body = (await readJson(ctx, ui.services.bodyLimit)) as Record<string, unknown>;
    if (!ui.sessions.checkCsrf(ctx, typeof body?.csrf === 'string' ? body.csrf : undefined)) throw new CaneError('invalid_parameter', 'No valid security token', 403);
    const form = FormData.of((body?.fields ?? {}) as Record<string, unknown>);
    try {
      const req = request(form);
      const list = entireList(form);
      if (list) {
        // the text as the first matching records get it
        const first = await firstMatching(ctx, list, ['id']);
        if (first.records.length) req.records = first.records.map((r) => ({ module: list.module, id: r.id }));
      }
      if (!req.to && !req.parent_id && !req.records) req.to = '+15005550006'; // quick send before a number is typed: count only
      if (req.body !== undefined && req.body.trim() === '') {
        ctx.body = { empty: true };
        return;
      }
      ctx.body = await sms.preview(ui.actor(ctx), req);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      ctx.body = { problems: err.problems };
    }
  });

  /** Consent of a record's numbers (or one typed number): current state, history, and a form to change it. */
  router.get('/SMS/consent', async (ctx) => {
    const actor = ui.actor(ctx);
    const module = String(ctx.query.module ?? '');
    const id = String(ctx.query.id ?? '');
    const entries: Array<{ field: string; raw: string }> = [];
    let title = 'SMS consent';
    let back = `${ui.base(ctx)}/SMS`;
    if (module && id) {
      if (!RECIPIENT_MODULES.includes(module)) throw new CaneError('invalid_parameter', `${module} records have no SMS consent`, 422);
      const record = await engine.records.retrieve(actor, module, id);
      title = `SMS consent: ${String(record.name ?? id)}`;
      back = `${ui.base(ctx)}/${module}/${encodeURIComponent(id)}`;
      for (const field of phoneFields(engine.registry.module(module))) if (record[field]) entries.push({ field: ui.label(module, String(engine.registry.module(module).fields[field].vname ?? field)), raw: String(record[field]) });
    } else if (ctx.query.number) {
      entries.push({ field: 'Number', raw: String(ctx.query.number) });
    }
    const numbers = [];
    for (const entry of entries) {
      const info = await sms.consentOf(actor, entry.raw).catch((err) => {
        if (err instanceof ValidationError) return undefined;
        throw err;
      });
      numbers.push({ ...entry, phone: info?.phone, invalid: !info, state: info?.state, stateLabel: info ? engine.registry.dropdown('sms_consent_dom')?.[info.state] ?? info.state : undefined, history: (info?.history ?? []).map((h) => ({ ...h, date: String(h.date_entered).slice(0, 19) })) });
    }
    await ui.render(ctx, 'sms-consent', { title, moduleName: 'SMS', numbers, back, action: `${ui.base(ctx)}/SMS/consent`, returnTo: ctx.originalUrl, notice: typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 200) : undefined });
  });

  router.post('/SMS/consent', async (ctx) => {
    const form = await readFormData(ctx, ui.services.bodyLimit);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) throw new CaneError('invalid_parameter', 'The form had no valid security token; nothing was changed.', 403);
    const state = form.get('state') === 'opted_in' ? 'opted_in' : form.get('state') === 'opted_out' ? 'opted_out' : undefined;
    if (!state) throw new CaneError('invalid_parameter', "state must be 'opted_in' or 'opted_out'", 422);
    const result = await sms.setConsent(ui.actor(ctx), form.get('number') ?? '', state, 'ui', (form.get('note') ?? '').slice(0, 200) || undefined);
    const back = form.get('return_to') ?? '';
    const target = back.startsWith(`${ui.base(ctx)}/SMS/consent`) ? back : `${ui.base(ctx)}/SMS/consent?number=${encodeURIComponent(result.phone)}`;
    const url = new URL(target, 'http://x');
    url.searchParams.set('notice', `${result.phone} is now ${state === 'opted_in' ? 'opted in' : 'opted out'}`);
    ctx.redirect(`${url.pathname}${url.search}`);
  });

  router.post('/SMS/send', async (ctx) => {
    const form = await readFormData(ctx, ui.services.bodyLimit);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) throw new CaneError('invalid_parameter', 'The form had no valid security token; nothing was sent. Reload the page and try again.', 403);
    const key = idempotencyKey(form);
    const list = entireList(form);
    if (list) {
      // Every matching record: sent in the background, followed on its progress page.
      try {
        const records = await matchingRecords(ctx, list);
        if (!records.length) throw new ValidationError('SMS', [{ field: 'records', rule: 'required', message: 'no record matches the search any more' }]);
        const { send } = await sms.sends.submit(ui.actor(ctx), { ...request(form), records, ...(key ? { idempotency_key: key } : {}) }, { sameKeyWins: true });
        return ctx.redirect(`${ui.base(ctx)}/SMS/sends/${encodeURIComponent(send.id)}`);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return compose(ctx, form, err.problems.map((p) => ({ field: p.field, message: `${p.field}: ${p.message}` })));
      }
    }
    const req: SendRequest = { ...request(form), ...(key ? { idempotency_key: key } : {}) };
    const many = (req.records?.length ?? 0) > 1 || Array.isArray(req.to);
    let result;
    try {
      result = await sms.send(ui.actor(ctx), req, req.to ? 'quick' : many ? 'bulk' : 'record');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return compose(ctx, form, err.problems.map((p) => ({ field: p.field, message: `${p.field}: ${p.message}` })));
    }
    // Back to where the send started: the record, or the list its records were chosen from.
    const from = req.records?.length ? req.records : req.parent_type && req.parent_id ? [{ module: req.parent_type, id: req.parent_id }] : [];
    const fromModule = from.length && engine.registry.modules.has(from[0].module) ? from[0].module : undefined;
    const back = fromModule
      ? from.length === 1
        ? { href: `${ui.base(ctx)}/${fromModule}/${encodeURIComponent(from[0].id)}`, label: `Back to ${String(result.records[0]?.parent_name || ui.singular(fromModule))}` }
        : { href: `${ui.base(ctx)}/${fromModule}`, label: `Back to ${ui.moduleLabel(fromModule)}` }
      : undefined;
    await ui.render(ctx, 'sms-result', {
      title: 'SMS',
      back,
      moduleName: 'SMS',
      queued: result.records.map((r) => ({ href: `${ui.base(ctx)}/SMS/${encodeURIComponent(r.id)}`, to: r.to_number, name: r.parent_name || r.to_number, status: r.status })),
      refused: result.refused.map((r) => ({ who: r.to ?? `${r.module} ${r.id}`, reason: r.reason })),
      listHref: `${ui.base(ctx)}/SMS`,
    }, result.records.length || !result.refused.length ? 200 : 422);
  });

  /** A send to many in the background: its progress (JSON with ?format=json, for the page's poller), refusals, and cancel. */
  router.get('/SMS/sends/:id', async (ctx) => {
    const send = await sms.sends.get(ui.actor(ctx), ctx.params.id);
    if (ctx.query.format === 'json') {
      ctx.body = send;
      return;
    }
    const running = send.state === 'queued' || send.state === 'sending';
    await ui.render(ctx, 'sms-send-progress', {
      title: `SMS to ${send.total} recipients`,
      moduleName: 'SMS',
      send,
      running,
      stateLabel: { queued: 'Waiting to start', sending: 'Sending', complete: 'Complete', cancelled: 'Cancelled', failed: 'Failed' }[send.state],
      percent: send.total ? Math.floor((send.done / send.total) * 100) : 100,
      refusedByCode: Object.entries(send.refused_by_code).map(([code, n]) => ({ code: code.replace(/_/g, ' '), n })),
      refusals: send.refusals.slice(0, 50).map((r) => ({ who: r.to ?? `${r.module} ${r.id}`, reason: r.reason })),
      moreRefusals: Math.max(0, send.refused - 50),
      statusUrl: `${ui.base(ctx)}/SMS/sends/${encodeURIComponent(send.id)}?format=json`,
      cancelAction: running ? `${ui.base(ctx)}/SMS/sends/${encodeURIComponent(send.id)}/cancel` : undefined,
      messagesHref: `${ui.base(ctx)}/SMS`,
      notice: typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 200) : undefined,
    });
  });

  router.post('/SMS/sends/:id/cancel', async (ctx) => {
    const form = await readFormData(ctx, ui.services.bodyLimit);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) throw new CaneError('invalid_parameter', 'The form had no valid security token; nothing was changed.', 403);
    const send = await sms.sends.cancel(ui.actor(ctx), ctx.params.id);
    ctx.redirect(`${ui.base(ctx)}/SMS/sends/${encodeURIComponent(send.id)}?notice=${encodeURIComponent(`Cancelled after ${send.done} of ${send.total}. Its messages still queued are not sent; those already with the provider went.`)}`);
  });

  smsCampaignPage(router, ui, sms);
}
