/**
 * UI benchmark: time to render a list view of 20 rows and a detail view with three subpanels,
 * beside the REST v10 calls that fetch the same data, in the same run (p50/p99 over N requests).
 *
 *   npm run bench:ui            (BENCH_REQUESTS=200 by default)
 */
import { createCrm } from '../../core/app/create-crm';
import { silentLogger } from '../../core/logger';
import { SYSTEM } from '../../core/records/actor';
import { scratchDatabase } from '../scratch-database';
import { client, startServer } from '../../tests/helpers/crm';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);

async function timed(fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)], p99: samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))] };
}

async function main() {
  const { db, label, cleanup } = await scratchDatabase('bench_ui');
  const crm = await createCrm({ database: db, logger: silentLogger, customDir: '/nonexistent', adminPassword: 'bench-admin', secret: 'bench' });
  const server = await startServer(crm);
  try {
    const account = await crm.records.create(SYSTEM, 'Accounts', { name: 'Bench Holding', industry: 'Banking', assigned_user_id: '1' });
    for (let i = 0; i < 60; i++) await crm.records.create(SYSTEM, 'Accounts', { name: `Bench Account ${String(i).padStart(2, '0')}`, industry: 'Retail', billing_address_city: 'Lisbon', assigned_user_id: '1' });
    for (let i = 0; i < 8; i++) {
      const c = await crm.records.create(SYSTEM, 'Contacts', { first_name: 'Bench', last_name: `Contact ${i}`, phone_work: '+14155550100' });
      await crm.records.link(SYSTEM, 'Accounts', account.id, 'contacts', c.id);
      const o = await crm.records.create(SYSTEM, 'Opportunities', { name: `Bench deal ${i}`, amount: 1000 + i, date_closed: '2026-12-01', sales_stage: 'Prospecting' });
      await crm.records.link(SYSTEM, 'Accounts', account.id, 'opportunities', o.id);
      const l = await crm.records.create(SYSTEM, 'Leads', { last_name: `Bench lead ${i}`, status: 'New', account_id: account.id });
      void l;
    }
    const api = client(crm, server.url);
    const token = await api.login('admin', 'bench-admin');
    // A logged-in UI session (form login, as a browser does).
    const loginPage = await fetch(`${server.url}/ui/login`);
    const csrfCookie = loginPage.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="csrf" value="([^"]+)"/.exec(await loginPage.text())![1];
    const login = await fetch(`${server.url}/ui/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie }, body: new URLSearchParams({ csrf, user_name: 'admin', password: 'bench-admin' }).toString() });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const page = (path: string) => fetch(`${server.url}${path}`, { headers: { cookie } }).then(async (r) => { if (r.status !== 200) throw new Error(`${path}: ${r.status}`); return r.text(); });
    const call = (path: string) => api.call('GET', `/rest/v10${path}`, { token }).then((r) => { if (r.status !== 200) throw new Error(`${path}: ${r.status}`); });

    const list = await timed(() => page('/ui/Accounts?order_by=name:asc'));
    const listApi = await timed(() => call('/Accounts?order_by=name:asc&max_num=20&fields=name,billing_address_city,billing_address_country,phone_office,assigned_user_name,date_entered'));
    const detail = await timed(() => page(`/ui/Accounts/${account.id}`));
    const detailApi = await timed(async () => {
      await call(`/Accounts/${account.id}`);
      await Promise.all(['contacts', 'opportunities', 'leads'].map((l) => call(`/Accounts/${account.id}/link/${l}?max_num=10`)));
    });
    console.log(`UI benchmark on ${label}, ${REQUESTS} sequential requests each`);
    console.log(`list of 20         page p50 ${list.p50.toFixed(2)} ms p99 ${list.p99.toFixed(2)} ms | API p50 ${listApi.p50.toFixed(2)} ms p99 ${listApi.p99.toFixed(2)} ms | ratio ${(list.p50 / listApi.p50).toFixed(2)}`);
    console.log(`detail + 3 subpanels page p50 ${detail.p50.toFixed(2)} ms p99 ${detail.p99.toFixed(2)} ms | API (4 calls) p50 ${detailApi.p50.toFixed(2)} ms p99 ${detailApi.p99.toFixed(2)} ms | ratio ${(detail.p50 / detailApi.p50).toFixed(2)}`);
  } finally {
    await server.close();
    await crm.close();
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
