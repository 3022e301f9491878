import type { Database } from '../db/connection';

/** A table SuiteCRM's installer creates and Cane never does: its presence means the database is shared with SuiteCRM. */
const SUITECRM_MARKER_TABLE = 'upgrade_history';

/**
 * Where Cane queues its jobs. SuiteCRM's cron claims every queued row of job_queue and fails the
 * ones whose function it lacks, so on a database shared with SuiteCRM Cane keeps its own queue
 * (cane_job_queue, same columns) and leaves job_queue to SuiteCRM. Otherwise Sugar's job_queue.
 */
export async function jobQueueTable(db: Database, configured: string | undefined): Promise<string> {
  if (configured) {
    if (configured !== 'job_queue' && configured !== 'cane_job_queue') throw new Error(`CANE_JOB_QUEUE_TABLE must be job_queue or cane_job_queue, got '${configured}'`);
    return configured;
  }
  return (await db.dialect.tables(db.knex)).has(SUITECRM_MARKER_TABLE) ? 'cane_job_queue' : 'job_queue';
}
