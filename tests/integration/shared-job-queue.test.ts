import { createEngine, type Engine } from '../../core/app/engine';
import { openDatabase } from '../../core/db/connection';
import { SchedulerRunner } from '../../core/jobs/schedulers';
import { silentLogger } from '../../core/logger';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { admin } from '../helpers/engine';

/**
 * Issue 13 (shared database, 6b): on a database SuiteCRM created, Cane and SuiteCRM's cron never
 * take each other's jobs, and Cane fires only the schedulers whose job it implements.
 */
for (const kind of databaseKinds) {
  describe(`a job queue shared with SuiteCRM [${kind}]`, () => {
    let scratch: TestDatabase;
    let engine: Engine;
    beforeAll(async () => {
      scratch = await createTestDatabase(kind);
      // what SuiteCRM's installer leaves: its upgrade_history table, and its job_queue with a job of its own
      const suite = openDatabase(scratch.url);
      await suite.knex.schema.createTable('upgrade_history', (t) => { t.string('id', 36).primary(); t.string('filename', 255); });
      await suite.knex.schema.createTable('job_queue', (t) => {
        t.string('id', 36).primary(); t.string('name', 255); t.boolean('deleted'); t.dateTime('date_entered'); t.dateTime('date_modified'); t.string('scheduler_id', 36);
        t.dateTime('execute_time'); t.string('status', 20); t.string('resolution', 20); t.text('message'); t.string('target', 255); t.text('data'); t.boolean('requeue');
        t.tinyint('retry_count'); t.tinyint('failure_count'); t.integer('job_delay'); t.string('client', 255); t.integer('percent_complete'); t.string('assigned_user_id', 36);
      });
      await suite.knex('job_queue').insert({ id: 'suite-job', name: 'Run Nightly Process Workflow Tasks', deleted: 0, date_entered: '2026-01-01 00:00:00', date_modified: '2026-01-01 00:00:00', execute_time: '2026-01-01 00:00:00', status: 'queued', resolution: 'queued', target: 'function::processAOW_Workflow', requeue: 0, retry_count: 0, failure_count: 0, job_delay: 0, client: '', percent_complete: 0 });
      await suite.close();
      engine = await createEngine({ databaseUrl: scratch.url, customDir: '/nonexistent', logger: silentLogger });
    });
    afterAll(async () => {
      await engine?.close();
      await scratch?.cleanup();
    });

    it('keeps Cane\'s jobs in cane_job_queue and never claims SuiteCRM\'s', async () => {
      expect(engine.jobs.table).toBe('cane_job_queue');
      const ran: string[] = [];
      engine.jobs.register('caneWork', async (job) => { ran.push(job.id); return { message: 'done' }; });
      const id = await engine.jobs.enqueue({ target: 'caneWork' });
      expect(await engine.db.knex('job_queue').where('id', id).first()).toBeUndefined();
      expect(await engine.jobs.runOnce(10)).toBe(1);
      expect(ran).toEqual([id]);
      expect(await engine.db.knex('cane_job_queue').where('id', id).first()).toMatchObject({ status: 'done', resolution: 'success' });
      // SuiteCRM's job is untouched: still queued, unclaimed, not failed
      expect(await engine.db.knex('job_queue').where('id', 'suite-job').first()).toMatchObject({ status: 'queued', client: '', failure_count: 0 });
    });

    it('fires only the schedulers whose job Cane implements', async () => {
      await engine.records.create(admin, 'Schedulers', { name: 'Run Nightly Process Workflow Tasks', job: 'function::processAOW_Workflow', job_interval: '*::*::*::*::*', status: 'Active', date_time_start: '2026-01-01 00:00:00' });
      await engine.records.create(admin, 'Schedulers', { name: 'Prune Job Queue', job: 'function::cleanJobQueue', job_interval: '0::3::*::*::*', status: 'Active', date_time_start: '2026-01-01 00:00:00' });
      const runner = new SchedulerRunner(engine.db, engine.jobs, silentLogger);
      expect(await runner.start()).toBe(1);
      runner.stop();
    });
  });
}

describe('the job queue table setting', () => {
  it('is job_queue on a database of Cane\'s own and refuses other names', async () => {
    const scratch = await createTestDatabase('sqlite');
    const engine = await createEngine({ databaseUrl: scratch.url, customDir: '/nonexistent', logger: silentLogger });
    try {
      expect(engine.jobs.table).toBe('job_queue');
    } finally {
      await engine.close();
    }
    await expect(createEngine({ databaseUrl: scratch.url, customDir: '/nonexistent', logger: silentLogger, jobQueueTable: 'jobs' })).rejects.toThrow("CANE_JOB_QUEUE_TABLE must be job_queue or cane_job_queue, got 'jobs'");
    await scratch.cleanup();
  });
});
