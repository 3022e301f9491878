import type { Database } from '../db/connection';
import { formatDateTime, type Clock } from '../records/time';
import type { JobQueue } from './job-queue';

/**
 * Jobs every Cane installation has, named like Sugar's scheduler functions so a `schedulers`
 * row with job 'function::cleanJobQueue' works as in Sugar.
 */
export function registerBuiltinJobs(queue: JobQueue, db: Database, clock: Clock): void {
  // Sugar's "Clean Jobs Queue": finished jobs older than 30 days are removed.
  queue.register('cleanJobQueue', async () => {
    const cutoff = formatDateTime(new Date(clock().getTime() - 30 * 86_400_000));
    const removed = await db.knex(queue.table).where('status', 'done').andWhere('date_modified', '<', cutoff).delete();
    return { message: `removed ${removed} finished jobs older than ${cutoff}` };
  });
}
