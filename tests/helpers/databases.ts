import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { openDatabase, type Database } from '../../core/db/connection';

/**
 * Every data test runs on SQLite and, when CANE_TEST_MYSQL_URL is set, again on MySQL/MariaDB.
 * Each run gets its own database (a temp file, or a schema created and dropped here), so runs
 * never collide. Under CI the MySQL run is mandatory: a missing URL or a server that does not
 * answer fails the suite instead of skipping.
 */
export interface TestDatabase {
  kind: 'sqlite' | 'mysql';
  url: string;
  cleanup(): Promise<void>;
}

const mysqlUrl = process.env.CANE_TEST_MYSQL_URL;
if (process.env.CI && !mysqlUrl) {
  throw new Error('CI=true but CANE_TEST_MYSQL_URL is not set: the MySQL run is mandatory under CI');
}

export const databaseKinds: Array<'sqlite' | 'mysql'> = mysqlUrl ? ['sqlite', 'mysql'] : ['sqlite'];

export async function createTestDatabase(kind: 'sqlite' | 'mysql'): Promise<TestDatabase> {
  const suffix = `${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-test-'));
    return {
      kind,
      url: `sqlite:${path.join(dir, 'cane.sqlite')}`,
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const base = new URL(mysqlUrl!);
  const name = `cane_t_${suffix}`;
  const admin = knexFactory({
    client: 'mysql2',
    connection: { host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username), password: decodeURIComponent(base.password), connectTimeout: 5000 },
    pool: { min: 0, max: 1 },
  });
  try {
    await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  } catch (err) {
    await admin.destroy();
    throw new Error(`MySQL/MariaDB at ${base.host} did not answer (CANE_TEST_MYSQL_URL): ${(err as Error).message}`);
  }
  const url = new URL(mysqlUrl!);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    cleanup: async () => {
      await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.destroy();
    },
  };
}

/**
 * describe() once per database kind. `setup` gets a fresh database (created before the block) and
 * returns what the tests use plus how to stop it; the database is dropped after the block.
 */
export function describeEachKind<T>(title: string, setup: (db: Database, test: TestDatabase) => Promise<{ value: T; stop?: () => Promise<void> }>, body: (get: () => T) => void): void {
  for (const kind of databaseKinds) {
    describe(`${title} [${kind}]`, () => {
      let state: { value: T; stop?: () => Promise<void>; db: Database; test: TestDatabase } | undefined;
      beforeAll(async () => {
        const test = await createTestDatabase(kind);
        const db = openDatabase(test.url);
        state = { ...(await setup(db, test)), db, test };
      });
      afterAll(async () => {
        if (!state) return;
        await state.stop?.();
        await state.db.close();
        await state.test.cleanup();
      });
      body(() => {
        if (!state) throw new Error(`${title}: the test ${kind} database was not set up`);
        return state.value;
      });
    });
  }
}

/** describe() once per database kind, with a fresh database opened before and dropped after. */
export function describeEachDatabase(title: string, body: (get: () => { db: Database; test: TestDatabase }) => void): void {
  describeEachKind(title, async (db, test) => ({ value: { db, test } }), body);
}
