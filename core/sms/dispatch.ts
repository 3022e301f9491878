
import type { Database } from '../db/connection';
import type { Registry } from '../metadata/registry';
import type { JobQueue } from '../jobs/job-queue';
import { deterministicId } from '../jobs/schedulers';
import type { Logger } from '../records/context';
import { dateFromDb, formatDateTime, type Clock } from '../records/time';
import type { SmsConfig } from './config';
import type { ConsentLedger, ConsentRecord } from './consent';
import { consentRefusal } from './consent';
import { classifyError } from './errors';
import { normalisePhone } from './phone';
import { ProviderError, type ProviderReceipt, type SmsProvider } from './providers/provider';
import { bodyProblem, describeBody } from './segments';
import { StatusStore, type StatusListener } from './status-store';
import { nextSendingTime } from './sending-hours';
import type { SenderThrottle } from './throttle';

export const DISPATCH_JOB = 'sms.dispatch';

export interface DispatchJobData {
  id: string;
  /** Reconciliation rounds already tried for an interrupted send. */
  reconcile?: number;
}

export interface DispatcherDeps {
  db: Database;
  provider: SmsProvider;
  config: SmsConfig;
  consent: ConsentLedger;
  throttle: SenderThrottle;
  jobs: JobQueue;
  clock: Clock;
  log: Logger;
  /** Seconds to wait before asking the provider about a send whose answer was lost. */
  reconcileDelaySeconds: number;
  onStatus?: StatusListener;
  /** Modules, to find a recipient record's address. */
  registry?: Registry;
  /** Where a campaign's send stands: its queued messages wait while it is paused. */
  campaignState?: (campaignId: string) => Promise<string | undefined>;
  /** Told when a campaign message has left the queue (sent or refused), so the send can complete. */
  campaignSettled?: (campaignId: string) => Promise<void>;
  /** Whether a send to many in the background was cancelled: its messages still queued are not sent. */
  sendCancelled?: (sendId: string) => Promise<boolean>;
}

export type SmsRow = Record<string, any> & { id: string; status: string; to_number: string; body: string; attempts: number };

const RECONCILE_ROUNDS = 5;
/** Messages the frequency cap counts and limits: marketing and automation, not a person's one-off send. */
export const CAPPED_SOURCES = ['campaign', 'workflow'];
/** Statuses of messages that went (or are going) out. */
export const COUNTED_STATUSES = ['sending', 'accepted', 'sent', 'delivered', 'undelivered', 'unknown'];

/**
 * Sends one queued SMS exactly once: the row (with its unique send_key) exists before the provider
 * is called; a compare-and-set claim moves it to `sending`; the SID is stored the moment the provider
 * answers. A message found in `sending` without a SID (a crash, a lost answer) is looked up at the
 * provider before anything is sent again, and flagged for a person when that is impossible.
 */
export class Dispatcher {
  readonly statuses: StatusStore;

  constructor(readonly deps: DispatcherDeps) {
    this.statuses = new StatusStore(deps.db.dialect, deps.onStatus);
  }

  now(offsetSeconds = 0): string {
    return formatDateTime(new Date(this.deps.clock().getTime() + offsetSeconds * 1000));
  }

  async run(data: DispatchJobData, signal?: AbortSignal): Promise<string> {
    const row: SmsRow | undefined = await this.deps.db.knex('sms').where({ id: data.id, deleted: 0 }).first();
    if (!row || row.direction !== 'outbound') return 'no such outbound SMS';
    if (row.status === 'queued' && row.campaign_id && row.source === 'campaign' && (await this.deps.campaignState?.(String(row.campaign_id))) === 'paused') return this.hold(row);
    if (row.status === 'queued' && row.send_id && (await this.deps.sendCancelled?.(String(row.send_id)))) {
      return (await this.cancel(row, 'the send was cancelled before this message was sent')) ? 'canceled: its send was cancelled' : 'not canceled: it had left the queue';
    }
    if (row.status === 'queued') {
      const outcome = await this.send(row, signal);
      if (row.campaign_id && row.source === 'campaign') await this.deps.campaignSettled?.(String(row.campaign_id));
      return outcome;
    }
    if (row.status === 'sending' && !row.provider_message_id) return this.reconcile(row, data.reconcile ?? 0);
    return `already ${row.status}`;
  }

  /** The country of the recipient record's address (primary, else billing), for its time zone. */
  private async addressCountry(row: SmsRow): Promise<string | null> {
    const module = row.parent_type ? String(row.parent_type) : '';
    if (!module || !row.parent_id || !this.deps.registry?.modules.has(module)) return null;
    const def = this.deps.registry.module(module);
    const column = ['primary_address_country', 'billing_address_country'].find((c) => def.columns.includes(c));
    if (!column) return null;
    const record = await this.deps.db.knex(def.table).where({ id: row.parent_id }).first(column);
    return record?.[column] ?? null;
  }

  /** A message of a paused campaign waits: the same check a minute later, until the campaign resumes or is cancelled. */
  private async hold(row: SmsRow): Promise<string> {
    const at = new Date(this.deps.clock().getTime() + 60_000);
    await this.deps.jobs.enqueue({ target: DISPATCH_JOB, id: deterministicId(`sms:${row.id}:held:${formatDateTime(at).slice(0, 16)}`), data: { id: row.id }, executeTime: at, retries: 3 });
    return 'held: the campaign is paused';
  }

  private async send(row: SmsRow, signal?: AbortSignal): Promise<string> {
    const { db, provider, config } = this.deps;
    const refusal = await this.refusal(row);
    if (refusal) {
      await this.fail(row, refusal.code, refusal.reason, 'queued');
      return `refused: ${refusal.reason}`;
    }
    const waitUntil = config.sendingHours && CAPPED_SOURCES.includes(String(row.source)) ? nextSendingTime(config.sendingHours, row.to_number, this.deps.clock(), await this.addressCountry(row)) : undefined;
    if (waitUntil) {
      await this.deps.jobs.enqueue({ target: DISPATCH_JOB, id: deterministicId(`sms:${row.id}:hours:${formatDateTime(waitUntil.at)}`), data: { id: row.id }, executeTime: waitUntil.at, retries: 3 });
      return `waiting for sending hours in ${waitUntil.zone} (from ${formatDateTime(waitUntil.at)} UTC)`;
    }
    const segments = Number(row.segments) || describeBody(row.body).segments;
    const message = { to: row.to_number, from: row.from_number || undefined, messagingServiceSid: row.messaging_service_sid || undefined };
    const sender = provider.senderKey(message);
    // Wait for the sender's rate before claiming, so a crash while waiting leaves nothing to reconcile.
    await this.deps.throttle.take(sender, segments, signal);
    const claim = await this.claim(row);
    if (claim === 'capped') {
      const cap = config.frequencyCap!;
      const reason = `frequency cap: ${row.to_number} already had ${cap.messages} campaign or workflow message${cap.messages === 1 ? '' : 's'} in the last ${cap.days} day${cap.days === 1 ? '' : 's'}`;
      await this.fail(row, 'frequency_cap', reason, 'queued');
      return `refused: ${reason}`;
    }
    if (claim !== 'claimed') return 'claimed by another worker';
    const attempt = Number(row.attempts ?? 0) + 1;
    const claimedRow = { ...row, status: 'sending', attempts: attempt };
    let receipt: ProviderReceipt;
    try {
      receipt = await provider.send({ ...message, body: row.body, attempt, statusCallback: config.publicUrl ? `${config.publicUrl}/webhooks/twilio/status` : undefined });
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      return this.providerError(claimedRow, err, sender);
    }
    await this.accepted(claimedRow, receipt, 'dispatch');
    return `sent as ${receipt.sid}`;
  }

  /**
   * queued → sending. Campaign and workflow messages under a frequency cap are counted and claimed
   * in one transaction holding the number's lock row, so parallel senders (threads or processes)
   * see each other's claims and the cap holds exactly.
   */
  private async claim(row: SmsRow): Promise<'claimed' | 'capped' | 'taken'> {
    const { db, config } = this.deps;
    const claimValues = { status: 'sending', date_claimed: this.now(), attempts: Number(row.attempts ?? 0) + 1, date_modified: this.now() };
    const cap = config.frequencyCap;
    if (!cap || !CAPPED_SOURCES.includes(String(row.source))) {
      return (await db.knex('sms').where({ id: row.id, status: 'queued' }).update(claimValues)) === 1 ? 'claimed' : 'taken';
    }
    await db.knex('cane_sms_number_locks').insert({ phone_e164: row.to_number }).onConflict('phone_e164').ignore();
    return db.knex.transaction(async (trx) => {
      // Writing the number's row locks it until commit (a row lock on MySQL, the one writer on
      // SQLite); taking it by an update, not a read then a write, leaves no lock to upgrade.
      await trx('cane_sms_number_locks').where('phone_e164', row.to_number).update({ phone_e164: row.to_number });
      const since = this.now(-cap.days * 86400);
      const counted = await trx('sms').where({ to_number: row.to_number, deleted: 0 }).whereNot('id', row.id)
        .whereIn('source', CAPPED_SOURCES).whereIn('status', COUNTED_STATUSES).where('date_claimed', '>=', since).count({ n: '*' }).first();
      if (Number(counted?.n ?? 0) >= cap.messages) return 'capped';
      return (await trx('sms').where({ id: row.id, status: 'queued' }).update(claimValues)) === 1 ? 'claimed' : 'taken';
    });
  }

  /** Checks made again at send time: consent may have changed since the message was queued. */
  async refusal(row: SmsRow): Promise<{ code: string; reason: string } | undefined> {
    return this.refusalGiven(row, await this.deps.consent.state(row.to_number));
  }

  /** The same checks with the number's consent record already read (a batch reads them together). */
  refusalGiven(row: SmsRow, consent: ConsentRecord | undefined): { code: string; reason: string } | undefined {
    const phone = normalisePhone(row.to_number, this.deps.config.defaultRegion);
    if (!phone.ok || phone.e164 !== row.to_number) return { code: 'invalid_number', reason: `the number is not in E.164 form: ${phone.ok ? `'${row.to_number}' should be '${phone.e164}'` : phone.reason}` };
    const body = bodyProblem(row.body);
    if (body) return { code: 'invalid_body', reason: `the body ${body}` };
    const optedOut = consentRefusal(consent);
    if (optedOut) return { code: 'opted_out', reason: optedOut };
    return undefined;
  }

  async accepted(row: SmsRow, receipt: ProviderReceipt, source: string): Promise<void> {
    await this.deps.db.knex.transaction(async (trx) => {
      const stored = await trx('sms').where({ id: row.id, status: 'sending' }).whereNull('provider_message_id').update({
        provider_message_id: receipt.sid,
        provider: this.deps.provider.name,
        from_number: receipt.from ?? row.from_number ?? null,
        ...(receipt.price !== undefined ? { price: receipt.price, price_unit: receipt.priceUnit ?? null } : {}),
        error_code: null, error_message: null,
        date_modified: this.now(),
      });
      if (stored !== 1) return;
      await this.statuses.advance(trx, { ...row, provider_message_id: receipt.sid }, { status: receipt.status, providerStatus: receipt.providerStatus, source, at: this.now() });
      await this.statuses.applyEarlyCallbacks(trx, row.id, receipt.sid, this.now());
    });
  }

  async providerError(row: SmsRow, err: ProviderError, sender: string): Promise<string> {
    if (err.kind === 'unknown_outcome') {
      await this.deps.db.knex.transaction(async (trx) => {
        await trx('sms').where({ id: row.id, status: 'sending' }).update({ error_message: `no clear answer from the provider (${err.message}); checking with it before any resend`.slice(0, 255), date_modified: this.now() });
        await this.deps.jobs.enqueue({ target: DISPATCH_JOB, id: deterministicId(`sms:${row.id}:${row.attempts}:r1`), data: { id: row.id, reconcile: 1 }, executeTime: new Date(this.deps.clock().getTime() + this.deps.reconcileDelaySeconds * 1000), retries: 3 }, trx);
      });
      return `outcome unknown: ${err.message}`;
    }
    const error = classifyError(err.code, err.httpStatus, err.message);
    const reason = `${error.reason}${err.message && err.message !== error.reason ? ` — ${err.message}` : ''}`;
    switch (error.class) {
      case 'opt_out':
        await this.deps.consent.record({ phone: row.to_number, state: 'opted_out', source: '21610', note: `Twilio refused a message with 21610`, reference: row.id });
        await this.fail(row, error.code, reason);
        return `refused by the provider: ${reason}`;
      case 'permanent':
        await this.fail(row, error.code, reason);
        return `refused by the provider: ${reason}`;
      default: {
        const { maxAttempts, retryDelaySeconds } = this.deps.config;
        if (row.attempts >= maxAttempts) {
          await this.fail(row, error.code, `${reason} (gave up after ${row.attempts} attempts)`);
          return `gave up: ${reason}`;
        }
        const base = error.class === 'auth' ? Math.max(300, retryDelaySeconds) : retryDelaySeconds;
        const delay = Math.min(3600, base * 2 ** (row.attempts - 1)) * (error.class === 'backpressure' ? 1 : 0.75 + Math.random() * 0.5);
        if (error.class === 'backpressure') await this.deps.throttle.pause(sender, Math.min(60_000, delay * 1000));
        if (error.class === 'auth') this.deps.log.error({ sms: row.id, code: error.code }, `SMS provider refused the credentials: ${reason}`);
        await this.requeue(row, delay, error.code, reason);
        return `will retry in ${Math.round(delay)} s: ${reason}`;
      }
    }
  }

  private async requeue(row: SmsRow, delaySeconds: number, code: string, reason: string): Promise<void> {
    await this.deps.db.knex.transaction(async (trx) => {
      const moved = await trx('sms').where({ id: row.id, status: 'sending' }).whereNull('provider_message_id').update({ status: 'queued', error_code: code.slice(0, 16) || null, error_message: `attempt ${row.attempts}: ${reason}`.slice(0, 255), date_modified: this.now() });
      if (moved !== 1) return;
      await this.deps.jobs.enqueue({ target: DISPATCH_JOB, id: deterministicId(`sms:${row.id}:${row.attempts}`), data: { id: row.id }, executeTime: new Date(this.deps.clock().getTime() + delaySeconds * 1000), retries: 3 }, trx);
    });
  }

  /** A queued message that is not to go any more: `canceled`, unless a worker claimed it first (then false). */
  async cancel(row: Pick<SmsRow, 'id' | 'status'>, reason: string): Promise<boolean> {
    return Boolean(await this.deps.db.knex.transaction((trx) => this.statuses.advance(trx, row as SmsRow, { status: 'canceled', errorMessage: reason, source: 'cancel', at: this.now(), expect: 'queued' })));
  }

  async fail(row: SmsRow, code: string, reason: string, from = 'sending'): Promise<void> {
    await this.deps.db.knex.transaction(async (trx) => {
      await this.statuses.advance(trx, row, { status: 'failed', errorCode: code, errorMessage: reason, source: 'dispatch', at: this.now(), expect: from });
    });
  }

  private async reconcile(row: SmsRow, round: number): Promise<string> {
    const claimedAt = row.date_claimed ? dateFromDb(String(row.date_claimed)) : new Date(this.deps.clock().getTime() - 86_400_000);
    let found: ProviderReceipt | null;
    try {
      found = await this.deps.provider.findSent({ to: row.to_number, from: row.from_number || undefined, body: row.body, after: new Date(claimedAt.getTime() - 120_000) });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (round + 1 >= RECONCILE_ROUNDS) {
        await this.deps.db.knex.transaction((trx) => this.statuses.advance(trx, row, {
          status: 'unknown', errorCode: 'unconfirmed', source: 'reconcile', at: this.now(), expect: 'sending',
          errorMessage: `Could not confirm with the provider whether this message was sent (${message}). Check the provider's log before sending it again.`,
        }));
        return 'flagged for review';
      }
      await this.deps.jobs.enqueue({ target: DISPATCH_JOB, id: deterministicId(`sms:${row.id}:${row.attempts}:r${round + 2}`), data: { id: row.id, reconcile: round + 1 }, executeTime: new Date(this.deps.clock().getTime() + 60_000 * (round + 1)), retries: 3 });
      return `provider lookup failed, will ask again: ${message}`;
    }
    if (found) {
      await this.accepted(row, found, 'reconcile');
      return `found at the provider as ${found.sid}`;
    }
    if (row.attempts >= this.deps.config.maxAttempts) {
      await this.fail(row, 'not_sent', `the provider never received this message after ${row.attempts} attempts`);
      return 'gave up';
    }
    await this.requeue(row, 0, 'not_found', 'the provider has no such message after an interrupted send; sending it again');
    return 'not at the provider; queued again';
  }
}

