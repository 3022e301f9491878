import { openDatabase } from '../../core/db/connection';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { startWorker } from '../helpers/worker-process';

/**
 * Several processes started at once on a new, empty database (a deployment's first start): each
 * syncs the schema, they take turns under a shared lock, and all of them come up.
 */
for (const kind of databaseKinds) {
  describe(`four processes starting together on an empty database [${kind}]`, () => {
    let db: TestDatabase;
    beforeAll(async () => { db = await createTestDatabase(kind); });
    afterAll(async () => { await db.cleanup(); });

    test('all four create or find the schema, none fails', async () => {
      const env = { DATABASE_URL: db.url, FAKE_TWILIO_URL: 'http://127.0.0.1:9', CANE_TEST_MYSQL_URL: '' };
      const processes = [0, 1, 2, 3].map(() => startWorker('sms-crash-worker.ts', ['queue', '0'], env));
      const codes = await Promise.all(processes.map((p) => p.exited));
      expect(processes.map((p, i) => (codes[i] === 0 ? 0 : p.output().slice(0, 500)))).toEqual([0, 0, 0, 0]);
      const conn = openDatabase(db.url);
      try {
        const tables = await conn.dialect.tables(conn.knex);
        expect(['accounts', 'sms', 'job_queue'].filter((t) => !tables.has(t))).toEqual([]);
      } finally {
        await conn.close();
      }
    }, 120_000);
  });
}
