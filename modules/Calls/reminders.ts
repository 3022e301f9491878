import crypto from 'node:crypto';
import type { HookDefinition } from '../../core/hooks/types';
import type { JobQueue } from '../../core/jobs/job-queue';
import type { Database } from '../../core/db/connection';
import type { RecordService } from '../../core/records/record-service';
import { SYSTEM } from '../../core/records/actor';
import { dateFromDb, formatDateTime, parseDateTime, type Clock } from '../../core/records/time';
import { NotFoundError } from '../../core/errors';
import type { Registry } from '../../core/metadata/registry';

/** The job that turns a due reminder into an alert (SuiteCRM's Alerts: the bell the assigned user sees). */
export const REMINDER_JOB = 'activityReminder';

/** What a queued reminder remembers; the job re-reads the record and gives up when any of it changed. */
export interface ReminderData {
  module: string;
  id: string;
  /** UTC 'Y-m-d H:i:s' the reminder was queued for. */
  due: string;
}

export interface ReminderServices {
  jobs?: JobQueue;
  records?: RecordService;
  clock?: Clock;
}

/**
 * When a Call's or Meeting's reminder is due: reminder_time seconds (SuiteCRM's reminder_time_options;
 * -1 is none) before date_start, while the activity is Planned and has not started.
 */
export function reminderDue(record: Record<string, unknown>, now: Date): Date | undefined {
  const seconds = Number(record.reminder_time);
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  if (record.status && record.status !== 'Planned') return undefined;
  const start = typeof record.date_start === 'string' ? parseDateTime(record.date_start) : undefined;
  if (!start || dateFromDb(start) <= now) return undefined;
  return new Date(dateFromDb(start).getTime() - seconds * 1000);
}

/** One job name per record, so the queued reminder of a record can be found and cancelled. */
const jobName = (module: string, id: string) => `Reminder ${module} ${id}`;

/** Queued (not yet running) reminders of a record are marked done/cancelled. */
async function cancelQueued(db: Database, jobs: JobQueue, module: string, id: string, now: Date): Promise<void> {
  await db.knex(jobs.table).where({ name: jobName(module, id), status: 'queued', deleted: 0 })
    .update({ status: 'done', resolution: 'cancelled', message: 'Reminder cancelled: the activity changed or was deleted', date_modified: formatDateTime(now) });
}

/**
 * Calls and Meetings queue their reminder on save, re-queue it when date_start, reminder_time or
 * status change, and cancel it when the record is deleted.
 */
export function reminderHooks(db: Database, services: ReminderServices): HookDefinition[] {
  return [
    {
      event: 'after_save', order: 10, label: 'Queue the reminder',
      handler: async (bean, _event, args) => {
        const { jobs } = services;
        if (!jobs) return;
        const fields = ['date_start', 'reminder_time', 'status', 'assigned_user_id'];
        if (args.isUpdate && !fields.some((f) => f in args.dataChanges)) return;
        const id = String(bean.id);
        const now = (services.clock ?? (() => new Date()))();
        // a new record has no reminder queued yet
        if (args.isUpdate) await cancelQueued(db, jobs, bean.module_dir, id, now);
        const due = reminderDue(bean, now);
        if (!due) return;
        const data: ReminderData = { module: bean.module_dir, id, due: formatDateTime(due) };
        await jobs.enqueue({ target: REMINDER_JOB, name: jobName(bean.module_dir, id), data, executeTime: due, retries: 3, assignedUserId: typeof bean.assigned_user_id === 'string' ? bean.assigned_user_id : undefined });
      },
    } satisfies HookDefinition<'after_save'> as HookDefinition,
    {
      event: 'after_delete', order: 10, label: 'Cancel the reminder',
      handler: async (bean) => {
        if (services.jobs) await cancelQueued(db, services.jobs, bean.module_dir, String(bean.id), (services.clock ?? (() => new Date()))());
      },
    } satisfies HookDefinition<'after_delete'> as HookDefinition,
  ];
}

/**
 * The reminder job: when the activity is still as it was queued, one Alerts row for its assigned
 * user ("Reminder: <subject>"), as SuiteCRM's reminder popup leaves one; otherwise nothing.
 */
export function registerReminderJob(jobs: JobQueue, db: Database, registry: Registry, records: RecordService): void {
  jobs.register(REMINDER_JOB, async (job) => {
    const data = job.data as ReminderData;
    const activity = await records.retrieve(SYSTEM, data.module, data.id).catch((err) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (!activity) return { message: 'skipped: the activity was deleted' };
    const due = reminderDue(activity, new Date(0));
    if (!due || formatDateTime(due) !== data.due) return { message: 'skipped: the reminder changed since it was queued' };
    const start = parseDateTime(String(activity.date_start)) ?? '';
    const alertId = deterministicAlertId(job.id);
    // a retry of a job whose alert was already written keeps the one alert
    if (await db.knex('alerts').where('id', alertId).first()) return { message: 'alert already written' };
    const singular = registry.dropdown('moduleListSingular')?.[data.module] ?? data.module;
    await records.create(SYSTEM, 'Alerts', {
      id: alertId,
      name: `Reminder: ${String(activity.name ?? '')}`.slice(0, 255),
      description: `${singular} starts at ${start} UTC`,
      is_read: false,
      target_module: data.module,
      type: 'info',
      url_redirect: `index.php?action=DetailView&module=${data.module}&record=${data.id}`,
      assigned_user_id: activity.assigned_user_id ?? null,
    });
    return { message: `alert ${alertId} for ${String(activity.assigned_user_id ?? 'nobody')}` };
  });
}

function deterministicAlertId(jobId: string): string {
  const hex = crypto.createHash('sha1').update(`alert:${jobId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
