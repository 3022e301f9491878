/**
 * API benchmark: requests/s and p50/p99 latency with 4 concurrent connections for
 *   - GET /rest/v10/Accounts/:id
 *   - GET /rest/v10/Accounts?filter=…&max_num=20 (filtered, sorted page)
 * each beside a bare Koa handler that runs the same knex query on the same database, in the same
 * run. The ratio (Cane / bare) is the figure: what auth, ACL, validation and Sugar formatting cost.
 *
 *   npm run bench:api
 *   BENCH_SECONDS=10 BENCH_ROWS=20000 npm run bench:api
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/test npm run bench:api   (uses a scratch schema)
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createCrm } from '../../core/app/create-crm';
import { scratchDatabase } from '../scratch-database';
import { silentLogger } from '../../core/logger';
import { formatDateTime } from '../../core/records/time';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 4;
const industries = ['Banking', 'Retail', 'Technology', 'Energy', 'Media', 'Healthcare', 'Shipping', 'Education'];


async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** CONCURRENCY loops issuing requests for SECONDS; returns throughput and latency percentiles. */
async function load(makeUrl: (i: number) => string, headers: Record<string, string>) {
  const latencies: number[] = [];
  const deadline = Date.now() + SECONDS * 1000;
  let n = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      const i = n++;
      const start = process.hrtime.bigint();
      const res = await fetch(makeUrl(i), { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`HTTP ${res.status} for ${makeUrl(i)}`);
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rps: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99) };
}

async function main() {
  const { db, label, cleanup } = await scratchDatabase('bench_api');
  const crm = await createCrm({ database: db, logger: silentLogger, customDir: '/nonexistent', adminPassword: 'bench-admin', secret: 'bench' });
  const knex = db.knex;
  const now = formatDateTime(new Date());
  const ids: string[] = [];
  for (let start = 0; start < ROWS; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(ROWS, start + 500); i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      batch.push({ id, name: `Account ${String(i).padStart(6, '0')}`, industry: industries[i % industries.length], billing_address_city: 'Lisbon', assigned_user_id: '1', date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', deleted: 0 });
    }
    await knex.batchInsert('accounts', batch, 250);
  }
  await knex.raw(db.dialect.name === 'sqlite' ? 'ANALYZE' : 'ANALYZE TABLE accounts');

  const cane = await listen(crm.app.callback());
  const bare = new Koa();
  bare.use(async (ctx) => {
    if (ctx.path.startsWith('/acc/')) {
      ctx.body = await knex('accounts').where({ id: ctx.path.slice(5), deleted: 0 }).first();
    } else {
      ctx.body = { records: await knex('accounts').where({ deleted: 0, industry: String(ctx.query.industry) }).andWhereRaw("?? LIKE ? ESCAPE '!'", ['accounts.name', 'Account%']).orderBy('name').orderBy('id').limit(21) };
    }
  });
  const bareServer = await listen(bare.callback());
  try {
    const token = ((await (await fetch(`${cane.url}/rest/v10/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'password', client_id: 'sugar', username: 'admin', password: 'bench-admin' }) })).json()) as { access_token: string }).access_token;
    const auth = { 'OAuth-Token': token };
    const filter = (i: number) => encodeURIComponent(JSON.stringify([{ industry: industries[i % industries.length] }, { name: { $starts: 'Account' } }]));
    const results = {
      retrieve: [await load((i) => `${cane.url}/rest/v10/Accounts/${ids[i % ids.length]}`, auth), await load((i) => `${bareServer.url}/acc/${ids[i % ids.length]}`, {})],
      list: [await load((i) => `${cane.url}/rest/v10/Accounts?filter=${filter(i)}&max_num=20&order_by=name:asc`, auth), await load((i) => `${bareServer.url}/list?industry=${industries[i % industries.length]}`, {})],
    };
    console.log(`API benchmark on ${label}: ${ROWS.toLocaleString('en')} accounts, ${CONCURRENCY} connections, ${SECONDS}s per run`);
    for (const [name, [c, b]] of Object.entries(results)) {
      console.log(`${name.padEnd(9)} cane ${c.rps.toFixed(0).padStart(6)} req/s  p50 ${c.p50.toFixed(2)} ms  p99 ${c.p99.toFixed(2)} ms | bare koa+knex ${b.rps.toFixed(0).padStart(6)} req/s  p50 ${b.p50.toFixed(2)} ms  p99 ${b.p99.toFixed(2)} ms | throughput ratio ${(c.rps / b.rps).toFixed(2)}`);
    }
  } finally {
    await cane.close();
    await bareServer.close();
    await crm.close();
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
