import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Engine } from '../app/engine';
import { CaneError, NotFoundError, ValidationError } from '../errors';
import type { Job } from '../jobs/job-queue';
import { deterministicId } from '../jobs/schedulers';
import type { Actor } from '../records/actor';
import type { Logger } from '../records/context';
import { dateFromDb, formatDateTime, type Clock } from '../records/time';
import { actorFor, type UserRow } from '../security/authenticate';
import { checkRequestShape, MAX_BACKGROUND_RECIPIENTS, type Refusal, type RefusalCode, type SendRequest } from './compose';
import type { SmsService } from './sms-service';

export const BACKGROUND_SEND_JOB = 'sms.send_many';
/** Recipients sent per page: one SMS/send each, its messages committed before the progress moves. */
export const BACKGROUND_PAGE = 1000;
/** Refusals kept with their reasons; all are counted by code. */
const KEPT_REFUSALS = 1000;
/**
 * Pages one run of the job sends before it hands the rest to a new job (10,000 recipients, a few
 * seconds): a big send holds a worker's slot for short turns, and dispatch, campaigns and other
 * sends get theirs in between.
 */
const PAGES_PER_RUN = 10;
/** Failed attempts (errors, expired leases) each run may have before the send is failed. */
const RUN_RETRIES = 10;

export type BackgroundSendState = 'queued' | 'sending' | 'complete' | 'cancelled' | 'failed';

/** What GET /rest/v10/SMS/sends/:id answers. */
export interface BackgroundSend {
  id: string;
  state: BackgroundSendState;
  idempotency_key: string;
  total: number;
  done: number;
  queued: number;
  refused: number;
  refused_by_code: Partial<Record<RefusalCode, number>>;
  /** The first refusals, with their reasons (at most 1,000). */
  refusals: Refusal[];
  /** Messages of a cancelled send that were still queued, and so not sent. */
  canceled: number;
  /** Recipients per second since the send started, or null. */
  rate: number | null;
  error: string | null;
  date_entered: string;
  date_started: string | null;
  date_finished: string | null;
}

interface SendRow {
  id: string;
  user_id: string;
  state: BackgroundSendState;
  idempotency_key: string;
  request_hash: string;
  request: string;
  job_id: string;
  total: number;
  done: number;
  messages_queued: number;
  refused_count: number;
  refused_by_code: string | null;
  refusals: string | null;
  last_error: string | null;
  date_entered: string;
  date_started: string | null;
  date_finished: string | null;
  date_modified: string;
}

/**
 * Sends to many records (up to 100,000) run by the job queue instead of inside one request. The
 * request is kept in cane_sms_sends; the job sends it a page at a time through SmsService.send
 * with the send's idempotency key, and moves `done` after each page by compare-and-set. A crash
 * (kill -9, a lost database) loses at most the page being sent: the job runs again after its lease,
 * goes on from `done`, and the key turns the messages that page already queued into the same
 * messages, never second ones. Progress, refusals and cancel are read and set on the row.
 */
export class BackgroundSends {
  constructor(private readonly engine: Engine, private readonly sms: SmsService, private readonly clock: Clock, private readonly log: Logger, private readonly paging = { page: BACKGROUND_PAGE, pagesPerRun: PAGES_PER_RUN }) {
    engine.jobs.register(BACKGROUND_SEND_JOB, async (job, context) => ({ message: await this.run(job, context.signal) }));
  }

  /**
   * Checks the request as SMS/send would (shape, rights, template and text on its first recipient)
   * and queues it. The same idempotency key again answers the send it made (created: false), or an
   * error when the key was used for a different request.
   */
  async submit(actor: Actor, input: unknown, options: { sameKeyWins?: boolean } = {}): Promise<{ send: BackgroundSend; created: boolean }> {
    const request = withoutRepeats(checkRequestShape(input, MAX_BACKGROUND_RECIPIENTS));
    if (!request.records && !Array.isArray(request.to)) {
      throw new ValidationError('SMS', [{ field: 'records', rule: 'required', message: 'a send in the background needs records (or a list of numbers in to)' }]);
    }
    const sms = this.engine.registry.module('SMS');
    await this.engine.context.access.check(actor, sms, 'massupdate');
    await this.engine.context.access.check(actor, sms, 'edit');
    // Template, text, phone field and campaign as the first page will meet them.
    const { idempotency_key: _key, ...content } = request;
    await this.sms.preview(actor, request.records ? { ...content, records: request.records.slice(0, 1) } : { ...content, to: (request.to as string[]).slice(0, 1) });

    const userId = actor.id ?? 'system';
    const key = request.idempotency_key ?? crypto.randomUUID();
    const id = deterministicId(`sms-send:${userId}|${key}`);
    const text = JSON.stringify({ ...request, idempotency_key: key });
    const hash = crypto.createHash('sha256').update(canonicalJson(content)).digest('hex');
    const now = formatDateTime(this.clock());
    const total = request.records?.length ?? (request.to as string[]).length;
    try {
      await this.engine.db.knex.transaction(async (trx) => {
        await trx('cane_sms_sends').insert({
          id, user_id: userId, state: 'queued', idempotency_key: key, request_hash: hash, request: text, job_id: id, total, done: 0, messages_queued: 0, refused_count: 0,
          refused_by_code: '{}', refusals: '[]', last_error: null, date_entered: now, date_started: null, date_finished: null, date_modified: now,
        });
        await this.enqueue(trx, id, id, total);
      });
    } catch (err) {
      if (!this.engine.db.dialect.isDuplicateKey(err)) throw err;
      const earlier = await this.row(id);
      if (!earlier) throw err;
      // The compose page's key stands for the page and its message: the records its search matched
      // may have changed since the first submit, and it is still that send.
      if (earlier.request_hash !== hash && !options.sameKeyWins) {
        throw new ValidationError('SMS', [{ field: 'idempotency_key', rule: 'unique', message: `'${key}' was used for a different send; use a new key for a new send` }]);
      }
      return { send: this.view(earlier), created: false };
    }
    return { send: this.view((await this.row(id))!), created: true };
  }

  /** A send, for the user who made it or an administrator. */
  async get(actor: Actor, id: string): Promise<BackgroundSend> {
    return this.described(await this.own(actor, id));
  }

  /** The user's sends, newest first (an administrator's own). */
  async list(actor: Actor, limit = 20): Promise<BackgroundSend[]> {
    const rows: SendRow[] = await this.engine.db.knex('cane_sms_sends').where('user_id', actor.id ?? 'system').orderBy('date_entered', 'desc').orderBy('id').limit(limit);
    return Promise.all(rows.map((row) => this.described(row)));
  }

  private async described(row: SendRow): Promise<BackgroundSend> {
    const send = this.view(await this.settled(row));
    if (send.state === 'cancelled') {
      send.canceled = Number((await this.engine.db.knex('sms').where({ send_id: send.id, status: 'canceled' }).count({ n: '*' }))[0].n);
    }
    return send;
  }

  /**
   * A send still queued or sending whose job has ended without finishing it (its retries used up by
   * errors or by workers that died holding it) is failed, with the job's last message, instead of
   * looking busy for ever.
   */
  private async settled(row: SendRow): Promise<SendRow> {
    if (row.state !== 'queued' && row.state !== 'sending') return row;
    const job = await this.engine.db.knex(this.engine.jobs.table).where('id', row.job_id).first('status', 'resolution', 'message');
    if (!job || job.status !== 'done') return row;
    await this.fail(row.id, `the job running this send ended without finishing it: ${String(job.message ?? job.resolution).split('\n').pop()}`, Number(row.done), row.job_id);
    return (await this.row(row.id))!;
  }

  private async enqueue(knex: Knex, sendId: string, jobId: string, total: number): Promise<void> {
    await this.engine.jobs.enqueue({ target: BACKGROUND_SEND_JOB, id: jobId, name: `Send SMS to ${total} recipients`, data: { send_id: sendId }, retries: RUN_RETRIES, delaySeconds: 5 }, knex);
  }

  /** Whether the send was cancelled (the dispatcher asks before sending one of its messages). */
  async isCancelled(id: string): Promise<boolean> {
    const row = await this.engine.db.knex('cane_sms_sends').where('id', id).first('state');
    return row?.state === 'cancelled';
  }

  /**
   * Stops a send that is queued or sending after the page under way; its messages still queued are
   * cancelled as workers reach them (those already with the provider went).
   */
  async cancel(actor: Actor, id: string): Promise<BackgroundSend> {
    const row = await this.own(actor, id);
    const moved = await this.engine.db.knex('cane_sms_sends').where('id', row.id).whereIn('state', ['queued', 'sending']).update({ state: 'cancelled', date_finished: formatDateTime(this.clock()), date_modified: formatDateTime(this.clock()) });
    const after = (await this.row(row.id))!;
    if (!moved) throw new CaneError('invalid_parameter', `this send is ${after.state} and cannot be cancelled`, 422);
    return this.described(after);
  }

  private async own(actor: Actor, id: string): Promise<SendRow> {
    const row = await this.row(id);
    const mayRead = row && (row.user_id === (actor.id ?? 'system') || actor.type === 'system' || actor.isAdmin);
    if (!mayRead) throw new NotFoundError(`no SMS send with id '${String(id).slice(0, 36)}'`, { id });
    return row;
  }

  private async row(id: string): Promise<SendRow | undefined> {
    return this.engine.db.knex('cane_sms_sends').where('id', String(id).slice(0, 36)).first();
  }

  private async run(job: Job, signal: AbortSignal): Promise<string> {
    const sendId = (job.data as { send_id: string }).send_id;
    try {
      return await this.sendPages(job, sendId, signal);
    } catch (err) {
      // The last attempt of this run: the send ends failed rather than sending for ever.
      if (job.retryCount === 0) await this.fail(sendId, `gave up after repeated errors: ${err instanceof Error ? err.message : String(err)}`, undefined, job.id);
      throw err;
    }
  }

  /**
   * Sends pages from `done` on. Another worker may run the same send (this one's lease lapsed while
   * it was busy): pages are idempotent under the send's key and `done` moves by compare-and-set, so
   * either goes on from wherever `done` is. After PAGES_PER_RUN pages the rest goes to a new job.
   */
  private async sendPages(job: Job, sendId: string, signal: AbortSignal): Promise<string> {
    const knex = this.engine.db.knex;
    const row = await this.row(sendId);
    if (!row) return `not sent: send ${sendId} is gone`;
    if (row.state !== 'queued' && row.state !== 'sending') return `nothing to do: the send is ${row.state}`;
    const user: UserRow | undefined = await knex('users').where({ id: row.user_id, deleted: 0 }).first();
    if (!user || user.status === 'Inactive') return this.fail(row.id, `the user who made the send (${row.user_id}) is no longer active`);
    const actor = actorFor(user);
    const request = JSON.parse(row.request) as SendRequest;
    const now = formatDateTime(this.clock());
    await knex('cane_sms_sends').where({ id: row.id, state: 'queued' }).update({ state: 'sending', date_started: now, date_modified: now });
    const total = Number(row.total);
    for (let pages = 0; ; pages++) {
      if (signal.aborted) throw new Error('stopped; the rest is sent when the job runs again');
      const current = await knex('cane_sms_sends').where('id', row.id).first('state', 'done');
      if (!current || current.state !== 'sending') return `${current?.state ?? 'gone'} after ${current?.done ?? 0} of ${total}`;
      const done = Number(current.done);
      if (done >= total) break;
      if (pages === this.paging.pagesPerRun) return this.handOn(row.id, done, total);
      const end = Math.min(total, done + this.paging.page);
      const page: SendRequest = request.records ? { ...request, records: request.records.slice(done, end) } : { ...request, to: (request.to as string[]).slice(done, end) };
      let result;
      try {
        result = await this.sms.send(actor, page, 'bulk', { onePerNumber: true, backgroundSendId: row.id });
      } catch (err) {
        // The request can no longer be sent as it is (its template deleted, the sender's rights taken away).
        if (err instanceof CaneError && err.status < 500 && err.code !== 'refused_by_database') return this.fail(row.id, err.message, done);
        await knex('cane_sms_sends').where('id', row.id).update({ last_error: String(err instanceof Error ? err.message : err).slice(0, 2000), date_modified: formatDateTime(this.clock()) });
        throw err;
      }
      await this.advance(row.id, done, end, result.records.length, result.refused);
    }
    const finished = formatDateTime(this.clock());
    await knex('cane_sms_sends').where({ id: row.id, state: 'sending' }).update({ state: 'complete', date_finished: finished, date_modified: finished });
    const after = (await this.row(row.id))!;
    return `${after.state}: ${after.messages_queued} queued, ${after.refused_count} refused of ${total}`;
  }

  /** The rest of the send goes to a new job (its id derived from where it starts, so a rerun hands on to the same one). */
  private async handOn(sendId: string, done: number, total: number): Promise<string> {
    const next = deterministicId(`sms-send:${sendId}:${done}`);
    await this.engine.db.knex.transaction(async (trx) => {
      await this.enqueue(trx, sendId, next, total);
      await trx('cane_sms_sends').where('id', sendId).update({ job_id: next, date_modified: formatDateTime(this.clock()) });
    });
    return `sent ${done} of ${total}; job ${next} goes on`;
  }

  /** Moves `done` from `from` to `to` with the page's counts; false when another worker moved it first. */
  private async advance(id: string, from: number, to: number, queued: number, refused: Refusal[]): Promise<boolean> {
    return this.engine.db.knex.transaction(async (trx) => {
      const row: SendRow | undefined = await trx('cane_sms_sends').where({ id, done: from }).first('refused_by_code', 'refusals', 'messages_queued', 'refused_count');
      if (!row) return false;
      const byCode = JSON.parse(row.refused_by_code || '{}') as Record<string, number>;
      for (const r of refused) byCode[r.code] = (byCode[r.code] ?? 0) + 1;
      const kept = JSON.parse(row.refusals || '[]') as Refusal[];
      const refusals = kept.length < KEPT_REFUSALS ? [...kept, ...refused.slice(0, KEPT_REFUSALS - kept.length)] : kept;
      const moved = await trx('cane_sms_sends').where({ id, done: from }).update({
        done: to, messages_queued: Number(row.messages_queued) + queued, refused_count: Number(row.refused_count) + refused.length,
        refused_by_code: JSON.stringify(byCode), refusals: refusals === kept ? row.refusals : JSON.stringify(refusals), last_error: null, date_modified: formatDateTime(this.clock()),
      });
      return moved === 1;
    });
  }

  /** Fails a send still queued or sending (only while `jobId` runs it, when given: a handed-on send belongs to its new job). */
  private async fail(id: string, message: string, done?: number, jobId?: string): Promise<string> {
    const now = formatDateTime(this.clock());
    await this.engine.db.knex('cane_sms_sends').where('id', id).whereIn('state', ['queued', 'sending']).modify((q) => { if (jobId) q.andWhere('job_id', jobId); })
      .update({ state: 'failed', last_error: message.slice(0, 2000), date_finished: now, date_modified: now });
    this.log.warn({ send: id, done }, `SMS send to many failed: ${message}`);
    return `failed: ${message}`;
  }

  private view(row: SendRow): BackgroundSend {
    const at = (v: unknown) => (v ? String(v).slice(0, 19) : null);
    const done = Number(row.done);
    let rate: number | null = null;
    if (row.date_started && done > 0) {
      const end = row.date_finished ?? row.date_modified;
      const seconds = (dateFromDb(at(end)!).getTime() - dateFromDb(at(row.date_started)!).getTime()) / 1000;
      rate = Math.round(done / Math.max(1, seconds));
    }
    return {
      id: row.id, state: row.state, idempotency_key: row.idempotency_key, total: Number(row.total), done, queued: Number(row.messages_queued), refused: Number(row.refused_count),
      refused_by_code: JSON.parse(row.refused_by_code || '{}'), refusals: JSON.parse(row.refusals || '[]'), canceled: 0, rate, error: row.last_error ?? null,
      date_entered: at(row.date_entered)!, date_started: at(row.date_started), date_finished: at(row.date_finished),
    };
  }
}

/** The request with each record named once (the first time), so `done` and the counts are per record. */
function withoutRepeats(request: SendRequest): SendRequest {
  if (!request.records) return request;
  const seen = new Set<string>();
  const records = request.records.filter((r) => {
    const key = `${r.module}|${r.id.toLowerCase()}`;
    return !seen.has(key) && !!seen.add(key);
  });
  return records.length === request.records.length ? request : { ...request, records };
}

/** JSON with object keys sorted, so the same request written in another key order hashes the same. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v));
}
