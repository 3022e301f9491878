import type { Database } from './connection';

/** WAL pages (4 KiB each) SQLite may gather before it copies them into the database file during a bulk write. */
const BULK_CHECKPOINT_PAGES = 25_000;

/**
 * Runs a long bulk write with SQLite's automatic checkpoints spread out: by default SQLite copies the
 * WAL into the database file (and syncs it) whenever the WAL passes 1,000 pages, which during a bulk
 * write of tables with several randomly keyed indexes is after nearly every commit, rewriting the
 * same index pages again and again. The setting belongs to the connection (SQLite has one per
 * process here) and is put back afterwards; a crash takes the connection with it. Other databases
 * run `work` as is.
 */
export async function withDeferredCheckpoints<T>(db: Database, work: () => Promise<T>): Promise<T> {
  if (db.dialect.name !== 'sqlite') return work();
  const [row] = (await db.knex.raw('pragma wal_autocheckpoint')) as Array<{ wal_autocheckpoint: number }>;
  const before = Number(row?.wal_autocheckpoint ?? 1000);
  if (before >= BULK_CHECKPOINT_PAGES || before <= 0) return work();
  await db.knex.raw(`pragma wal_autocheckpoint = ${BULK_CHECKPOINT_PAGES}`);
  try {
    return await work();
  } finally {
    await db.knex.raw(`pragma wal_autocheckpoint = ${before}`);
  }
}
