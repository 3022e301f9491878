import { openDatabase } from '../../core/db/connection';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { FakeTwilio } from '../helpers/fake-twilio';
import { startWorker as startFixture } from '../helpers/worker-process';

const startWorker = (args: string[], env: Record<string, string>) => startFixture('sms-crash-worker.ts', args, env);

const MESSAGES = 90;
const RATE = 15;

/**
 * Issue 15, item 3: the sender's rate is one schedule in the database. Three worker processes send
 * one queue of single-segment messages under SMS_RATE; in no stretch of time does the fake Twilio
 * receive more than the rate allows (within one second's worth: timer jitter and lock waits), whichever process sent them.
 * How close the total comes to the rate is a benchmark figure (npm run bench:sms), not asserted here.
 */
for (const kind of databaseKinds) {
  describe(`three worker processes share one SMS rate [${kind}]`, () => {
    let fake: FakeTwilio;
    let db: TestDatabase;
    beforeAll(async () => {
      fake = await FakeTwilio.start();
      db = await createTestDatabase(kind);
    });
    afterAll(async () => {
      await fake.close();
      await db.cleanup();
    });

    test(`${MESSAGES} messages at ${RATE}/s across three processes`, async () => {
      const env = { DATABASE_URL: db.url, FAKE_TWILIO_URL: fake.url, SMS_RATE: String(RATE), CANE_TEST_MYSQL_URL: '' };
      // Three workers wait, ready, on an empty queue; then another process queues every message at once.
      expect(await startWorker(['queue', '0'], env).exited).toBe(0); // the schema, made once
      const workers = [0, 1, 2].map(() => startWorker(['work'], { ...env, WORKER_WAIT: '1' }));
      const deadline = Date.now() + 90_000;
      while (!workers.every((w) => w.output().includes('ready')) && Date.now() < deadline) {
        const dead = workers.find((w) => w.child.exitCode !== null);
        if (dead) throw new Error(`worker exited early: ${dead.output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const queue = startWorker(['queue', String(MESSAGES)], env);
      expect(await queue.exited).toBe(0);
      const codes = await Promise.all(workers.map((w) => w.exited));
      expect({ codes, output: workers.map((w) => w.output()) }).toEqual({ codes: [0, 0, 0], output: ['ready\ndone\n', 'ready\ndone\n', 'ready\ndone\n'] });

      expect(new Set(fake.messages.map((m) => m.to)).size).toBe(MESSAGES);
      const times = fake.messages.map((m) => m.dateCreated.getTime()).sort((a, b) => a - b);
      // In no stretch of time did more go out than the rate allows, give or take one second's worth (the
      // bucket's burst): a timer that fires late on a busy machine, or a worker waiting on SQLite's write
      // lock, sends its message together with the next ones. Three
      // processes each keeping their own rate would run 60 messages ahead over this run.
      let excess = 0;
      for (let i = 0; i < times.length; i++) {
        for (let j = i + 1; j < times.length; j++) excess = Math.max(excess, j - i - (RATE * (times[j] - times[i])) / 1000);
      }
      expect(excess).toBeLessThanOrEqual(RATE);
      // More than one process did the sending.
      const conn = openDatabase(db.url);
      try {
        const clients = await conn.knex('job_queue').where({ status: 'done' }).andWhere('target', 'like', '%sms.dispatch').distinct('client');
        expect(clients.length).toBeGreaterThan(1);
      } finally {
        await conn.close();
      }
    }, 120_000);
  });
}
