import crypto from 'node:crypto';
import schedule from 'node-schedule';
import type { Database } from '../db/connection';
import type { Logger } from '../records/context';
import { formatDateTime } from '../records/time';
import type { JobQueue } from './job-queue';

/** Sugar's job_interval 'min::hour::day::month::weekday' -> a cron expression. */
export function cronFromInterval(interval: string): string {
  const parts = interval.split('::');
  if (parts.length !== 5 || parts.some((p) => !/^[\d*/,-]+$/.test(p))) {
    throw new Error(`job_interval '${interval}' must look like min::hour::day::month::weekday, e.g. */5::*::*::*::*`);
  }
  return parts.join(' ');
}

interface SchedulerRow {
  id: string;
  name: string;
  job: string;
  job_interval: string;
  date_time_start: string | null;
  date_time_end: string | null;
  time_from: string | null;
  time_to: string | null;
  status: string;
}

/**
 * Fires the rows of Sugar's `schedulers` table with node-schedule. A firing only enqueues a
 * job_queue row whose id is derived from the scheduler and the minute, so several Cane
 * processes firing at once queue the work once; node-schedule never holds work in memory.
 */
export class SchedulerRunner {
  private readonly timers = new Map<string, schedule.Job>();
  private readonly firing = new Set<Promise<unknown>>();

  constructor(private readonly db: Database, private readonly queue: JobQueue, private readonly log: Logger) {}

  /** (Re)loads active schedulers and arms a timer for each. */
  async start(): Promise<number> {
    this.stop();
    const rows: SchedulerRow[] = await this.db.knex('schedulers').where({ deleted: 0, status: 'Active' });
    // Schedulers whose job Cane does not implement (SuiteCRM's own, on a shared database) are left to their owner.
    const foreign = rows.filter((row) => !this.queue.hasHandler(row.job));
    if (foreign.length) this.log.info({ schedulers: foreign.map((row) => `${row.name} (${row.job})`) }, `${foreign.length} schedulers run jobs Cane does not implement; left to SuiteCRM's cron`);
    for (const row of rows.filter((r) => this.queue.hasHandler(r.job))) {
      let cron: string;
      try {
        cron = cronFromInterval(row.job_interval);
      } catch (err) {
        this.log.error({ scheduler: row.id }, (err as Error).message);
        continue;
      }
      const timer = schedule.scheduleJob(cron, (fireDate: Date) => {
        const firing = this.fire(row, fireDate).catch((err) => this.log.error({ err, scheduler: row.id }, 'scheduler could not enqueue its job'));
        this.firing.add(firing);
        void firing.finally(() => this.firing.delete(firing));
      });
      if (timer) this.timers.set(row.id, timer);
    }
    return this.timers.size;
  }

  /** Enqueues the scheduler's job for one firing, if the firing falls inside its date and time windows. */
  async fire(row: SchedulerRow, fireDate: Date): Promise<string | undefined> {
    const at = formatDateTime(fireDate);
    if (row.date_time_start && at < String(row.date_time_start).slice(0, 19)) return undefined;
    if (row.date_time_end && at > String(row.date_time_end).slice(0, 19)) return undefined;
    const time = at.slice(11);
    if (row.time_from && time < String(row.time_from)) return undefined;
    if (row.time_to && time > String(row.time_to)) return undefined;
    const minute = at.slice(0, 16);
    const id = deterministicId(`${row.id}@${minute}`);
    return this.queue.enqueue({ id, target: row.job, name: row.name, schedulerId: row.id, retries: 0 });
  }

  stop(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }

  /** Waits for firings already under way (call after stop(), before closing the database). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.firing]);
  }
}

/** A UUID-shaped id derived from a key (SHA-1, version 5 layout). */
export function deterministicId(key: string): string {
  const hex = crypto.createHash('sha1').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
