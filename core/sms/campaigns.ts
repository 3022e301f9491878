import type { Knex } from 'knex';
import type { Engine } from '../app/engine';
import { AccessDeniedError, NotFoundError, ValidationError } from '../errors';
import type { Job } from '../jobs/job-queue';
import { deterministicId } from '../jobs/schedulers';
import type { Actor } from '../records/actor';
import { emit, type Logger } from '../records/context';
import { dateFromDb, formatDateTime, parseDateTime, type Clock } from '../records/time';
import crypto from 'node:crypto';
import { SYSTEM } from '../records/actor';
import { CAMPAIGN_STATUS, CampaignRuns, type RunState } from './campaign-runs';
import { actorFor, type UserRow } from '../security/authenticate';
import type { Refusal, RefusalCode } from './compose';
import { RECIPIENT_MODULES } from './phone-index';
import { resendOf } from './send-key';
import type { SmsService } from './sms-service';

export const CAMPAIGN_JOB = 'sms.campaign';
const PAGE = 200;

interface CampaignJobData {
  campaign_id: string;
  template_id: string;
  user_id: string;
  test: boolean;
}

export interface LaunchOptions {
  template_id?: string;
  test?: boolean;
  /** When to start sending (ISO-8601 or 'Y-m-d H:i:s' UTC), at most a year ahead; default now. */
  send_at?: string;
}

export interface CampaignList {
  id: string;
  name: string;
  list_type: string;
  members: number;
}

interface Member {
  module: string;
  id: string;
  listId: string;
}

/** campaign_log activity per refusal, in Sugar's vocabulary (an SMS number stands where Sugar has an e-mail address). */
const REFUSAL_ACTIVITY: Record<RefusalCode, string> = {
  opted_out: 'blocked',
  duplicate: 'blocked',
  invalid_number: 'invalid number',
  no_number: 'invalid number',
  not_found: 'send error',
  not_recipient: 'send error',
  template: 'send error',
  body: 'send error',
};

/**
 * SMS campaigns, the way Sugar queues e-mail campaigns: the members of the campaign's `default`
 * and `seed` target lists (only `test` lists for a test send), less the members of its `exempt`
 * lists, each reached once per number. Launching queues a job that sends page by page through
 * SmsService; every message and refusal is written to campaign_log with an id derived from the
 * campaign and the target, so a relaunch or a rerun after a crash neither sends nor counts twice.
 */
export class SmsCampaigns {
  /** Where each campaign's send stands (scheduled, sending, paused, cancelled, complete). */
  readonly runs: CampaignRuns;

  constructor(private readonly engine: Engine, private readonly sms: SmsService, private readonly clock: Clock, private readonly log: Logger) {
    this.runs = new CampaignRuns(engine.db, clock);
    engine.jobs.register(CAMPAIGN_JOB, async (job, context) => ({ message: await this.run(job, context.signal) }));
  }

  /**
   * The campaign as an SMS campaign: lists and member counts, the templates to choose from, the text
   * for the first member with the chosen template (by default the one the campaign last sent), and results so far.
   */
  async overview(actor: Actor, campaignId: string, chosenTemplateId?: string) {
    const campaign = await this.engine.records.retrieve(actor, 'Campaigns', campaignId);
    const lists = await this.lists(campaignId);
    const members = await this.members(campaignId, false, lists);
    const testMembers = await this.members(campaignId, true, lists);
    const templates = (await this.engine.records.list(actor, 'SMSTemplates', { fields: ['id', 'name', 'template_type'], orderBy: [{ field: 'name', direction: 'asc' }], maxNum: 200 })).records
      .map((t) => ({ id: t.id, name: String(t.name ?? t.id), template_type: String(t.template_type ?? '') }));
    const lastUsed = await this.engine.db.knex('sms').where({ campaign_id: campaignId, deleted: 0 }).whereNotNull('template_id').orderBy('date_entered', 'desc').first('template_id');
    const templateId = chosenTemplateId || lastUsed?.template_id || undefined;
    const template = templates.find((t) => t.id === templateId) ?? null;
    // The text for the first of the first members that can receive it (some may have no number or have opted out).
    const sample = members.slice(0, 20).map((m) => ({ module: m.module, id: m.id }));
    let preview: unknown = null;
    let previewError: string | null = null;
    if (templateId && sample.length) {
      try {
        preview = (await this.sms.preview(actor, { records: sample, template_id: templateId })).first;
      } catch (err) {
        previewError = err instanceof Error ? err.message : String(err);
      }
    }
    const perMessage = (preview as { segments?: number } | null)?.segments ?? null;
    const price = this.sms.config.segmentPrice;
    const segments = perMessage === null ? null : perMessage * members.length;
    const run = await this.runs.get(campaignId);
    return {
      campaign: { id: campaign.id, name: campaign.name, campaign_type: campaign.campaign_type, status: campaign.status },
      run: run ? { state: run.state, send_at: run.sendAt } : null,
      // What a launch would cost, from the first member's text (members' texts may differ a little).
      estimate: { recipients: members.length, segments_per_message: perMessage, segments, cost: price && segments !== null ? Math.round(price.amount * segments * 10000) / 10000 : null, price_unit: price?.unit ?? null },
      template,
      templates,
      lists,
      members: members.length,
      test_members: testMembers.length,
      preview,
      preview_error: previewError,
      problems: this.launchProblems(campaign, templateId, members.length),
      results: await this.results(campaignId),
    };
  }

  /** Queues the send; answers the job and how many members it will go through. */
  async launch(actor: Actor, campaignId: string, options: LaunchOptions = {}): Promise<{ job_id: string; members: number; test: boolean; send_at?: string }> {
    if (actor.type !== 'user') throw new AccessDeniedError('SMS campaigns are launched by a user');
    const sms = this.engine.registry.module('SMS');
    await this.engine.context.access.check(actor, this.engine.registry.module('Campaigns'), 'edit');
    await this.engine.context.access.check(actor, sms, 'massupdate');
    const campaign = await this.engine.records.retrieve(actor, 'Campaigns', campaignId);
    const test = options.test === true;
    const members = await this.members(campaignId, test);
    const problems = this.launchProblems(campaign, options.template_id, members.length, test);
    if (options.template_id) {
      const found = await this.engine.records.retrieve(actor, 'SMSTemplates', options.template_id).catch((err) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      if (!found) problems.push({ field: 'template_id', rule: 'exists', message: `no SMS template with id '${options.template_id}' (or you may not view it)` });
    }
    const sendAt = options.send_at === undefined ? undefined : parseDateTime(String(options.send_at));
    if (options.send_at !== undefined) {
      const now = formatDateTime(this.clock());
      const limit = formatDateTime(new Date(this.clock().getTime() + 366 * 86400e3));
      if (!sendAt) problems.push({ field: 'send_at', rule: 'datetime', message: `must be a date and time (ISO-8601 or YYYY-MM-DD HH:MM:SS UTC), not '${String(options.send_at)}'` });
      else if (sendAt <= now) problems.push({ field: 'send_at', rule: 'future', message: `must be in the future (it is ${now} UTC now)` });
      else if (sendAt > limit) problems.push({ field: 'send_at', rule: 'range', message: 'must be within a year' });
      if (test) problems.push({ field: 'send_at', rule: 'test', message: 'a test send goes out at once' });
    }
    if (problems.length) throw new ValidationError('Campaigns', problems);
    // The job, the campaign's run and the campaign.launch event commit together.
    const state = sendAt ? 'scheduled' : 'sending';
    const jobId = await this.engine.db.knex.transaction(async (trx) => {
      const id = crypto.randomUUID();
      if (!test && !(await this.runs.start(trx, { campaignId, state, jobId: id, templateId: options.template_id!, userId: actor.id, sendAt: sendAt ?? null }))) {
        const run = await this.runs.get(campaignId, trx);
        throw new ValidationError('Campaigns', [{ field: 'status', rule: 'running', message: `the campaign is already ${run?.state ?? 'being sent'}: pause, resume or cancel it instead` }]);
      }
      await this.engine.jobs.enqueue({
        id, target: CAMPAIGN_JOB, name: `${test ? 'Test send' : 'Send'} SMS campaign ${String(campaign.name)}`, executeTime: sendAt ? dateFromDb(sendAt) : undefined,
        data: { campaign_id: campaignId, template_id: options.template_id!, user_id: actor.id, test } satisfies CampaignJobData, assignedUserId: actor.id, retries: 5, delaySeconds: 30,
      }, trx);
      await emit(this.engine.context.outbox, trx, {
        event: 'campaign.launch', module: 'Campaigns', id: campaignId, isUpdate: true, changes: {}, actorId: actor.id,
        record: { id: campaignId, name: campaign.name, campaign_type: campaign.campaign_type, template_id: options.template_id, members: members.length, test, job_id: id, send_at: sendAt ?? null, date_modified: formatDateTime(this.clock()) },
      });
      return id;
    });
    if (!test) await this.setStatus(campaignId, state);
    this.log.info({ campaign: campaignId, job: jobId, members: members.length, test }, 'SMS campaign queued');
    return { job_id: jobId, members: members.length, test, ...(sendAt ? { send_at: sendAt } : {}) };
  }

  /** A send whose members are all queued and none of whose messages waits any more is complete. */
  async completeIfDone(campaignId: string): Promise<void> {
    const run = await this.runs.get(campaignId);
    if (!run || run.state !== 'sending' || !run.queuedAll) return;
    const waiting = await this.engine.db.knex('sms').where({ campaign_id: campaignId, status: 'queued', source: 'campaign', deleted: 0 }).first('id');
    if (!waiting && (await this.runs.move(campaignId, ['sending'], 'complete'))) await this.setStatus(campaignId, 'complete');
  }

  /** The campaign's status follows its send (Sugar's campaign_status_dom). */
  private async setStatus(campaignId: string, state: RunState): Promise<void> {
    await this.engine.records.update(SYSTEM, 'Campaigns', campaignId, { status: CAMPAIGN_STATUS[state] });
  }

  /** Stops queueing and holds the messages not sent yet; resume goes on from there. */
  async pause(actor: Actor, campaignId: string): Promise<{ state: RunState }> {
    await this.control(actor, campaignId);
    if (!(await this.runs.move(campaignId, ['scheduled', 'sending'], 'paused'))) throw await this.notIn(campaignId, 'paused', 'scheduled or sending');
    await this.setStatus(campaignId, 'paused');
    return { state: 'paused' };
  }

  /** Goes on after a pause: queues the members not reached yet (at the scheduled time if it has not come); held messages go out. */
  async resume(actor: Actor, campaignId: string): Promise<{ state: RunState; job_id: string }> {
    await this.control(actor, campaignId);
    const run = await this.runs.get(campaignId);
    if (!run || run.state !== 'paused') throw await this.notIn(campaignId, 'resumed', 'paused');
    const scheduled = run.sendAt && run.sendAt > formatDateTime(this.clock());
    const state: RunState = scheduled ? 'scheduled' : 'sending';
    const jobId = await this.engine.db.knex.transaction(async (trx) => {
      const id = crypto.randomUUID();
      if (!(await this.runs.move(campaignId, ['paused'], state, { job_id: id, queued_all: 0 }, trx))) throw await this.notIn(campaignId, 'resumed', 'paused');
      await this.engine.jobs.enqueue({
        id, target: CAMPAIGN_JOB, name: `Send SMS campaign ${campaignId} (resumed)`, executeTime: scheduled ? dateFromDb(run.sendAt!) : undefined,
        data: { campaign_id: campaignId, template_id: run.templateId!, user_id: run.userId!, test: false } satisfies CampaignJobData, assignedUserId: run.userId ?? undefined, retries: 5, delaySeconds: 30,
      }, trx);
      return id;
    });
    await this.setStatus(campaignId, state);
    return { state, job_id: jobId };
  }

  /** Stops the send for good: messages not sent yet are cancelled, sent ones stay. */
  async cancel(actor: Actor, campaignId: string): Promise<{ state: RunState; cancelled: number }> {
    await this.control(actor, campaignId);
    if (!(await this.runs.move(campaignId, ['scheduled', 'sending', 'paused'], 'cancelled'))) throw await this.notIn(campaignId, 'cancelled', 'scheduled, sending or paused');
    const cancelled = await this.sms.cancelQueued({ campaign_id: campaignId, source: 'campaign' });
    await this.setStatus(campaignId, 'cancelled');
    return { state: 'cancelled', cancelled };
  }

  private async control(actor: Actor, campaignId: string) {
    if (actor.type !== 'user') throw new AccessDeniedError('SMS campaigns are controlled by a user');
    await this.engine.context.access.check(actor, this.engine.registry.module('Campaigns'), 'edit');
    await this.engine.records.retrieve(actor, 'Campaigns', campaignId);
  }

  private async notIn(campaignId: string, verb: string, allowed: string) {
    const run = await this.runs.get(campaignId);
    return new ValidationError('Campaigns', [{ field: 'status', rule: 'state', message: `the campaign's send is ${run?.state ?? 'not started'}; only a send that is ${allowed} can be ${verb}` }]);
  }

  private launchProblems(campaign: Record<string, unknown>, templateId: string | undefined, members: number, test = false) {
    const problems: Array<{ field: string; rule: string; message: string }> = [];
    if (campaign.campaign_type !== 'SMS') problems.push({ field: 'campaign_type', rule: 'sms_campaign', message: `must be SMS to send this campaign by SMS (it is '${String(campaign.campaign_type ?? '')}')` });
    if (!templateId) problems.push({ field: 'template_id', rule: 'required', message: 'choose the SMS template the campaign sends' });
    if (members === 0) problems.push({ field: 'prospectlists', rule: 'members', message: test ? 'no test target list with members is linked to the campaign' : 'no default or seed target list with members is linked to the campaign' });
    return problems;
  }

  /** The target lists linked to the campaign, with their member counts. */
  async lists(campaignId: string): Promise<CampaignList[]> {
    const knex = this.engine.db.knex;
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

  /** Members to send to, in a stable order, each record once, exempt-list members removed. */
  async members(campaignId: string, test: boolean, lists?: CampaignList[]): Promise<Member[]> {
    lists ??= await this.lists(campaignId);
    const sending = lists.filter((l) => (test ? l.list_type === 'test' : l.list_type === 'default' || l.list_type === 'seed')).map((l) => l.id);
    const exempt = lists.filter((l) => l.list_type === 'exempt').map((l) => l.id);
    if (!sending.length) return [];
    const knex = this.engine.db.knex;
    const rows = await knex('prospect_lists_prospects as m')
      .whereIn('m.prospect_list_id', sending).andWhere('m.deleted', 0).whereIn('m.related_type', RECIPIENT_MODULES)
      .modify((q: Knex.QueryBuilder) => {
        if (exempt.length) q.whereNotExists(knex('prospect_lists_prospects as x').whereIn('x.prospect_list_id', exempt).andWhere('x.deleted', 0).whereRaw('x.related_id = m.related_id').whereRaw('x.related_type = m.related_type'));
      })
      .select('m.related_type', 'm.related_id', 'm.prospect_list_id')
      .orderBy([{ column: 'm.related_type' }, { column: 'm.related_id' }, { column: 'm.prospect_list_id' }]);
    const seen = new Set<string>();
    const members: Member[] = [];
    for (const r of rows) {
      const key = `${r.related_type}:${r.related_id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      members.push({ module: String(r.related_type), id: String(r.related_id), listId: String(r.prospect_list_id) });
    }
    return members;
  }

  private async run(job: Job, signal: AbortSignal): Promise<string> {
    const data = job.data as CampaignJobData;
    const user: UserRow | undefined = await this.engine.db.knex('users').where({ id: data.user_id, deleted: 0 }).first();
    if (!user || user.status === 'Inactive') throw new Error(`the user who launched the campaign (${data.user_id}) is no longer active`);
    const actor = actorFor(user);
    await this.engine.records.retrieve(actor, 'Campaigns', data.campaign_id);
    const templateId = data.template_id;
    if (!data.test) {
      const run = await this.runs.get(data.campaign_id);
      // Paused, cancelled, or superseded by a resume: this job has nothing left to do.
      if (run && run.jobId !== job.id) return `not sent by this job: the campaign's send is ${run.state} under job ${run.jobId}`;
      if (run && (run.state === 'paused' || run.state === 'cancelled')) return `not sent: the campaign's send is ${run.state}`;
      if (run?.state === 'scheduled' && (await this.runs.move(data.campaign_id, ['scheduled'], 'sending'))) await this.setStatus(data.campaign_id, 'sending');
    }
    const members = await this.members(data.campaign_id, data.test);
    let queued = 0;
    let refused = 0;
    for (let i = 0; i < members.length; i += PAGE) {
      if (signal.aborted) throw new Error('stopped; the rest is sent when the job runs again');
      const state = data.test ? undefined : (await this.runs.get(data.campaign_id))?.state;
      if (state === 'paused' || state === 'cancelled') return `${state} after ${queued} messages queued`;
      const page = members.slice(i, i + PAGE);
      const records = page.map((m) => ({ module: m.module, id: m.id }));
      // Each test send reaches its test lists again and stays out of the campaign's results and log.
      const result = data.test
        ? await this.sms.send(actor, { records, template_id: templateId, campaign_id: data.campaign_id, idempotency_key: `campaign-test:${job.id}` }, 'campaign_test')
        : await this.sms.send(actor, { records, template_id: templateId, campaign_id: data.campaign_id }, 'campaign');
      if (!data.test) await this.logPage(data.campaign_id, page, result.records, result.refused);
      queued += result.records.length;
      refused += result.refused.length;
    }
    if (!data.test) {
      await this.engine.db.knex('cane_sms_campaign_runs').where({ campaign_id: data.campaign_id, job_id: job.id }).update({ queued_all: 1 });
      await this.completeIfDone(data.campaign_id);
    }
    return `${members.length} members: ${queued} messages queued, ${refused} refused`;
  }

  /** campaign_log rows for one page: `targeted` for each message, Sugar's refusal activities for the rest. */
  private async logPage(campaignId: string, page: Member[], messages: Array<Record<string, unknown>>, refusals: Refusal[]): Promise<void> {
    const listOf = new Map(page.map((m) => [`${m.module}:${m.id}`, m.listId]));
    const now = formatDateTime(this.clock());
    const row = (activity: string, module: string, id: string, extra: Record<string, unknown>) => ({
      id: deterministicId(`campaign_log:${campaignId}:${activity}:${module}:${id}`), campaign_id: campaignId, target_id: id, target_type: module,
      activity_type: activity, activity_date: now, list_id: listOf.get(`${module}:${id}`) ?? null, hits: 0, archived: 0, deleted: 0, date_modified: now, ...extra,
    });
    const rows = [
      ...messages.map((m) => row('targeted', String(m.parent_type), String(m.parent_id), { target_tracker_key: m.id, related_id: m.id, related_type: 'SMS', more_information: m.to_number })),
      ...refusals.filter((r) => r.module && r.id).map((r) => row(REFUSAL_ACTIVITY[r.code], r.module!, r.id!, { more_information: r.code })),
    ];
    if (rows.length) await this.engine.db.knex('campaign_log').insert(rows).onConflict('id').ignore();
  }

  /** Results from the messages themselves (real delivery receipts) and the campaign log. */
  async results(campaignId: string) {
    const knex = this.engine.db.knex;
    // One recipient may have several messages (automatic re-sends of undelivered ones, keyed '#rN'):
    // the latest attempt gives the recipient's status; every attempt counts in segments and price.
    // Test sends carry the campaign id but are not part of its results.
    const messages = () => knex('sms').where({ campaign_id: campaignId, direction: 'outbound', deleted: 0 }).whereNot('source', 'campaign_test');
    const rows: Array<Record<string, unknown>> = await messages().select('send_key', 'status', 'segments', 'price');
    const latest = new Map<string, { attempt: number; status: string }>();
    let segments = 0;
    let price = 0;
    for (const r of rows) {
      segments += Number(r.segments ?? 0);
      price += Number(r.price ?? 0);
      const { base, resend } = resendOf(String(r.send_key));
      if ((latest.get(base)?.attempt ?? -1) < resend) latest.set(base, { attempt: resend, status: String(r.status) });
    }
    const status: Record<string, number> = {};
    for (const { status: s } of latest.values()) status[s] = (status[s] ?? 0) + 1;
    const refusedRows = await knex('campaign_log').where({ campaign_id: campaignId, deleted: 0 }).whereNot('activity_type', 'targeted')
      .groupBy('more_information').select('more_information').count({ n: '*' });
    const refused: Record<string, number> = {};
    for (const r of refusedRows as Array<Record<string, unknown>>) refused[String(r.more_information)] = Number(r.n);
    const sent = messages().whereNotNull('provider_message_id');
    const optedOut = await knex('sms_consent_history as h')
      .where('h.state', 'opted_out')
      .whereExists(sent.clone().whereRaw('sms.to_number = h.phone_e164').whereRaw('h.date_entered >= sms.date_entered'))
      .countDistinct({ n: 'h.phone_e164' }).first();
    const replies = await knex('sms as r').where({ 'r.direction': 'inbound', 'r.deleted': 0 })
      .whereExists(sent.clone().whereRaw('sms.to_number = r.from_number').whereRaw('r.date_entered >= sms.date_entered'))
      .count({ n: '*' }).first();
    const delivered = status.delivered ?? 0;
    const notDelivered = (status.undelivered ?? 0) + (status.failed ?? 0);
    return {
      messages: latest.size, retries: rows.length - latest.size, status, segments, price: Math.round(price * 10000) / 10000,
      refused,
      delivery_rate: delivered + notDelivered ? Math.round((delivered / (delivered + notDelivered)) * 1000) / 10 : null,
      opted_out_after: Number(optedOut?.n ?? 0),
      replies: Number(replies?.n ?? 0),
    };
  }
}
