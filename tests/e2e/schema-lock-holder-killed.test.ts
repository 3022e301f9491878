import { openDatabase } from '../../core/db/connection';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { startWorker } from '../helpers/worker-process';

const waitFor = async (check: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
};

async function tableNames(url: string): Promise<string[]> {
  const conn = openDatabase(url);
  try {
    return [...(await conn.dialect.tables(conn.knex))];
  } finally {
    await conn.close();
  }
}

/**
 * A process killed (kill -9) while it holds the schema lock does not stop the next one: the lock is
 * the database's (SQLite's write lock, MySQL's named lock of a session), so it goes with the
 * process, and a process that was waiting for it syncs the schema and starts.
 */
for (const kind of databaseKinds) {
  describe(`a schema-lock holder killed with kill -9 [${kind}]`, () => {
    let db: TestDatabase;
    beforeAll(async () => { db = await createTestDatabase(kind); });
    afterAll(async () => { await db.cleanup(); });

    test('the process waiting for the lock syncs the schema and starts', async () => {
      const env = { DATABASE_URL: db.url, FAKE_TWILIO_URL: 'http://127.0.0.1:9', CANE_TEST_MYSQL_URL: '' };
      const holder = startWorker('schema-lock-holder.ts', [], env);
      let starter: ReturnType<typeof startWorker> | undefined;
      try {
        if (!(await waitFor(() => holder.output().includes('holding'), 30_000))) throw new Error(`the holder never took the lock: ${holder.output()}`);
        starter = startWorker('sms-crash-worker.ts', ['queue', '0'], env);
        let starterExited = false;
        void starter.exited.then(() => { starterExited = true; });
        // While the holder lives the other process waits (within SQLite's 5 s busy timeout) and has created nothing…
        await new Promise((r) => setTimeout(r, 3000));
        expect(starterExited ? starter.output().slice(0, 500) || 'exited' : 'waiting').toBe('waiting');
        expect(await tableNames(db.url)).not.toContain('accounts');
        holder.child.kill('SIGKILL');
        // …and comes up once the holder is gone.
        expect(await starter.exited).toBe(0);
      } finally {
        holder.child.kill('SIGKILL');
        starter?.child.kill('SIGKILL');
      }
      const tables = await tableNames(db.url);
      expect(['accounts', 'sms', 'job_queue'].filter((t) => !tables.includes(t))).toEqual([]);
    }, 120_000);
  });
}
