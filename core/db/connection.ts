import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Dialect } from './dialects/dialect';
import { mysqlDialect } from './dialects/mysql';
import { sqliteDialect } from './dialects/sqlite';

export interface Database {
  knex: Knex;
  dialect: Dialect;
  /** The URL with any password removed, for logs. */
  description: string;
  close(): Promise<void>;
}

/**
 * Opens `sqlite:<file>` (the embedded default; `sqlite::memory:` for a throwaway database) or
 * `mysql://user:password@host:port/database` (MySQL 8 / MariaDB 10.6+).
 */
export function openDatabase(url: string): Database {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) return openMysql(url);
  throw new Error(`DATABASE_URL must start with sqlite: or mysql:// (got '${url.split(':')[0]}:')`);
}

function openSqlite(file: string): Database {
  const memory = file === ':memory:';
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: memory ? ':memory:' : path.resolve(file) },
    useNullAsDefault: true,
    // One connection: better-sqlite3 is synchronous and SQLite has a single writer anyway.
    pool: {
      min: 1,
      max: 1,
      idleTimeoutMillis: Number.MAX_SAFE_INTEGER,
      afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        if (!memory) conn.pragma('journal_mode = WAL');
        conn.pragma('busy_timeout = 5000');
        conn.pragma('synchronous = NORMAL');
        done(null, conn);
      },
    },
  });
  return { knex, dialect: sqliteDialect, description: `sqlite:${file}`, close: () => knex.destroy() };
}

function openMysql(url: string): Database {
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const knex = knexFactory({
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: u.pathname.replace(/^\//, ''),
      charset: 'utf8mb4',
      timezone: 'Z',
      // Dates stay 'Y-m-d H:i:s' strings in UTC, exactly as Sugar stores them.
      dateStrings: true,
      supportBigNumbers: true,
    },
    pool: {
      min: 0,
      max: Number(u.searchParams.get('pool') ?? 10),
      afterCreate(conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.query("SET time_zone = '+00:00'", (err) => done(err, conn));
      },
    },
  });
  u.password = '';
  return { knex, dialect: mysqlDialect, description: u.toString(), close: () => knex.destroy() };
}
