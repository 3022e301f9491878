import { JobQueue, type Job } from '../../core/jobs/job-queue';
import { cronFromInterval, deterministicId, SchedulerRunner } from '../../core/jobs/schedulers';
import { silentLogger } from '../../core/logger';
import { admin, describeEachEngine, fixedClock } from '../helpers/engine';

const clock = fixedClock('2026-05-01T08:00:00Z');

describeEachEngine('job queue', (get) => {
  function queue(leaseSeconds = 60, client?: string, db = get().db) {
    return new JobQueue(db, { clock, log: silentLogger, leaseSeconds, client });
  }

  beforeEach(async () => {
    clock.set('2026-05-01T08:00:00Z');
    await get().db.knex('job_queue').delete();
  });

  it('stores jobs in Sugar\'s job_queue shape and runs them once', async () => {
    const q = queue();
    const seen: Job[] = [];
    q.register('greet', async (job) => { seen.push(job); return { message: 'said hello' }; });
    const id = await q.enqueue({ target: 'greet', data: { who: 'world' } });
    const row = await get().db.knex('job_queue').where('id', id).first();
    expect(row).toMatchObject({ status: 'queued', resolution: 'queued', target: 'function::greet', execute_time: '2026-05-01 08:00:00' });
    expect(await q.runOnce()).toBe(1);
    expect(await q.runOnce()).toBe(0);
    expect(seen.map((j) => j.data)).toEqual([{ who: 'world' }]);
    expect(await get().db.knex('job_queue').where('id', id).first()).toMatchObject({ status: 'done', resolution: 'success', message: 'said hello' });
  });

  it('waits for execute_time', async () => {
    const q = queue();
    let runs = 0;
    q.register('later', async () => { runs++; });
    await q.enqueue({ target: 'later', executeTime: new Date('2026-05-01T09:00:00Z') });
    expect(await q.runOnce()).toBe(0);
    clock.advance(3600);
    expect(await q.runOnce()).toBe(1);
    expect(runs).toBe(1);
  });

  it('retries a failing job after job_delay, then fails it for good', async () => {
    const q = queue();
    let attempts = 0;
    q.register('flaky', async () => { attempts++; throw new Error(`failure ${attempts}`); });
    const id = await q.enqueue({ target: 'flaky', retries: 1, delaySeconds: 30 });
    await q.runOnce();
    let row = await get().db.knex('job_queue').where('id', id).first();
    expect(row).toMatchObject({ status: 'queued', retry_count: 0, failure_count: 1 });
    expect(await q.runOnce()).toBe(0);
    clock.advance(30);
    await q.runOnce();
    row = await get().db.knex('job_queue').where('id', id).first();
    expect(row).toMatchObject({ status: 'done', resolution: 'failure', failure_count: 2 });
    expect(row.message).toContain('attempt 2 failed: failure 2');
    expect(attempts).toBe(2);
  });

  it('runs a crashed worker\'s job again once its lease expires', async () => {
    const crashed = queue(60, 'crashed-worker');
    await crashed.enqueue({ target: 'report' });
    const [claimed] = await crashed.claim();
    expect(claimed).toBeDefined();
    const survivor = queue(60, 'survivor');
    let ran = 0;
    survivor.register('report', async () => { ran++; });
    expect(await survivor.runOnce()).toBe(0);
    clock.advance(61);
    expect(await survivor.runOnce()).toBe(1);
    expect(ran).toBe(1);
    expect(await get().db.knex('job_queue').where('id', claimed.id).first()).toMatchObject({ status: 'done', resolution: 'success', failure_count: 1 });
  });

  it("takes a killed worker's job back within the default 30 s lease, while a live worker's heartbeat keeps it", async () => {
    const crashed = new JobQueue(get().db, { clock, log: silentLogger, client: 'killed-worker' });
    await crashed.enqueue({ target: 'nightly' });
    const [claimed] = await crashed.claim();
    const survivor = new JobQueue(get().db, { clock, log: silentLogger, client: 'survivor-2' });
    let ran = 0;
    survivor.register('nightly', async () => { ran++; });
    clock.advance(20);
    expect(await survivor.runOnce()).toBe(0); // within the lease: still the killed worker's
    clock.advance(11);
    expect(await survivor.runOnce()).toBe(1);
    expect(ran).toBe(1);
    expect(await get().db.knex('job_queue').where('id', claimed.id).first()).toMatchObject({ status: 'done', resolution: 'success' });
  });

  it('never takes back a job it is running itself when its heartbeat is late; another worker does', async () => {
    const busy = queue(60, 'busy-worker');
    let release!: () => void;
    const running = new Promise<void>((resolve) => { release = resolve; });
    let started = 0;
    busy.register('slow', async () => { started++; await running; });
    const id = await busy.enqueue({ target: 'slow' });
    const run = busy.runOnce();
    while (!started) await new Promise((r) => setTimeout(r, 5));
    clock.advance(120); // its heartbeat (real time, every 20 s) has not written since the fixed clock moved on
    expect(await busy.recoverExpired()).toBe(0);
    expect(await get().db.knex('job_queue').where('id', id).first()).toMatchObject({ status: 'running', client: 'busy-worker', failure_count: 0 });
    expect(await queue(60, 'other-worker').recoverExpired()).toBe(1);
    release();
    await run;
  });

  it('queues a job with a caller-chosen id once', async () => {
    const q = queue();
    await q.enqueue({ target: 'once', id: 'after_save:Accounts:abc:1' });
    await q.enqueue({ target: 'once', id: 'after_save:Accounts:abc:1' });
    expect(await get().db.knex('job_queue').where('id', 'after_save:Accounts:abc:1')).toHaveLength(1);
  });

  // On MySQL the three workers claim through separate pooled connections at the same time.
  it('never hands one job to two workers', async () => {
    const producer = queue();
    for (let i = 0; i < 40; i++) await producer.enqueue({ target: 'work', data: i });
    const workers = [queue(60, 'w1'), queue(60, 'w2'), queue(60, 'w3')];
    const claims = await Promise.all(workers.map(async (w) => {
      const ids: string[] = [];
      for (;;) {
        const batch = await w.claim(3);
        if (!batch.length) return ids;
        ids.push(...batch.map((j) => j.id));
      }
    }));
    const all = claims.flat();
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40);
  });

  it('runs a batch target in sets across three workers: each job once, one failure retried alone, others keep a slot', async () => {
    const producer = queue();
    for (let i = 0; i < 300; i++) await producer.enqueue({ target: 'send', data: i, delaySeconds: 0 });
    await producer.enqueue({ target: 'other' });
    const runs: number[] = [];
    const sizes: number[] = [];
    let otherRan = false;
    let failedOnce = false;
    const workers = ['b1', 'b2', 'b3'].map((client) => {
      const q = queue(60, client);
      q.registerBatch('send', 25, async (jobs) => {
        sizes.push(jobs.length);
        await new Promise((r) => setTimeout(r, 5));
        return jobs.map((job) => {
          if (job.data === 7 && !failedOnce) { failedOnce = true; return { error: new Error('provider down') }; }
          runs.push(job.data as number);
          return { message: `sent ${String(job.data)}` };
        });
      });
      q.register('other', async () => { otherRan = true; });
      return q;
    });
    for (const w of workers) w.start(20, 3);
    const deadline = Date.now() + 30_000;
    while (runs.length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(workers.map((w) => w.stop()));
    expect(runs.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(otherRan).toBe(true);
    expect(Math.max(...sizes)).toBe(25);
    const rows = await get().db.knex('job_queue').where('target', 'function::send');
    expect(rows.filter((r: { status: string; resolution: string }) => r.status !== 'done' || r.resolution !== 'success')).toEqual([]);
    expect(rows.find((r: { data: string }) => r.data === '7')).toMatchObject({ failure_count: 1 });
    expect(rows.find((r: { data: string }) => r.data === '8')).toMatchObject({ failure_count: 0, message: 'sent 8' });
  });

  it('stop() waits for a poll in progress, so nothing touches the database after it returns', async () => {
    const { db } = get();
    const q = queue();
    q.register('noop', async () => undefined);
    await q.enqueue({ target: 'noop' });
    const late: string[] = [];
    let stopping: Promise<void> | undefined;
    let stopped = false;
    // Stop from inside the first poll's first query, the moment a closing engine can hit.
    const watch = (query: { sql: string }) => {
      if (stopped) late.push(query.sql);
      stopping ??= q.stop().then(() => { stopped = true; });
    };
    db.knex.on('query', watch);
    try {
      q.start(1000, 2);
      while (!stopping) await new Promise((r) => setTimeout(r, 1));
      await stopping;
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      db.knex.removeListener('query', watch);
    }
    expect(late).toEqual([]);
    expect(await db.knex('job_queue').first('status')).toMatchObject({ status: 'queued' });
  });

  it('fires schedulers into the queue once per minute, whatever the number of processes', async () => {
    const { records, db } = get();
    expect(cronFromInterval('*/5::*::*::*::*')).toBe('*/5 * * * *');
    expect(() => cronFromInterval('every day')).toThrow('must look like min::hour::day::month::weekday');
    const scheduler = await records.create(admin, 'Schedulers', {
      name: 'Prune', job: 'function::prune', job_interval: '0::3::*::*::*', status: 'Active', date_time_start: '2026-01-01 00:00:00', time_from: '02:00:00', time_to: '04:00:00',
    });
    const row = await db.knex('schedulers').where('id', scheduler.id).first();
    const queueA = queue();
    queueA.register('prune', async () => undefined);
    const runnerA = new SchedulerRunner(db, queueA, silentLogger);
    const runnerB = new SchedulerRunner(db, queue(), silentLogger);
    const at = new Date('2026-05-02T03:00:00Z');
    const [a, b] = await Promise.all([runnerA.fire(row, at), runnerB.fire(row, at)]);
    expect(a).toBe(deterministicId(`${scheduler.id}@2026-05-02 03:00`));
    expect(b).toBe(a);
    expect(await runnerA.fire(row, new Date('2026-05-02T05:00:00Z'))).toBeUndefined();
    const jobs = await db.knex('job_queue').where('scheduler_id', scheduler.id);
    expect(jobs).toHaveLength(1);
    const q = queue();
    q.register('prune', async () => undefined);
    clock.set('2026-05-02T03:00:30Z');
    await q.runOnce();
    expect((await db.knex('schedulers').where('id', scheduler.id).first()).last_run).toBe('2026-05-02 03:00:30');
    expect(await runnerA.start()).toBe(1);
    runnerA.stop();
  });
}, { clock });
