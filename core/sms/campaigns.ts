import type { Engine } from '../app/engine';
import { AccessDeniedError, NotFoundError, ValidationError } from '../errors';
import type { Job } from '../jobs/job-queue';
import type { Actor } from '../records/actor';
import { emit, type Logger } from '../records/context';
import { dateFromDb, formatDateTime, parseDateTime, type Clock } from '../records/time';
import crypto from 'node:crypto';
import { SYSTEM } from '../records/actor';
import { CAMPAIGN_STATUS, CampaignRuns, type RunState } from './campaign-runs';
import { actorFor, type UserRow } from '../security/authenticate';
import { CampaignMembers, type CampaignList, type Member, type MemberCursor } from './campaign-members';
import { CampaignPageWriter } from './campaign-launch';
import { withDeferredCheckpoints } from '../db/deferred-checkpoints';
import { ReadAhead } from './campaign-read-ahead';
import { resendOf } from './send-key';
import type { SmsService } from './sms-service';

export const CAMPAIGN_JOB = 'sms.campaign';
/**
 * Members queued per page (one transaction each). Smaller on MySQL/MariaDB: a page lives across
 * more round trips there, long enough for V8 to promote it to the old generation, and pages of
 * 1,000 grew the heap by 65-150 MB of garbage during a 100,000-member launch against under 10 MB
 * with pages of 500 (bench:sms), for about 15 % more time.
 */
export function defaultLaunchPage(dialect: string): number {
  return dialect === 'sqlite' ? 1000 : 500;
}

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

export type { CampaignList, Member };

/** Told after each page a launch queues: progress for a CLI or a log. */
export type LaunchProgress = (run: { done: number; total: number | null; queued: number; refused: number }) => void | Promise<void>;

/**
 * SMS campaigns, the way Sugar queues e-mail campaigns: the members of the campaign's `default`
 * and `seed` target lists (only `test` lists for a test send), less the members of its `exempt`
 * lists, each reached once per number. Launching queues a job that walks the members a page at a
 * time (keyset on module and record id, never the whole list in memory) and writes each page's SMS
 * rows, dispatch jobs and campaign_log rows set-wise in one transaction that also moves the run's
 * cursor; a rerun after a crash goes on after the last page committed, and message keys derived
 * from the campaign and number keep a relaunch or a second worker from sending or counting twice.
 */
export class SmsCampaigns {
  /** Where each campaign's send stands (scheduled, sending, paused, cancelled, complete). */
  readonly runs: CampaignRuns;
  readonly memberLists: CampaignMembers;

  constructor(private readonly engine: Engine, private readonly sms: SmsService, private readonly clock: Clock, private readonly log: Logger, private readonly pageSize = defaultLaunchPage(engine.db.dialect.name)) {
    this.runs = new CampaignRuns(engine.db, clock);
    this.memberLists = new CampaignMembers(engine.db.knex);
    engine.jobs.register(CAMPAIGN_JOB, async (job, context) => ({ message: await this.run(job, context.signal) }));
  }

  /**
   * The campaign as an SMS campaign: lists and member counts, the templates to choose from, the text
   * for the first member with the chosen template (by default the one the campaign last sent), and results so far.
   */
  async overview(actor: Actor, campaignId: string, chosenTemplateId?: string) {
    const campaign = await this.engine.records.retrieve(actor, 'Campaigns', campaignId);
    const lists = await this.lists(campaignId);
    const sending = CampaignMembers.split(lists, false);
    const testing = CampaignMembers.split(lists, true);
    const members = await this.memberLists.count(sending.sending, sending.exempt);
    const testMembers = await this.memberLists.count(testing.sending, testing.exempt);
    const templates = (await this.engine.records.list(actor, 'SMSTemplates', { fields: ['id', 'name', 'template_type'], orderBy: [{ field: 'name', direction: 'asc' }], maxNum: 200 })).records
      .map((t) => ({ id: t.id, name: String(t.name ?? t.id), template_type: String(t.template_type ?? '') }));
    const lastUsed = await this.engine.db.knex('sms').where({ campaign_id: campaignId, deleted: 0 }).whereNotNull('template_id').orderBy('date_entered', 'desc').first('template_id');
    const templateId = chosenTemplateId || lastUsed?.template_id || undefined;
    const template = templates.find((t) => t.id === templateId) ?? null;
    // The text for the first of the first members that can receive it (some may have no number or have opted out).
    const sample = (await this.memberLists.page(sending.sending, sending.exempt, null, 20)).map((m) => ({ module: m.module, id: m.id }));
    let preview: unknown = null;
    let previewGaps: Array<{ name: string; to: string; fields: string[] }> = [];
    let previewError: string | null = null;
    if (templateId && sample.length) {
      try {
        const previewed = await this.sms.preview(actor, { records: sample, template_id: templateId });
        preview = previewed.first;
        previewGaps = previewed.empty_fields;
      } catch (err) {
        previewError = err instanceof Error ? err.message : String(err);
      }
    }
    const perMessage = (preview as { segments?: number } | null)?.segments ?? null;
    const price = this.sms.config.segmentPrice;
    const segments = perMessage === null ? null : perMessage * members;
    const run = await this.runs.get(campaignId);
    return {
      campaign: { id: campaign.id, name: campaign.name, campaign_type: campaign.campaign_type, status: campaign.status },
      run: run ? { state: run.state, send_at: run.sendAt, progress: { ...run.progress, queued_all: run.queuedAll } } : null,
      // What a launch would cost, from the first member's text (members' texts may differ a little).
      estimate: { recipients: members, segments_per_message: perMessage, segments, cost: price && segments !== null ? Math.round(price.amount * segments * 10000) / 10000 : null, price_unit: price?.unit ?? null },
      template,
      templates,
      lists,
      members,
      test_members: testMembers,
      preview,
      preview_error: previewError,
      /** Members among the first 20 whose text would have a gap where a merge field is empty. */
      preview_gaps: previewGaps,
      problems: this.launchProblems(campaign, templateId, members),
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
    const members = await this.count(campaignId, test);
    const problems = this.launchProblems(campaign, options.template_id, members, test);
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
        record: { id: campaignId, name: campaign.name, campaign_type: campaign.campaign_type, template_id: options.template_id, members, test, job_id: id, send_at: sendAt ?? null, date_modified: formatDateTime(this.clock()) },
      });
      return id;
    });
    if (!test) await this.setStatus(campaignId, state);
    this.log.info({ campaign: campaignId, job: jobId, members, test }, 'SMS campaign queued');
    return { job_id: jobId, members, test, ...(sendAt ? { send_at: sendAt } : {}) };
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
  lists(campaignId: string): Promise<CampaignList[]> {
    return this.memberLists.lists(campaignId);
  }

  /** How many members a send (or a test send) reaches: each record once, exempt-list members left out. */
  async count(campaignId: string, test: boolean): Promise<number> {
    const { sending, exempt } = CampaignMembers.split(await this.lists(campaignId), test);
    return this.memberLists.count(sending, exempt);
  }

  private async run(job: Job, signal: AbortSignal): Promise<string> {
    const data = job.data as CampaignJobData;
    const user: UserRow | undefined = await this.engine.db.knex('users').where({ id: data.user_id, deleted: 0 }).first();
    if (!user || user.status === 'Inactive') throw new Error(`the user who launched the campaign (${data.user_id}) is no longer active`);
    const actor = actorFor(user);
    await this.engine.records.retrieve(actor, 'Campaigns', data.campaign_id);
    if (data.test) return this.testSend(job, actor, data, signal);
    const run = await this.runs.get(data.campaign_id);
    if (!run) return 'not sent: the campaign has no send under way';
    // Paused, cancelled, or superseded by a resume: this job has nothing left to do.
    if (run.jobId !== job.id) return `not sent by this job: the campaign's send is ${run.state} under job ${run.jobId}`;
    if (run.state === 'paused' || run.state === 'cancelled') return `not sent: the campaign's send is ${run.state}`;
    if (run.state === 'scheduled' && (await this.runs.move(data.campaign_id, ['scheduled'], 'sending'))) await this.setStatus(data.campaign_id, 'sending');
    return this.queueMembers(data.campaign_id, job.id, actor, data.template_id, signal);
  }

  /**
   * Queues the members of the send that job `jobId` runs, page after page from the run's cursor.
   * Each page commits in one transaction that first moves the cursor by compare-and-set (this job,
   * still sending, cursor where this worker read it), so a page is written once even with two
   * workers on one campaign, and a crash loses at most the page being written, which the rerun
   * writes again. The next page is read and checked while one is written (ReadAhead). The CLI
   * calls this directly to show progress; a worker that picks the job up afterwards finds nothing left.
   */
  async queueMembers(campaignId: string, jobId: string, actor: Actor, templateId: string, signal?: AbortSignal, onProgress?: LaunchProgress): Promise<string> {
    const knex = this.engine.db.knex;
    const writer = await CampaignPageWriter.forTemplate(this.engine, this.sms, this.clock, actor, campaignId, templateId);
    const { sending, exempt } = CampaignMembers.split(await this.lists(campaignId), false);
    const total = await this.memberLists.count(sending, exempt);
    const started = await this.runs.get(campaignId);
    if (!started || started.jobId !== jobId) return 'not sent by this job: the send moved to another job';
    await knex('cane_sms_campaign_runs').where({ campaign_id: campaignId, job_id: jobId })
      .update({ members_total: total, date_queue_started: formatDateTime(this.clock()), members_at_start: started.progress.done, date_modified: formatDateTime(this.clock()) });
    const pages = new ReadAhead(async (after: MemberCursor | null) => {
      const page = await this.memberLists.page(sending, exempt, after, this.pageSize);
      return { page, prepared: page.length ? await writer.prepare(page) : undefined };
    });
    const stopped = await withDeferredCheckpoints(this.engine.db, async (): Promise<string | undefined> => {
      for (;;) {
        if (signal?.aborted) throw new Error('stopped; the rest is queued when the job runs again');
        const run = await this.runs.get(campaignId);
        if (!run || run.jobId !== jobId) return `stopped: the campaign's send is now under job ${run?.jobId ?? 'none'}`;
        if (run.state === 'paused' || run.state === 'cancelled') return `${run.state} after ${run.progress.queued} messages queued`;
        if (run.state !== 'sending' || run.queuedAll) return undefined;
        const { page, prepared } = await pages.take(run.cursor);
        if (!page.length || !prepared) {
          await knex('cane_sms_campaign_runs').where({ campaign_id: campaignId, job_id: jobId }).update({ queued_all: 1, date_modified: formatDateTime(this.clock()) });
          break;
        }
        const last: MemberCursor = { module: page[page.length - 1].module, id: page[page.length - 1].id };
        pages.start(last);
        const outcome = await knex.transaction(async (trx) => {
          const now = formatDateTime(this.clock());
          const moved = await trx('cane_sms_campaign_runs').where({ campaign_id: campaignId, job_id: jobId, state: 'sending' })
            .modify((q) => (run.cursor ? q.where({ cursor_module: run.cursor.module, cursor_id: run.cursor.id }) : q.whereNull('cursor_id')))
            .update({ cursor_module: last.module, cursor_id: last.id, members_done: trx.raw('members_done + ?', [page.length]), date_modified: now });
          if (moved !== 1) return undefined; // another worker wrote this page, or the send was paused: look again
          const written = await writer.write(trx, prepared);
          await trx('cane_sms_campaign_runs').where({ campaign_id: campaignId })
            .update({ messages_queued: trx.raw('messages_queued + ?', [written.queued]), members_refused: trx.raw('members_refused + ?', [written.refused]) });
          return written;
        });
        if (outcome) await onProgress?.({ done: run.progress.done + page.length, total, queued: run.progress.queued + outcome.queued, refused: run.progress.refused + outcome.refused });
      }
    }).finally(() => pages.settle());
    if (stopped) return stopped;
    await this.completeIfDone(campaignId);
    const { progress } = (await this.runs.get(campaignId))!;
    return `${progress.done} members: ${progress.queued} messages queued, ${progress.refused} refused`;
  }

  /** A test send reaches the test lists again each time, through the ordinary send path, and stays out of the campaign's results and log. */
  private async testSend(job: Job, actor: Actor, data: CampaignJobData, signal: AbortSignal): Promise<string> {
    const { sending, exempt } = CampaignMembers.split(await this.lists(data.campaign_id), true);
    let members = 0;
    let queued = 0;
    let refused = 0;
    for await (const page of this.memberLists.all(sending, exempt, this.pageSize)) {
      if (signal.aborted) throw new Error('stopped; the rest is sent when the job runs again');
      const records = page.map((m) => ({ module: m.module, id: m.id }));
      const result = await this.sms.send(actor, { records, template_id: data.template_id, campaign_id: data.campaign_id, idempotency_key: `campaign-test:${job.id}` }, 'campaign_test');
      members += page.length;
      queued += result.records.length;
      refused += result.refused.length;
    }
    return `${members} members: ${queued} messages queued, ${refused} refused`;
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
