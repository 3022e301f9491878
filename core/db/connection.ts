import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Dialect } from './dialects/dialect';
import { mysqlDialect } from './dialects/mysql';
import { sqliteDialect } from './dialects/sqlite';
import { SqliteClient } from './sqlite-client';

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
export function openDatabase(url: string, log?: DatabaseLogger): Database {
  const knexLog = log ? { log: knexLogTo(log) } : {};
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''), knexLog);
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) return openMysql(url, knexLog);
  throw new Error(`DATABASE_URL must start with sqlite: or mysql:// (got '${url.split(':')[0]}:')`);
}

/** Where knex's own warnings (pool timeouts, deprecations) go instead of the console. */
export interface DatabaseLogger {
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

function knexLogTo(log: DatabaseLogger): Knex.Config['log'] {
  return {
    warn: (message: string) => log.warn({ component: 'knex' }, message),
    error: (message: string) => log.error({ component: 'knex' }, message),
    deprecate: (method: string, alternative: string) => log.warn({ component: 'knex' }, `${method} is deprecated, use ${alternative}`),
    debug: () => undefined,
  };
}

function openSqlite(file: string, extra: Knex.Config): Database {
  const memory = file === ':memory:';
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const knex = knexFactory({
    ...extra,
    client: SqliteClient as unknown as typeof Knex.Client,
    connection: { filename: memory ? ':memory:' : path.resolve(file) },
    useNullAsDefault: true,
    // One connection: better-sqlite3 is synchronous and SQLite has a single writer anyway.
    pool: {
      min: 1,
      max: 1,
      idleTimeoutMillis: Number.MAX_SAFE_INTEGER,
      afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
        if (!memory) conn.pragma('journal_mode = WAL');
        conn.pragma('busy_timeout = 5000');
        conn.pragma('synchronous = NORMAL');
        cachePreparedStatements(conn);
        done(null, conn);
      },
    },
  });
  return { knex, dialect: sqliteDialect, description: `sqlite:${file}`, close: () => knex.destroy() };
}

interface SqliteStatement { readonly busy: boolean }
interface SqliteConnection { pragma(sql: string): unknown; prepare(sql: string): SqliteStatement }

/** How many prepared statements one SQLite connection keeps. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * knex prepares every query anew, and preparing costs about as much as running a short query; the
 * same few hundred SQL texts come back all the time, so the connection keeps their statements
 * (SQLite re-prepares a kept statement itself when the schema changes). A statement still busy
 * (an open iterator) is never handed out twice.
 */
function cachePreparedStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, SqliteStatement>();
  conn.prepare = (sql: string) => {
    const kept = cache.get(sql);
    if (kept && !kept.busy) {
      cache.delete(sql); // most recently used last
      cache.set(sql, kept);
      return kept;
    }
    const statement = prepare(sql);
    if (!kept) {
      cache.set(sql, statement);
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    return statement;
  };
}

function openMysql(url: string, extra: Knex.Config): Database {
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const knex = knexFactory({
    ...extra,
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
        // READ COMMITTED: no gap locks, so the job queue's SKIP LOCKED claims and the inserts of
        // new jobs in other transactions do not wait on each other; lock waits are kept short.
        conn.query("SET time_zone = '+00:00', SESSION innodb_lock_wait_timeout = 15", (err) => {
          if (err) return done(err, conn);
          conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (e) => done(e, conn));
        });
      },
    },
  });
  u.password = '';
  return { knex, dialect: mysqlDialect, description: u.toString(), close: () => knex.destroy() };
}
