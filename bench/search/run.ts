/**
 * Search benchmark on N Accounts (default 100,000) with company-like names ("Blue Finch Bank",
 * "Finch Partners") and phone numbers:
 *   1. through Cane's HTTP API (server in its own process, 2 keep-alive connections):
 *      - the list view's search: name starts with "Finch" (v10 $starts, the idx_accnt_name_del index)
 *      - Sugar's wildcard: "%Finch" (name contains Finch: a scan)
 *      - global search q=finch (names, e-mail, phones; value or word start; every searchable module, with totals)
 *      - global search q=blue finch ba (two words)
 *   2. the same matches as bare SQL in this process (median of runs), with the query plan, and on
 *      MySQL/MariaDB a FULLTEXT index on accounts.name tried beside LIKE (MATCH … AGAINST in boolean
 *      mode with a prefix) — the figure that decides whether a full-text index is worth having.
 *
 *   npm run bench:search
 *   BENCH_ROWS=20000 BENCH_SECONDS=3 npm run bench:search
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/test npm run bench:search   (uses a scratch schema)
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type { Knex } from 'knex';
import { formatDateTime } from '../../core/records/time';
import { httpClient, measure } from '../http-client';
import { scratchDatabase } from '../scratch-database';
import { startServerProcess } from '../server-process';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SQL_RUNS = Number(process.env.BENCH_SQL_RUNS ?? 15);
const CONNECTIONS = 2;
const request = httpClient(CONNECTIONS);

const ADJECTIVES = ['Blue', 'Red', 'Golden', 'Northern', 'Silver', 'Green', 'Eastern', 'Bright', 'Royal', 'Pacific', 'Atlantic', 'Summit', 'Cedar', 'Iron', 'Crystal', 'Stone', 'Union', 'First', 'Grand', 'Coastal'];
const NOUNS = ['Finch', 'Robin', 'Harbor', 'River', 'Maple', 'Falcon', 'Oak', 'Meadow', 'Bridge', 'Lake', 'Ridge', 'Valley', 'Pine', 'Heron', 'Crane', 'Willow', 'Forge', 'Anchor', 'Beacon', 'Orchard', 'Canyon', 'Harvest', 'Lantern', 'Sparrow', 'Granite', 'Prairie', 'Compass', 'Garnet', 'Juniper', 'Aspen'];
const SUFFIXES = ['Bank', 'Partners', 'Ltd', 'Group', 'Supplies', 'Logistics', 'Foods', 'Labs', 'Holdings', 'Energy'];

function accountName(i: number): string {
  // A fixed scramble of i, so every combination occurs and runs are alike.
  const r = Math.imul(i + 1, 2654435761) >>> 0;
  const noun = NOUNS[(r >>> 4) % NOUNS.length];
  const suffix = SUFFIXES[(r >>> 12) % SUFFIXES.length];
  // A quarter of the names start with the noun ("Finch Partners"), the rest with an adjective ("Blue Finch Bank").
  return i % 4 === 0 ? `${noun} ${suffix} ${i}` : `${ADJECTIVES[(r >>> 20) % ADJECTIVES.length]} ${noun} ${suffix} ${i}`;
}

async function seed(url: string): Promise<void> {
  const { openDatabase } = await import('../../core/db/connection');
  const db = openDatabase(url);
  const now = formatDateTime(new Date());
  try {
    for (let start = 0; start < ROWS; start += 1000) {
      const batch = [];
      for (let i = start; i < Math.min(ROWS, start + 1000); i++) {
        batch.push({ id: crypto.randomUUID(), name: accountName(i), phone_office: `+1 415 555 ${String(i % 10000).padStart(4, '0')}`, billing_address_city: 'Lisbon', assigned_user_id: '1', date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', deleted: 0 });
      }
      await db.knex.batchInsert('accounts', batch, 250);
    }
    await db.knex.raw(db.dialect.name === 'sqlite' ? 'ANALYZE' : 'ANALYZE TABLE accounts');
  } finally {
    await db.close();
  }
}

async function median(runs: number, work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await work();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function plan(knex: Knex, kind: string, sql: string, bindings: string[]): Promise<string> {
  if (kind === 'sqlite') {
    const rows: Array<{ detail: string }> = await knex.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings);
    return rows.map((r) => r.detail).join('; ');
  }
  const [rows] = await knex.raw(`EXPLAIN ${sql}`, bindings) as unknown as [Array<{ type: string; key: string | null; rows: number }>];
  return rows.map((r) => `${r.type}${r.key ? ` using ${r.key}` : ''}, ~${r.rows} rows`).join('; ');
}

/** The matches of the HTTP cases as bare SQL: count and first page, timed here, with the plan of the count. */
async function sqlStudy(url: string): Promise<void> {
  const { openDatabase } = await import('../../core/db/connection');
  const db = openDatabase(url);
  const knex = db.knex;
  const kind = db.dialect.name;
  const like = `name LIKE ? ESCAPE '!'`;
  const cases: Array<[string, string, string[]]> = [
    ['name starts Finch', like, ['Finch%']],
    ['name contains Finch', like, ['%Finch%']],
    ['name or a word starts Finch', `(${like} OR ${like})`, ['Finch%', '% Finch%']],
  ];
  try {
    console.log(`\nBare SQL on ${kind}, ${ROWS.toLocaleString('en')} accounts (median of ${SQL_RUNS}): COUNT(*) of the matches | first 20 by name, as global search lists them`);
    for (const [name, where, bindings] of cases) {
      const countSql = `SELECT COUNT(*) AS n FROM accounts WHERE deleted = 0 AND ${where}`;
      const pageSql = `SELECT id, name FROM accounts WHERE deleted = 0 AND ${where} ORDER BY name, id LIMIT 21`;
      const count = await median(SQL_RUNS, () => knex.raw(countSql, bindings));
      const page = await median(SQL_RUNS, () => knex.raw(pageSql, bindings));
      const n = kind === 'sqlite' ? (await knex.raw(countSql, bindings))[0].n : (await knex.raw(countSql, bindings))[0][0].n;
      console.log(`${name.padEnd(30)} ${String(n).padStart(6)} rows  count ${count.toFixed(2).padStart(7)} ms | page ${page.toFixed(2).padStart(7)} ms | plan: ${await plan(knex, kind, countSql, bindings)}`);
    }
    if (kind === 'mysql') {
      const building = Date.now();
      await knex.raw('ALTER TABLE accounts ADD FULLTEXT INDEX ft_bench_accounts_name (name)');
      console.log(`FULLTEXT index on accounts.name built in ${((Date.now() - building) / 1000).toFixed(1)} s`);
      const match = `MATCH(name) AGAINST(? IN BOOLEAN MODE)`;
      const countSql = `SELECT COUNT(*) AS n FROM accounts WHERE deleted = 0 AND ${match}`;
      const pageSql = `SELECT id, name FROM accounts WHERE deleted = 0 AND ${match} ORDER BY name, id LIMIT 21`;
      const count = await median(SQL_RUNS, () => knex.raw(countSql, ['Finch*']));
      const page = await median(SQL_RUNS, () => knex.raw(pageSql, ['Finch*']));
      const n = (await knex.raw(countSql, ['Finch*']))[0][0].n;
      console.log(`${'FULLTEXT word starts Finch'.padEnd(30)} ${String(n).padStart(6)} rows  count ${count.toFixed(2).padStart(7)} ms | page ${page.toFixed(2).padStart(7)} ms | plan: ${await plan(knex, kind, countSql, ['Finch*'])}`);
      await knex.raw('ALTER TABLE accounts DROP INDEX ft_bench_accounts_name');
    }
  } finally {
    await db.close();
  }
}

async function main() {
  const scratch = await scratchDatabase('bench_search');
  await scratch.db.close();
  const cane = await startServerProcess(path.join(__dirname, '..', 'server.ts'), { DATABASE_URL: scratch.url, BENCH_SERVER: 'cane' }); // creates the schema
  try {
    const seeding = Date.now();
    await seed(scratch.url);
    console.log(`Search benchmark on ${scratch.label}: ${ROWS.toLocaleString('en')} accounts seeded in ${((Date.now() - seeding) / 1000).toFixed(1)} s; Cane and the load generator in two processes, ${CONNECTIONS} connections, ${SECONDS}s per case`);
    const token = (await request(cane.port, 'POST', '/rest/v10/oauth2/token', { body: { grant_type: 'password', client_id: 'sugar', client_secret: '', username: 'admin', password: 'bench-admin', platform: 'base' } })).body.access_token;
    const headers = { 'OAuth-Token': token };
    const list = (value: string) => `/rest/v10/Accounts?filter=${encodeURIComponent(JSON.stringify([{ name: { $starts: value } }]))}&fields=name&max_num=20`;
    const cases: Array<[string, string]> = [
      ['list: name starts Finch', list('Finch')],
      ['list: name %Finch (contains)', list('%Finch')],
      ['globalsearch q=finch', '/rest/v10/globalsearch?q=finch&max_num=20'],
      ['globalsearch q=blue finch ba', `/rest/v10/globalsearch?q=${encodeURIComponent('blue finch ba')}&max_num=20`],
    ];
    for (const [name, url] of cases) {
      const first = await request(cane.port, 'GET', url, { headers });
      if (first.status !== 200) throw new Error(`${name}: ${first.status} ${JSON.stringify(first.body).slice(0, 200)}`);
      const found = first.body.total ?? first.body.records.length;
      await measure(CONNECTIONS, 1, () => request(cane.port, 'GET', url, { headers })); // warm-up
      const m = await measure(CONNECTIONS, SECONDS, () => request(cane.port, 'GET', url, { headers }));
      console.log(`${name.padEnd(30)} ${String(found).padStart(6)} ${first.body.total === undefined ? 'shown' : 'total'}  ${m.rps.toFixed(1).padStart(7)} req/s  p50 ${m.p50.toFixed(1).padStart(7)} ms  p99 ${m.p99.toFixed(1).padStart(7)} ms`);
    }
  } finally {
    await cane.stop();
  }
  try {
    await sqlStudy(scratch.url);
  } finally {
    await scratch.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
