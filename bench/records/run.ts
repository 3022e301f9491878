/**
 * Records benchmark: inserts per second, and the p50/p99 latency of a filtered, sorted page of 20
 * among N Accounts, each beside raw knex doing the same work in the same run.
 *
 *   npm run bench:records                      # SQLite, 100,000 accounts
 *   BENCH_ROWS=20000 npm run bench:records
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/test npm run bench:records   (uses a scratch schema)
 */
import crypto from 'node:crypto';
import { createEngine } from '../../core/app/engine';
import { scratchDatabase } from '../scratch-database';
import { silentLogger } from '../../core/logger';
import { SYSTEM } from '../../core/records/actor';
import { formatDateTime } from '../../core/records/time';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const SERVICE_INSERTS = Number(process.env.BENCH_SERVICE_INSERTS ?? 2_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const industries = ['Banking', 'Retail', 'Technology', 'Energy', 'Media', 'Healthcare', 'Shipping', 'Education'];
const cities = ['Boston', 'Berlin', 'Lisbon', 'Austin', 'Toronto', 'London', 'Paris', 'Tokyo', 'Seattle', 'Madrid'];

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}


function account(i: number) {
  return {
    name: `Account ${String(i).padStart(6, '0')} ${cities[i % cities.length]}`,
    industry: industries[i % industries.length],
    billing_address_city: cities[(i * 7) % cities.length],
    annual_revenue: String((i * 37) % 1000),
    assigned_user_id: i % 3 === 0 ? 'user-a' : 'user-b',
  };
}

async function main() {
  const { db, cleanup, label } = await scratchDatabase('bench_records');
  const engine = await createEngine({ database: db, logger: silentLogger, customDir: '/nonexistent' });
  const knex = db.knex;
  try {
    // ------------------------------------------------------------ inserts: service vs raw knex
    let t = process.hrtime.bigint();
    for (let i = 0; i < SERVICE_INSERTS; i++) await engine.records.create(SYSTEM, 'Accounts', account(i));
    const serviceSeconds = Number(process.hrtime.bigint() - t) / 1e9;

    t = process.hrtime.bigint();
    for (let i = SERVICE_INSERTS; i < SERVICE_INSERTS * 2; i++) {
      const now = formatDateTime(new Date());
      await knex.transaction((trx) => trx('accounts').insert({ id: crypto.randomUUID(), ...account(i), date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', deleted: 0 }));
    }
    const rawSeconds = Number(process.hrtime.bigint() - t) / 1e9;

    // ------------------------------------------------------------ fill up to ROWS with batched raw inserts
    const now = formatDateTime(new Date());
    for (let start = SERVICE_INSERTS * 2; start < ROWS; start += 1000) {
      const batch = [];
      for (let i = start; i < Math.min(ROWS, start + 1000); i++) batch.push({ id: crypto.randomUUID(), ...account(i), date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', deleted: 0 });
      await knex.batchInsert('accounts', batch, 250);
    }

    // Fresh statistics, as an operator would have after loading data (helps service and raw alike).
    await knex.raw(db.dialect.name === 'sqlite' ? 'ANALYZE' : 'ANALYZE TABLE accounts');

    // ------------------------------------------------------------ filtered, sorted page of 20
    const serviceTimes: number[] = [];
    const rawTimes: number[] = [];
    for (let q = 0; q < QUERIES; q++) {
      const industry = industries[q % industries.length];
      const prefix = `Account ${String((q * 131) % 90).padStart(2, '0')}`;
      const offset = (q % 5) * 20;
      t = process.hrtime.bigint();
      const page = await engine.records.list(SYSTEM, 'Accounts', {
        filter: [{ industry }, { name: { $starts: prefix } }, { deleted: 0 }],
        orderBy: [{ field: 'name', direction: 'asc' }], maxNum: 20, offset,
        fields: ['name', 'industry', 'billing_address_city', 'assigned_user_name'],
      });
      serviceTimes.push(Number(process.hrtime.bigint() - t) / 1e6);

      t = process.hrtime.bigint();
      const rows = await knex('accounts').select('accounts.*').where('accounts.deleted', 0).andWhere('accounts.industry', industry)
        .andWhereRaw("?? LIKE ? ESCAPE '!'", ['accounts.name', `${prefix}%`]).orderBy('accounts.name', 'asc').orderBy('accounts.id', 'asc').limit(21).offset(offset);
      const userIds = [...new Set(rows.map((r: { assigned_user_id: string }) => r.assigned_user_id))];
      await knex('users').select('id', 'user_name').whereIn('id', userIds);
      rawTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (q === 0 && page.records.length !== Math.min(20, rows.length)) throw new Error('service and raw queries disagree');
    }

    const rows = await engine.records.count(SYSTEM, 'Accounts');
    const p = (xs: number[], n: number) => percentile(xs, n).toFixed(2);
    console.log(`records benchmark on ${label}: ${rows.toLocaleString('en')} accounts`);
    console.log(`inserts/s          service ${(SERVICE_INSERTS / serviceSeconds).toFixed(0).padStart(7)}   raw knex ${(SERVICE_INSERTS / rawSeconds).toFixed(0).padStart(7)}   ratio ${(rawSeconds / serviceSeconds).toFixed(2)}`);
    console.log(`page of 20 p50 ms  service ${p(serviceTimes, 50).padStart(7)}   raw knex ${p(rawTimes, 50).padStart(7)}   ratio ${(percentile(serviceTimes, 50) / percentile(rawTimes, 50)).toFixed(2)}`);
    console.log(`page of 20 p99 ms  service ${p(serviceTimes, 99).padStart(7)}   raw knex ${p(rawTimes, 99).padStart(7)}   ratio ${(percentile(serviceTimes, 99) / percentile(rawTimes, 99)).toFixed(2)}`);
    console.log('(service = validation, hooks, audit bookkeeping, relate names; raw = the same SQL by hand, one transaction per insert)');
  } finally {
    await engine.close();
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
