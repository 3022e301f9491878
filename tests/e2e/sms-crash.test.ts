import { openDatabase } from '../../core/db/connection';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { FakeTwilio } from '../helpers/fake-twilio';
import { startWorker as startFixture } from '../helpers/worker-process';

const startWorker = (args: string[], env: Record<string, string>) => startFixture('sms-crash-worker.ts', args, env);

const MESSAGES = 1000;

for (const kind of databaseKinds) {
  describe(`SMS dispatch survives SIGKILL [${kind}]`, () => {
    let fake: FakeTwilio;
    let db: TestDatabase;
    beforeAll(async () => {
      fake = await FakeTwilio.start();
      // Long enough that the kill always finds messages mid-send (claimed, answer not stored yet).
      fake.latencyMs = 20;
      db = await createTestDatabase(kind);
    });
    afterAll(async () => {
      await fake.close();
      await db.cleanup();
    });

    test(`a process sending ${MESSAGES} messages is killed midway; after a restart each was received exactly once`, async () => {
      const env = { DATABASE_URL: db.url, FAKE_TWILIO_URL: fake.url, CANE_TEST_MYSQL_URL: '' };
      const first = startWorker(['enqueue', String(MESSAGES)], env);
      const deadline = Date.now() + 120_000;
      while (fake.messages.length < MESSAGES / 3 && Date.now() < deadline) {
        if (first.child.exitCode !== null) throw new Error(`worker exited early: ${first.output()}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      first.child.kill('SIGKILL');
      await first.exited;
      const atKill = fake.messages.length;
      expect(atKill).toBeLessThan(MESSAGES);
      // The kill must leave messages mid-send (claimed, maybe received by Twilio, SID not stored).
      const before = openDatabase(db.url);
      const inFlight = await before.knex('sms').where('status', 'sending').count({ n: '*' }).first();
      await before.close();
      expect(Number(inFlight?.n)).toBeGreaterThan(0);

      const second = startWorker(['work'], env);
      const code = await second.exited;
      expect({ code, output: second.output() }).toEqual({ code: 0, output: 'done\n' });

      const perNumber = new Map<string, number>();
      for (const m of fake.messages) perNumber.set(m.to, (perNumber.get(m.to) ?? 0) + 1);
      expect(perNumber.size).toBe(MESSAGES);
      expect([...perNumber.values()].filter((n) => n !== 1)).toEqual([]);

      const conn = openDatabase(db.url);
      try {
        const rows = await conn.knex('sms').select('status', 'provider_message_id');
        expect(rows).toHaveLength(MESSAGES);
        expect(rows.filter((r: { status: string }) => r.status !== 'accepted')).toEqual([]);
        // Jobs of the killed worker come back through lease expiry (one failed attempt each); none may end in failure.
        expect(await conn.knex('job_queue').where({ resolution: 'failure' }).select('message', 'failure_count', 'retry_count', 'client', 'status', 'date_modified', 'execute_time', 'data')).toEqual([]);
        const sids = new Set(rows.map((r: { provider_message_id: string }) => r.provider_message_id));
        expect(sids.size).toBe(MESSAGES);
        for (const m of fake.messages) expect(sids.has(m.sid)).toBe(true);
      } finally {
        await conn.close();
      }
    }, 240_000);
  });
}
