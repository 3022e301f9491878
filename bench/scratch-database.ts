import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { openDatabase, type Database } from '../core/db/connection';

/**
 * A throwaway database for a benchmark: a schema created and dropped on the MySQL/MariaDB of
 * DATABASE_URL when it is a mysql:// URL, else a temporary SQLite file.
 */
export async function scratchDatabase(prefix: string): Promise<{ db: Database; url: string; label: string; cleanup: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url?.startsWith('mysql')) {
    const base = new URL(url);
    const name = `cane_${prefix}_${crypto.randomBytes(3).toString('hex')}`;
    const admin = knexFactory({ client: 'mysql2', connection: { host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username), password: decodeURIComponent(base.password) } });
    await admin.raw(`CREATE DATABASE \`${name}\``);
    base.pathname = `/${name}`;
    const db = openDatabase(base.toString());
    return { db, url: base.toString(), label: 'mysql', cleanup: async () => { await db.close(); await admin.raw(`DROP DATABASE \`${name}\``); await admin.destroy(); } };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cane-${prefix}-`));
  const sqliteUrl = `sqlite:${path.join(dir, 'bench.sqlite')}`;
  const db = openDatabase(sqliteUrl);
  return { db, url: sqliteUrl, label: 'sqlite', cleanup: async () => { await db.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
}
