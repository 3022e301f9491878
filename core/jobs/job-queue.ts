import crypto from 'node:crypto';
import os from 'node:os';
import { setMaxListeners } from 'node:events';
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import type { Logger } from '../records/context';
import { formatDateTime, type Clock } from '../records/time';
import { updateEach } from '../db/update-each';

/** A row of Sugar's job_queue, as handlers see it. */
export interface Job {
  id: string;
  name: string;
  target: string;
  data: unknown;
  schedulerId: string | null;
  assignedUserId: string | null;
  /** Retries left after this run. */
  retryCount: number;
  failureCount: number;
  executeTime: string;
}

export interface JobRunContext {
  /** Aborted when the worker stops or loses the lease. */
  signal: AbortSignal;
}

export type JobHandler = (job: Job, context: JobRunContext) => Promise<void | { message?: string }>;

/** What one job of a batch came to: a message for the done row, or the error that failed it. */
export type BatchOutcome = { message?: string } | { error: unknown };

/** Runs several claimed jobs of one target together; answers one outcome per job, in order. */
export type BatchJobHandler = (jobs: Job[], context: JobRunContext) => Promise<BatchOutcome[]>;

export interface EnqueueOptions {
  /** Handler name; stored as target 'function::<name>' like Sugar's scheduler jobs. */
  target: string;
  name?: string;
  data?: unknown;
  /** When the job becomes eligible (default: now). */
  executeTime?: Date;
  /** Retries after a failure or an expired lease (default 5). */
  retries?: number;
  /** Seconds between retries (default 60). */
  delaySeconds?: number;
  /** A caller-chosen id makes enqueueing idempotent: the same id is queued once. */
  id?: string;
  schedulerId?: string;
  assignedUserId?: string;
}

export interface JobQueueOptions {
  clock: Clock;
  log: Logger;
  /** A running job whose heartbeat is older than this is considered abandoned (default 30 s; the heartbeat renews it every third of that). */
  leaseSeconds?: number;
  /** Identifies this worker in job_queue.client. */
  client?: string;
  /** The table the queue lives in: Sugar's job_queue, or cane_job_queue on a database shared with SuiteCRM. */
  table?: string;
}

const FUNCTION_PREFIX = 'function::';
/** Long enough for any heartbeat to get through a busy moment, short enough that a killed worker's jobs run again within seconds. */
export const DEFAULT_LEASE_SECONDS = 30;

/**
 * Durable work on Sugar's job_queue table. Jobs are claimed atomically (FOR UPDATE SKIP LOCKED
 * on MySQL/MariaDB, a compare-and-set update everywhere), kept alive by a heartbeat on
 * date_modified, and re-queued when a worker's lease expires, so a crash loses nothing.
 */
export class JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly batchHandlers = new Map<string, { size: number; handler: BatchJobHandler }>();
  private readonly leaseSeconds: number;
  readonly client: string;
  /** Ids of the jobs this process is running now. */
  private readonly inHand = new Set<string>();
  readonly table: string;
  private timer: NodeJS.Timeout | undefined;
  private running = new Set<Promise<void>>();
  private runningBatches = 0;
  /** The poll in progress, if any: stop() waits for it so no claim runs on a closed database. */
  private polling: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly db: Database, private readonly options: JobQueueOptions) {
    this.leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    this.table = options.table ?? 'job_queue';
    this.client = options.client ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
    // Every running job listens for stop(); more than ten may run at once.
    setMaxListeners(0, this.abort.signal);
  }

  register(target: string, handler: JobHandler): void {
    if (this.handlers.has(target) || this.batchHandlers.has(target)) throw new Error(`a job handler named '${target}' is already registered`);
    this.handlers.set(target, handler);
  }

  /**
   * A handler that takes up to `size` due jobs of its target at once (claimed, kept alive and
   * marked done together), for work that is cheaper in sets, such as sending SMS.
   */
  registerBatch(target: string, size: number, handler: BatchJobHandler): void {
    if (this.handlers.has(target) || this.batchHandlers.has(target)) throw new Error(`a job handler named '${target}' is already registered`);
    this.batchHandlers.set(target, { size: Math.max(1, size), handler });
  }

  hasHandler(target: string): boolean {
    const name = stripPrefix(target);
    return this.handlers.has(name) || this.batchHandlers.has(name);
  }

  private now(offsetSeconds = 0): string {
    return formatDateTime(new Date(this.options.clock().getTime() + offsetSeconds * 1000));
  }

  /** Queues a job (inside the caller's transaction when `trx` is given); returns its id. */
  async enqueue(options: EnqueueOptions, trx?: Knex): Promise<string> {
    const knex = trx ?? this.db.knex;
    const id = options.id ?? crypto.randomUUID();
    const now = this.now();
    const row = {
      id,
      name: options.name ?? options.target,
      deleted: 0,
      date_entered: now,
      date_modified: now,
      scheduler_id: options.schedulerId ?? null,
      execute_time: options.executeTime ? formatDateTime(options.executeTime) : now,
      status: 'queued',
      resolution: 'queued',
      message: null,
      target: `${FUNCTION_PREFIX}${stripPrefix(options.target)}`,
      data: options.data === undefined ? null : JSON.stringify(options.data),
      requeue: 1,
      retry_count: options.retries ?? 5,
      failure_count: 0,
      job_delay: options.delaySeconds ?? 60,
      client: '',
      percent_complete: 0,
      assigned_user_id: options.assignedUserId ?? null,
    };
    try {
      await knex(this.table).insert(row);
    } catch (err) {
      if (options.id && this.db.dialect.isDuplicateKey(err)) return id;
      throw err;
    }
    return id;
  }

  /** Claims up to `limit` due jobs (of one target when given) for this worker. */
  async claim(limit = 1, target?: string): Promise<Job[]> {
    const { knex, dialect } = this.db;
    const now = this.now();
    let claimed: Job[] = [];
    await knex.transaction(async (trx) => {
      const candidates = await trx(this.table)
        .select('*')
        .where({ status: 'queued', deleted: 0 })
        .andWhere('execute_time', '<=', now)
        .modify((q) => { if (target) q.andWhere('target', `${FUNCTION_PREFIX}${stripPrefix(target)}`); })
        .orderBy([{ column: 'execute_time' }, { column: 'date_entered' }])
        .limit(limit)
        .modify((q) => {
          if (dialect.skipLocked) q.forUpdate().skipLocked();
        });
      if (!candidates.length) return;
      const ids: string[] = candidates.map((row: { id: string }) => row.id);
      const updated = await trx(this.table)
        .whereIn('id', ids).andWhere('status', 'queued')
        .update({ status: 'running', resolution: 'running', client: this.client, date_modified: now });
      if (updated === ids.length) {
        claimed = candidates.map(toJob);
        return;
      }
      // Another worker took some between the read and the write: keep the ones now running here.
      const mine = new Set((await trx(this.table).whereIn('id', ids).andWhere({ status: 'running', client: this.client }).select('id')).map((row: { id: string }) => row.id));
      claimed = candidates.filter((row: { id: string }) => mine.has(row.id)).map(toJob);
    });
    return claimed;
  }

  /**
   * Re-queues (or fails, when no retries are left) jobs whose worker stopped sending heartbeats.
   * Jobs this process is running are never among them: a late heartbeat here (one that waited on
   * SQLite's write lock, on a starved machine) does not make its own live jobs look abandoned.
   */
  async recoverExpired(): Promise<number> {
    const cutoff = this.now(-this.leaseSeconds);
    const expired = (await this.db.knex(this.table).where({ status: 'running', deleted: 0 }).andWhere('date_modified', '<', cutoff))
      .filter((row: { id: string; client: string }) => !(row.client === this.client && this.inHand.has(row.id)));
    let count = 0;
    for (const row of expired) {
      // The worker is gone, not the work: queue it again at once rather than after job_delay.
      const ok = await this.finishAttempt(row, `lease expired: worker ${row.client} stopped answering`, row.client, 0);
      if (ok) count++;
    }
    return count;
  }

  /** Claims and runs due jobs (of one target when given) once; returns how many ran. */
  async runOnce(limit = 10, target?: string): Promise<number> {
    await this.recoverExpired();
    const jobs = await this.claim(limit, target);
    for (const job of jobs) await this.execute(job);
    return jobs.length;
  }

  /** Batches of batch targets first, using at most all but one slot so other work keeps moving. */
  private async claimBatches(free: number, concurrency: number): Promise<{ batches: Job[][]; full: boolean }> {
    const batches: Job[][] = [];
    let full = false;
    const allowed = concurrency > 1 ? Math.min(free, concurrency - 1 - this.runningBatches) : free;
    for (const [target, { size }] of this.batchHandlers) {
      while (batches.length < allowed && !this.abort.signal.aborted) {
        const jobs = await this.claim(size, target);
        if (!jobs.length) break;
        batches.push(jobs);
        if (jobs.length < size) break;
        full = true;
      }
    }
    return { batches, full };
  }

  /** Polls for work until stop(); polls again at once while there is more work than free slots. */
  start(pollMs = 1000, concurrency = 4): void {
    if (this.timer || this.abort.signal.aborted) return;
    const schedule = (ms: number) => {
      if (this.abort.signal.aborted) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(tick, ms);
    };
    const poll = async (): Promise<boolean> => {
      await this.recoverExpired();
      let free = concurrency - this.running.size;
      if (free <= 0 || this.abort.signal.aborted) return false;
      const { batches, full } = await this.claimBatches(free, concurrency);
      free -= batches.length;
      const jobs = free > 0 ? await this.claim(free) : [];
      const busy = full || (free > 0 && jobs.length === free);
      const track = (run: Promise<void>) => {
        // A job whose result cannot be written (the database went away) stays running under this
        // worker; its lease runs out and it is queued again once the database answers.
        const tracked = run.catch((err) => this.options.log.error({ err }, 'could not record a job\'s result; it runs again when its lease expires')).finally(() => {
          this.running.delete(tracked);
          if (busy) schedule(0); // a slot freed while work was waiting
        });
        this.running.add(tracked);
      };
      for (const batch of batches) {
        this.runningBatches++;
        track(this.executeBatch(batch).finally(() => { this.runningBatches--; }));
      }
      for (const job of jobs) track(this.execute(job));
      return busy;
    };
    let pollAgain = false;
    // While the database does not answer, one line when it stops, one when it is back, and a poll a second meanwhile.
    let failingSince: number | undefined;
    const tick = () => {
      if (this.abort.signal.aborted) return;
      if (this.polling) {
        pollAgain = true; // a slot freed during this poll: look again when it ends
        return;
      }
      pollAgain = false;
      this.polling = poll()
        .then((busy) => {
          if (failingSince !== undefined) this.options.log.warn(`job queue: the database answers again after ${((Date.now() - failingSince) / 1000).toFixed(1)} s; jobs of that time run again as their leases expire`);
          failingSince = undefined;
          return busy;
        }, (err) => {
          if (failingSince === undefined) this.options.log.error({ err }, 'job queue: polling failed; trying again every second until the database answers');
          failingSince ??= Date.now();
          return false;
        })
        .then((busy) => {
          this.polling = undefined;
          if (failingSince !== undefined) schedule(Math.max(pollMs, 1000));
          else if (pollAgain) schedule(0);
          else if (!busy) schedule(pollMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await Promise.allSettled([...this.running]);
  }

  private async execute(job: Job): Promise<void> {
    if (this.batchHandlers.has(stripPrefix(job.target))) return this.executeBatch([job]);
    const handler = this.handlers.get(stripPrefix(job.target));
    const failed = async (message: string) => {
      const row = await this.db.knex(this.table).where('id', job.id).first();
      if (row) await this.finishAttempt(row, message, this.client);
    };
    if (!handler) {
      await failed(`no handler registered for ${job.target}`);
      return;
    }
    const controller = new AbortController();
    const onStop = () => controller.abort();
    this.abort.signal.addEventListener('abort', onStop);
    this.inHand.add(job.id);
    const heartbeat = setInterval(() => {
      this.db.knex(this.table).where({ id: job.id, client: this.client, status: 'running' }).update({ date_modified: this.now() })
        .then((n) => { if (n === 0) controller.abort(); })
        .catch((err) => this.options.log.warn({ err, job: job.id }, 'job heartbeat failed'));
    }, Math.max(1000, (this.leaseSeconds * 1000) / 3));
    try {
      const result = await handler(job, { signal: controller.signal });
      await this.db.knex(this.table).where({ id: job.id, client: this.client }).update({
        status: 'done', resolution: 'success', message: result?.message ?? null, percent_complete: 100, date_modified: this.now(),
      });
      if (job.schedulerId) await this.db.knex('schedulers').where('id', job.schedulerId).update({ last_run: this.now() });
    } catch (err) {
      this.options.log.warn({ err, job: job.id, target: job.target }, 'job failed');
      await failed(err instanceof Error ? err.message : String(err));
    } finally {
      clearInterval(heartbeat);
      this.inHand.delete(job.id);
      this.abort.signal.removeEventListener('abort', onStop);
    }
  }

  /** Jobs of one batch target, run by its handler together: one heartbeat, one done mark for those that succeeded. */
  private async executeBatch(jobs: Job[]): Promise<void> {
    const { handler } = this.batchHandlers.get(stripPrefix(jobs[0].target))!;
    const ids = jobs.map((job) => job.id);
    const controller = new AbortController();
    // Every job of the batch may wait on this signal (a sender's rate, say).
    setMaxListeners(0, controller.signal);
    const onStop = () => controller.abort();
    this.abort.signal.addEventListener('abort', onStop);
    for (const id of ids) this.inHand.add(id);
    const heartbeat = setInterval(() => {
      this.db.knex(this.table).whereIn('id', ids).andWhere({ client: this.client, status: 'running' }).update({ date_modified: this.now() })
        .then((n) => { if (n === 0) controller.abort(); })
        .catch((err) => this.options.log.warn({ err, jobs: ids.length }, 'job heartbeat failed'));
    }, Math.max(1000, (this.leaseSeconds * 1000) / 3));
    const failed = async (job: Job, err: unknown) => {
      this.options.log.warn({ err, job: job.id, target: job.target }, 'job failed');
      const row = await this.db.knex(this.table).where('id', job.id).first();
      if (row) await this.finishAttempt(row, err instanceof Error ? err.message : String(err), this.client);
    };
    try {
      let outcomes: BatchOutcome[];
      try {
        outcomes = await handler(jobs, { signal: controller.signal });
      } catch (err) {
        outcomes = jobs.map(() => ({ error: err }));
      }
      const now = this.now();
      const done = jobs.flatMap((job, i) => {
        const outcome = outcomes[i] ?? { error: new Error('the batch handler gave no outcome for this job') };
        return 'error' in outcome ? [] : [{ id: job.id, values: { status: 'done', resolution: 'success', message: outcome.message ?? null, percent_complete: 100, date_modified: now } }];
      });
      await updateEach(this.db.knex, this.table, done, (q) => q.andWhere('client', this.client));
      for (const [i, job] of jobs.entries()) {
        const outcome = outcomes[i];
        if (!outcome || 'error' in outcome) await failed(job, outcome ? outcome.error : new Error('the batch handler gave no outcome for this job'));
        else if (job.schedulerId) await this.db.knex('schedulers').where('id', job.schedulerId).update({ last_run: now });
      }
    } finally {
      clearInterval(heartbeat);
      for (const id of ids) this.inHand.delete(id);
      this.abort.signal.removeEventListener('abort', onStop);
    }
  }

  /** A failed attempt: queue again after job_delay while retries are left, else done/failure. */
  private async finishAttempt(row: Record<string, unknown>, message: string, client: unknown, delaySeconds = Number(row.job_delay ?? 0)): Promise<boolean> {
    const retries = Number(row.retry_count ?? 0);
    const failures = Number(row.failure_count ?? 0) + 1;
    const note = `${String(row.message ?? '')}${row.message ? '\n' : ''}${this.now()} attempt ${failures} failed: ${message}`.slice(-60000);
    const retry = Number(row.requeue ?? 0) === 1 && retries > 0;
    const updated = await this.db.knex(this.table).where({ id: row.id, status: 'running', client }).update(retry
      ? { status: 'queued', resolution: 'queued', retry_count: retries - 1, failure_count: failures, message: note, client: '', execute_time: this.now(delaySeconds), date_modified: this.now() }
      : { status: 'done', resolution: 'failure', failure_count: failures, message: note, date_modified: this.now() });
    return updated === 1;
  }
}

function stripPrefix(target: string): string {
  return target.startsWith(FUNCTION_PREFIX) ? target.slice(FUNCTION_PREFIX.length) : target;
}

function toJob(row: Record<string, unknown>): Job {
  let data: unknown = null;
  if (typeof row.data === 'string' && row.data !== '') {
    try { data = JSON.parse(row.data); } catch { data = row.data; }
  }
  return {
    id: String(row.id), name: String(row.name), target: String(row.target), data,
    schedulerId: (row.scheduler_id as string) ?? null, assignedUserId: (row.assigned_user_id as string) ?? null,
    retryCount: Number(row.retry_count ?? 0), failureCount: Number(row.failure_count ?? 0), executeTime: String(row.execute_time).slice(0, 19),
  };
}
