import Database from 'better-sqlite3';
import { openDatabase } from '../../core/db/connection';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { FakeTwilio } from '../helpers/fake-twilio';
import { TcpProxy } from '../helpers/tcp-proxy';
import { startWorker as startFixture } from '../helpers/worker-process';

const startWorker = (args: string[], env: Record<string, string>) => startFixture('sms-crash-worker.ts', args, env);

const MESSAGES = 600;
const OUTAGE_MS = 10_000;

/**
 * The database goes away for 10 s while a worker process is sending: MariaDB behind a proxy that
 * resets every connection, SQLite held under another process's exclusive lock (writes fail with
 * SQLITE_BUSY). The worker keeps running, recovers by itself, and each message arrives once.
 */
for (const kind of databaseKinds) {
  describe(`SMS dispatch through a 10 s database outage [${kind}]`, () => {
    let fake: FakeTwilio;
    let db: TestDatabase;
    let proxy: TcpProxy | undefined;
    beforeAll(async () => {
      fake = await FakeTwilio.start();
      // Slow enough that the sending spans the outage: 30 requests in flight, 200 ms each.
      fake.latencyMs = 200;
      db = await createTestDatabase(kind);
      if (kind === 'mysql') {
        const url = new URL(db.url);
        proxy = await TcpProxy.start(url.hostname, Number(url.port || 3306));
      }
    });
    afterAll(async () => {
      await proxy?.close();
      await fake.close();
      await db.cleanup();
    });

    test(`${MESSAGES} messages, the database away for 10 s mid-send: no process dies, each message is received exactly once`, async () => {
      const queued = startWorker(['queue', String(MESSAGES)], { DATABASE_URL: db.url, FAKE_TWILIO_URL: fake.url, CANE_TEST_MYSQL_URL: '' });
      expect(await queued.exited).toBe(0);
      const workerUrl = new URL(db.url);
      if (proxy) workerUrl.port = String(proxy.port);
      const worker = startWorker(['work'], { DATABASE_URL: workerUrl.toString(), FAKE_TWILIO_URL: fake.url, CANE_TEST_MYSQL_URL: '', WORKER_LOG_LEVEL: 'warn', SMS_DISPATCH_BATCH: '10', WORKER_CONCURRENCY: '4' });
      const deadline = Date.now() + 120_000;
      while (fake.messages.length < MESSAGES / 4 && Date.now() < deadline) {
        if (worker.child.exitCode !== null) throw new Error(`worker exited early: ${worker.output()}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const atOutage = fake.messages.length;
      await outage(kind, db.url, proxy);
      expect(worker.child.exitCode).toBeNull();
      expect(fake.messages.length).toBeLessThan(MESSAGES);
      const code = await worker.exited;
      expect({ code, tail: code === 0 ? '' : worker.output().slice(-2000) }).toEqual({ code: 0, tail: '' });
      expect(atOutage).toBeLessThan(MESSAGES);

      const perNumber = new Map<string, number>();
      for (const m of fake.messages) perNumber.set(m.to, (perNumber.get(m.to) ?? 0) + 1);
      expect(perNumber.size).toBe(MESSAGES);
      expect([...perNumber.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      const conn = openDatabase(db.url);
      try {
        const rows = await conn.knex('sms').select('status', 'provider_message_id');
        expect(rows.filter((r: { status: string }) => r.status !== 'accepted')).toEqual([]);
        expect(new Set(rows.map((r: { provider_message_id: string }) => r.provider_message_id)).size).toBe(MESSAGES);
      } finally {
        await conn.close();
      }
      // The worker said what happened (pino JSON lines on stdout).
      expect(worker.output()).toMatch(/"level":(40|50)/);
    }, 240_000);
  });
}

async function outage(kind: string, url: string, proxy: TcpProxy | undefined): Promise<void> {
  if (proxy) {
    proxy.cut();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    proxy.restore();
    return;
  }
  // SQLite: another process's exclusive lock; readers go on, every write waits out busy_timeout and fails.
  const holder = new Database(url.replace(/^sqlite:/, ''));
  try {
    holder.exec('BEGIN EXCLUSIVE');
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    holder.exec('COMMIT');
  } finally {
    holder.close();
  }
}
