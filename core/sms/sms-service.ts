import type { Knex } from 'knex';
import type { Engine } from '../app/engine';
import { AccessDeniedError, CaneError, ValidationError } from '../errors';
import type { Actor } from '../records/actor';
import { SYSTEM } from '../records/actor';
import { emit, type Logger, type OutboxEvent } from '../records/context';
import type { RecordData } from '../records/read';
import type { SaveOutcome } from '../records/save-together';
import { dateFromDb, formatDateTime, type Clock } from '../records/time';
import { smsConfigFrom, type SmsConfig } from './config';
import { checkRequestShape, compose, type Composition, type Draft, type Refusal, type SendRequest } from './compose';
import { ConsentLedger, type ConsentSource, type ConsentState } from './consent';
import { requireConsentAccess, type ConsentAccessDeps } from './consent-access';
import { deterministicId } from '../jobs/schedulers';
import { BackgroundSends } from './background-sends';
import { SmsCampaigns } from './campaigns';
import { resendKey, resendOf, sendKey } from './send-key';
import { Dispatcher, DISPATCH_JOB, type DispatchJobData } from './dispatch';
import { dispatchBatch } from './dispatch-batch';
import { normalisePhone } from './phone';
import { describeBody } from './segments';
import { PhoneIndex } from './phone-index';
import { OutboxProvider } from './providers/outbox';
import type { SmsProvider } from './providers/provider';
import { TwilioProvider } from './providers/twilio';
import { StatusStore, type StatusListener } from './status-store';
import { SenderThrottle } from './throttle';
import { handleInbound, handleStatusCallback, relatedLink, type WebhookDeps } from './webhooks';

export type SendSource = 'record' | 'bulk' | 'quick' | 'api' | 'workflow' | 'campaign' | 'campaign_test';

interface ExistingMessage {
  id: string;
  send_key: string;
  parent_type: string | null;
  parent_id: string | null;
}

/** How a message came to be queued: the path, and the send in the background it belongs to. */
interface Origin {
  source: SendSource;
  sendId?: string;
}

export interface SendResult {
  records: RecordData[];
  refused: Refusal[];
}

export interface SmsServiceOptions {
  config?: Partial<SmsConfig>;
  /** Replaces the provider the configuration names (tests, other gateways). */
  provider?: SmsProvider;
  reconcileDelaySeconds?: number;
  /** Recipients a send in the background sends per page, and pages per run of its job (default 1,000 and 10). */
  backgroundSendPaging?: { page: number; pagesPerRun: number };
  /** Members a campaign launch queues per page, in one transaction (default 1,000 on SQLite, 500 on MySQL/MariaDB; SMS_LAUNCH_PAGE). */
  launchPageSize?: number;
}

/**
 * The SMS module's one entry point: every sending path (record, list, quick send, API, plugins,
 * campaigns) goes through send(), which checks numbers and consent, renders, and writes SMS rows
 * whose dispatch job is queued in the same transaction; the Dispatcher sends them exactly once.
 */
/** New messages of one send written together (one transaction, each still a checked record save). */
const SEND_CHUNK = 500;

/**
 * Under a rate limit a worker claims about a tenth of a second's worth of messages at a time, so
 * the processes sharing the rate share the queue too and nothing waits long in a claimed batch.
 */
export function dispatchBatchSize(config: Pick<SmsConfig, 'rate' | 'dispatchBatch'>): number {
  return config.rate > 0 ? Math.max(1, Math.min(config.dispatchBatch, Math.floor(config.rate / 10))) : config.dispatchBatch;
}

export class SmsService {
  readonly config: SmsConfig;
  readonly provider: SmsProvider;
  readonly consent: ConsentLedger;
  readonly phoneIndex: PhoneIndex;
  readonly throttle: SenderThrottle;
  readonly dispatcher: Dispatcher;
  /** SMS campaigns to the target lists of Campaigns records. */
  readonly campaigns: SmsCampaigns;
  /** Sends to many records run by the job queue, with progress (POST /rest/v10/SMS/sends). */
  readonly sends: BackgroundSends;
  private readonly webhookDeps: WebhookDeps;

  constructor(private readonly engine: Engine, options: SmsServiceOptions, private readonly log: Logger, private readonly clock: Clock) {
    this.config = smsConfigFrom(options.config);
    this.provider = options.provider ?? (this.config.provider === 'twilio'
      ? new TwilioProvider({ accountSid: this.config.accountSid!, authToken: this.config.authToken!, from: this.config.from, messagingServiceSid: this.config.messagingServiceSid, apiBaseUrl: this.config.apiBaseUrl, httpClient: this.config.httpClient })
      : new OutboxProvider());
    this.consent = new ConsentLedger(engine.db, clock);
    this.phoneIndex = new PhoneIndex(engine.db, engine.registry, this.config.defaultRegion);
    this.throttle = new SenderThrottle(engine.db, this.config.rate, () => Date.now(), log);
    this.dispatcher = new Dispatcher({
      db: engine.db, provider: this.provider, config: this.config, consent: this.consent, throttle: this.throttle, jobs: engine.jobs, clock, log,
      reconcileDelaySeconds: options.reconcileDelaySeconds ?? 30, onStatus: this.statusEvent,
      registry: engine.registry,
      campaignState: async (campaignId) => (await this.campaigns.runs.get(campaignId))?.state,
      campaignSettled: (campaignId) => this.campaigns.completeIfDone(campaignId),
      sendCancelled: (sendId) => this.sends.isCancelled(sendId),
    });
    this.webhookDeps = {
      db: engine.db, registry: engine.registry, records: engine.records, config: this.config, consent: this.consent, phoneIndex: this.phoneIndex, clock, log,
      statuses: new StatusStore(engine.db.dialect, this.statusEvent),
      retryUndelivered: (row) => this.retryUndelivered(row),
    };
    engine.context.outbox.push(this.phoneIndex.listener, this.queueDispatch, this.inboundEvent);
    engine.jobs.registerBatch(DISPATCH_JOB, dispatchBatchSize(this.config), (jobs, context) => dispatchBatch(this.dispatcher, jobs.map((job) => job.data as DispatchJobData), context.signal));
    this.campaigns = new SmsCampaigns(engine, this, clock, log, options.launchPageSize ?? (Number(process.env.SMS_LAUNCH_PAGE) || undefined));
    this.sends = new BackgroundSends(engine, this, clock, log, options.backgroundSendPaging);
  }

  /** Builds the phone index on a database that has records but no index yet. */
  async start(): Promise<void> {
    const indexed = await this.engine.db.knex('sms_phone_index').first('record_id');
    if (!indexed) {
      const count = await this.phoneIndex.rebuild(this.engine.registry);
      if (count) this.log.info(`SMS: indexed ${count} phone numbers`);
    }
  }

  /** A new outbound SMS in `queued` gets its dispatch job in the transaction that creates it. */
  /** `sms.status` for plugins and other listeners, in the transaction that moved the status. */
  private statusEvent: StatusListener = async (trx, smsId, before, change) => {
    await emit(this.engine.context.outbox, trx, {
      event: 'sms.status', module: 'SMS', id: smsId, isUpdate: true, changes: { status: { before, after: change.status } },
      record: { id: smsId, status: change.status, error_code: change.errorCode ?? null, provider_status: change.providerStatus ?? null, source: change.source, date_modified: change.at },
    });
  };

  /** `sms.inbound` beside the after_save of a received SMS, in the same transaction. */
  private inboundEvent = async (trx: Knex, event: OutboxEvent): Promise<void> => {
    if (event.module !== 'SMS' || event.event !== 'after_save' || event.isUpdate || event.record.direction !== 'inbound') return;
    await emit(this.engine.context.outbox.filter((l) => l !== this.inboundEvent), trx, { ...event, event: 'sms.inbound' });
  };

  private queueDispatch = async (trx: Knex, event: OutboxEvent): Promise<void> => {
    if (event.module !== 'SMS' || event.event !== 'after_save' || event.isUpdate) return;
    const r = event.record;
    if (r.direction !== 'outbound' || r.status !== 'queued') return;
    const at = typeof r.date_scheduled === 'string' && r.date_scheduled ? dateFromDb(r.date_scheduled) : undefined;
    await this.engine.jobs.enqueue({ target: DISPATCH_JOB, id: deterministicId(`sms:${event.id}`), name: `Send SMS ${event.id}`, data: { id: event.id }, executeTime: at, retries: 3 }, trx);
  };

  /**
   * Checks, renders and queues; answers the SMS records created and a reason for every recipient
   * refused. `onePerNumber`: a number that already has a message under this request's key, for
   * another record, is refused as a duplicate (a send made of several requests, one per page, as
   * background sends are), as within one request.
   */
  async send(actor: Actor, input: unknown, source: SendSource = 'api', options: { onePerNumber?: boolean; backgroundSendId?: string } = {}): Promise<SendResult> {
    const origin: Origin = { source, sendId: options.backgroundSendId };
    const request = checkRequestShape(input);
    const sms = this.engine.registry.module('SMS');
    const many = (Array.isArray(request.to) && request.to.length > 1) || (request.records?.length ?? 0) > 1;
    if (many) await this.engine.context.access.check(actor, sms, 'massupdate');
    await this.engine.context.access.check(actor, sms, 'edit');
    if (request.campaign_id) await this.engine.records.retrieve(actor, 'Campaigns', request.campaign_id).catch(() => {
      throw new ValidationError('SMS', [{ field: 'campaign_id', rule: 'exists', message: `no campaign with id '${request.campaign_id}'` }]);
    });
    const composition = await compose({ registry: this.engine.registry, records: this.engine.records, consent: this.consent, region: this.config.defaultRegion }, actor, request);
    const keys = composition.drafts.map((d) => sendKey(actor, request, d.to));
    const existing = new Map<string, ExistingMessage>();
    const remember = (rows: ExistingMessage[]) => rows.forEach((row) => existing.set(row.send_key, row));
    if (request.idempotency_key || request.campaign_id) remember(await this.existingMessages(keys));
    const created: Array<RecordData | undefined> = new Array(composition.drafts.length);
    const refused = [...composition.refused];
    const fresh = composition.drafts.flatMap((draft, i) => (existing.has(keys[i]) ? [] : [i]));
    const settled = new Set<number>();
    for (let start = 0; start < fresh.length; start += SEND_CHUNK) {
      const chunk = fresh.slice(start, start + SEND_CHUNK);
      const written = chunk.length > 1 ? await this.createMessages(actor, request, composition, chunk, keys, origin) : undefined;
      written?.forEach((outcome, n) => {
        if (outcome instanceof CaneError) refused.push({ to: composition.drafts[chunk[n]].to, module: composition.drafts[chunk[n]].module, id: composition.drafts[chunk[n]].id, code: 'refused', reason: outcome.message });
        else if (outcome) created[chunk[n]] = outcome;
        if (outcome) settled.add(chunk[n]);
      });
    }
    const again: Array<[number, string]> = [];
    for (const [i, draft] of composition.drafts.entries()) {
      if (settled.has(i)) continue;
      let earlier = existing.get(keys[i]);
      if (!earlier) {
        try {
          created[i] = await this.createMessageRetrying(actor, request, composition, draft, keys[i], origin);
          continue;
        } catch (err) {
          // Another request with the same key won the race: treat its message as the earlier one.
          remember(await this.existingMessages([keys[i]]));
          earlier = existing.get(keys[i]);
          if (!earlier) {
            // In a send to many, a message whose save is refused (a hook, a rule) is reported, as
            // when it is written with others; the rest go.
            if ((many || options.onePerNumber) && err instanceof CaneError && err.status < 500 && err.code !== 'refused_by_database') {
              refused.push({ to: draft.to, module: draft.module, id: draft.id, code: 'refused', reason: err.message });
              continue;
            }
            throw err;
          }
        }
      }
      // A campaign reaches each number once: a second record with that number is a duplicate, while
      // the same record again (a relaunch, a rerun after a crash) gets its earlier message back.
      if (((request.campaign_id && !request.idempotency_key) || options.onePerNumber) && (earlier.parent_type !== (draft.module ?? null) || earlier.parent_id !== (draft.id ?? null))) {
        refused.push({ to: draft.to, module: draft.module, id: draft.id, code: 'duplicate', reason: `duplicate: ${draft.to} already receives this ${request.campaign_id ? 'campaign' : 'message'}` });
        continue;
      }
      again.push([i, earlier.id]);
    }
    // Messages a retried send (the same key) queued before, read together with the sender's rights;
    // one they may not view (another user's campaign message) is reported, not shown.
    const earlierMessages = await this.engine.records.retrieveMany(actor, 'SMS', again.map(([, id]) => id));
    for (const [i, id] of again) {
      created[i] = earlierMessages.get(id.toLowerCase());
      const draft = composition.drafts[i];
      if (!created[i]) refused.push({ to: draft.to, module: draft.module, id: draft.id, code: 'duplicate', reason: `duplicate: ${draft.to} already has this message, queued by someone else` });
    }
    return { records: created.filter((record): record is RecordData => !!record), refused };
  }

  /**
   * Many new messages as one write (each still checked and hooked as a record save: see
   * saveTogether), read back together. Per message: its record, the error that refused its save
   * (reported as a refusal; the others still go), or undefined when it lost to a concurrent send of
   * the same key (the one-by-one way finds the earlier message). Undefined for all when the write
   * itself failed (a deadlock): then each goes the one-by-one way.
   */
  private async createMessages(actor: Actor, request: SendRequest, composition: Composition, indexes: number[], keys: string[], origin: Origin): Promise<Array<RecordData | CaneError | undefined> | undefined> {
    let outcome: SaveOutcome;
    try {
      outcome = await this.engine.records.saveTogether(actor, 'SMS', indexes.map((i) => ({ input: this.messageFields(actor, request, composition, composition.drafts[i], keys[i], origin) })), undefined, { systemFields: true });
    } catch {
      return undefined;
    }
    // Read as Cane reads its own write (a save answers its record whatever the sender's view rights on SMS);
    // the names in it are the sender's own, their template's and their recipients', all of which they could view.
    const stored = await this.engine.records.retrieveMany(SYSTEM, 'SMS', outcome.ids.filter((id): id is string => !!id));
    const results: Array<RecordData | CaneError | undefined> = outcome.ids.map((id) => (id ? stored.get(id.toLowerCase()) : undefined));
    for (const { index, error } of outcome.failures) if (error.code !== 'refused_by_database') results[index] = error;
    for (const [n, i] of indexes.entries()) {
      const record = results[n];
      if (record && !(record instanceof CaneError)) await this.linkAccount(composition.drafts[i], record.id);
    }
    return results;
  }

  /** Cancels the queued (not yet sent) outbound messages that match; answers how many. Sent ones stay as they are. */
  async cancelQueued(where: { campaign_id: string; source?: string }): Promise<number> {
    const rows = await this.engine.db.knex('sms').where({ ...where, status: 'queued', direction: 'outbound', deleted: 0 }).select('id', 'status');
    let cancelled = 0;
    for (const row of rows) if (await this.dispatcher.cancel(row, 'the campaign was cancelled before this message was sent')) cancelled++;
    return cancelled;
  }

  private existingMessages(keys: string[]): Promise<ExistingMessage[]> {
    return this.engine.db.knex('sms').whereIn('send_key', keys).select('id', 'send_key', 'parent_type', 'parent_id');
  }

  /** A write that lost a lock conflict with a concurrent send of the same numbers is tried again. */
  private async createMessageRetrying(actor: Actor, request: SendRequest, composition: Composition, draft: Draft, key: string, origin: Origin): Promise<RecordData> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.createMessage(actor, request, composition, draft, key, origin);
      } catch (err) {
        if (attempt >= 5 || !this.engine.db.dialect.isLockConflict(err)) throw err;
        await new Promise((r) => setTimeout(r, 10 * attempt * Math.random()));
      }
    }
  }

  private async createMessage(actor: Actor, request: SendRequest, composition: Composition, draft: Draft, key: string, origin: Origin): Promise<RecordData> {
    const record = await this.engine.records.create(actor, 'SMS', this.messageFields(actor, request, composition, draft, key, origin), { systemFields: true });
    await this.linkAccount(draft, record.id);
    return record;
  }

  private messageFields(actor: Actor, request: SendRequest, composition: Composition, draft: Draft, key: string, origin: Origin): Record<string, unknown> {
    return {
      name: draft.body.slice(0, 60), body: draft.body, direction: 'outbound', status: 'queued', to_number: draft.to,
      from_number: this.config.from ?? null, messaging_service_sid: this.config.messagingServiceSid ?? null, provider: this.provider.name,
      send_key: key, encoding: draft.facts.encoding, segments: draft.facts.segments, source: origin.source, send_id: origin.sendId ?? null,
      template_id: composition.template?.id ?? null, campaign_id: request.campaign_id ?? null,
      ...(draft.module ? { parent_type: draft.module, parent_id: draft.id } : {}),
      ...(actor.type === 'user' ? { assigned_user_id: actor.id } : {}),
    };
  }

  /** A message to a contact (or another record of a company) shows on the company too. */
  private async linkAccount(draft: Draft, smsId: string): Promise<void> {
    const accountLink = relatedLink(this.engine.registry, 'Accounts');
    if (draft.accountId && draft.module !== 'Accounts' && accountLink) await this.engine.records.link(SYSTEM, 'SMS', smsId, accountLink, draft.accountId).catch(() => undefined);
  }

  /** What send() would do, without sending: the rendered text for the first recipient, encoding, segments, refusals. */
  async preview(actor: Actor, input: unknown) {
    const request = checkRequestShape(input);
    const composition = await compose({ registry: this.engine.registry, records: this.engine.records, consent: this.consent, region: this.config.defaultRegion }, actor, request);
    const first = composition.drafts[0];
    return {
      recipients: composition.drafts.length,
      segments_total: composition.drafts.reduce((n, d) => n + d.facts.segments, 0),
      first: first ? { to: first.to, name: first.name ?? first.to, body: first.body, ...describeBody(first.body), empty_fields: first.emptyFields ?? [] } : null,
      // Who would get a message with a gap where a merge field is empty (name and fields, at most 20).
      empty_fields: composition.drafts.filter((d) => d.emptyFields?.length).slice(0, 20).map((d) => ({ name: d.name ?? d.to, to: d.to, fields: d.emptyFields! })),
      refused: composition.refused,
      template: composition.template ?? null,
    };
  }

  /** Records a consent change typed in the UI or posted to the API, by someone who may edit a record with that number. */
  async setConsent(actor: Actor, number: string, state: ConsentState, source: ConsentSource, note?: string): Promise<{ phone: string; state: ConsentState }> {
    if (actor.type === 'user' && !actor.isAdmin) await this.engine.context.access.check(actor, this.engine.registry.module('SMS'), 'edit');
    const phone = this.e164(number);
    if (state !== 'opted_in' && state !== 'opted_out') throw new ValidationError('SMS', [{ field: 'state', rule: 'enum', message: "must be 'opted_in' or 'opted_out'" }]);
    await requireConsentAccess(this.consentAccess, actor, phone, 'edit');
    await this.consent.record({ phone, state, source, actorId: actor.id ?? null, note });
    return { phone, state };
  }

  /** A number's consent and its history, for someone who may view a record with that number. */
  async consentOf(actor: Actor, number: string) {
    const phone = this.e164(number);
    await requireConsentAccess(this.consentAccess, actor, phone, 'view');
    return { ...(await this.consent.state(phone)), history: await this.consent.history(phone) };
  }

  private e164(number: string): string {
    const phone = normalisePhone(number, this.config.defaultRegion);
    if (!phone.ok) throw new ValidationError('SMS', [{ field: 'number', rule: 'phone', message: phone.reason }]);
    return phone.e164;
  }

  private get consentAccess(): ConsentAccessDeps {
    return { db: this.engine.db, registry: this.engine.registry, access: this.engine.context.access, phoneIndex: this.phoneIndex };
  }

  /** Each status the message went through, oldest first, with what reported it. */
  async statusHistory(actor: Actor, id: string) {
    await this.engine.records.retrieve(actor, 'SMS', id, { fields: ['id'] });
    const rows = await this.engine.db.knex('sms_status_events').where('sms_id', id).orderBy([{ column: 'date_entered' }, { column: 'id' }]);
    return rows.map((r: Record<string, any>) => ({ status: r.status, error_code: r.error_code || null, provider_status: r.provider_status, source: r.source, date: String(r.date_entered).slice(0, 19) }));
  }

  statusCallback(params: Record<string, string>) {
    return handleStatusCallback(this.webhookDeps, params);
  }

  inbound(params: Record<string, string>) {
    return handleInbound(this.webhookDeps, params);
  }

  /** What administrators see about the provider (never the token). */
  describe(actor: Actor) {
    if (actor.type === 'user' && !actor.isAdmin) throw new AccessDeniedError('Only administrators may see the SMS provider configuration');
    const c = this.config;
    return {
      provider: this.provider.name, account_sid: c.accountSid ?? null, from: c.from ?? null, messaging_service_sid: c.messagingServiceSid ?? null,
      default_region: c.defaultRegion, rate_segments_per_second: c.rate, public_url: c.publicUrl ?? null,
      webhooks: c.authToken && c.publicUrl ? { status: `${c.publicUrl}/webhooks/twilio/status`, inbound: `${c.publicUrl}/webhooks/twilio/inbound` } : null,
    };
  }

  /** A message undelivered for a transient carrier reason (30003, 30008) is sent again later, a bounded number of times. */
  private async retryUndelivered(row: Record<string, any>): Promise<void> {
    const { undeliveredRetryMinutes, undeliveredRetries } = this.config;
    if (!undeliveredRetryMinutes || row.direction !== 'outbound') return;
    const { base, resend } = resendOf(String(row.send_key));
    if (resend >= undeliveredRetries) return;
    const key = resendKey(base, resend + 1);
    if (await this.engine.db.knex('sms').where('send_key', key).first('id')) return;
    const consent = await this.consent.state(row.to_number);
    if (consent.state === 'opted_out') return;
    const at = formatDateTime(new Date(this.clock().getTime() + undeliveredRetryMinutes * 60_000));
    await this.engine.records.create(SYSTEM, 'SMS', {
      name: row.name, body: row.body, direction: 'outbound', status: 'queued', to_number: row.to_number, from_number: row.from_number,
      messaging_service_sid: row.messaging_service_sid, provider: row.provider, send_key: key, encoding: row.encoding, segments: row.segments,
      source: 'retry', template_id: row.template_id, campaign_id: row.campaign_id, parent_type: row.parent_type, parent_id: row.parent_id,
      assigned_user_id: row.assigned_user_id, date_scheduled: at,
    }).catch((err) => this.log.warn({ err, sms: row.id }, 'could not queue the retry of an undelivered SMS'));
  }
}
