/**
 * API benchmark: requests/s and p50/p99 with 4 keep-alive connections for
 *   - REST v10 GET /rest/v10/Accounts/:id
 *   - REST v10 GET /rest/v10/Accounts?filter=…&max_num=20&order_by=name (a filtered, sorted page)
 *   - v4_1 get_entry (one Account)
 *   - v4_1 get_entry_list (20 rows, 6 fields, ordered by name)
 *   - v4_1 set_entry (an update of 3 fields)
 *   - v4_1 set_entries of 1,000 new Accounts, timed three times (not against the baseline)
 * each beside a bare Koa handler running the same knex query on the same database. Cane, the bare
 * baseline and this load generator are three processes, so none competes with another for its event
 * loop; the two servers take turns, measured in the same run. The ratio (Cane / bare) is the figure:
 * what authentication, ACL, validation, hooks and Sugar's formatting cost.
 *
 *   npm run bench:api
 *   BENCH_SECONDS=10 BENCH_ROWS=20000 npm run bench:api
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/test npm run bench:api   (uses a scratch schema)
 *   BENCH_CASES=record,set_entries npm run bench:api                 (only the cases whose names contain these)
 *   BENCH_PROFILE=/tmp/prof npm run bench:api                        (a CPU profile of the Cane process)
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { formatDateTime } from '../../core/records/time';
import { httpClient, measure } from '../http-client';
import { scratchDatabase } from '../scratch-database';
import { startServerProcess } from '../server-process';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 4;
const industries = ['Banking', 'Retail', 'Technology', 'Energy', 'Media', 'Healthcare', 'Shipping', 'Education'];
const SIX_FIELDS = ['name', 'industry', 'billing_address_city', 'phone_office', 'website', 'assigned_user_id'];
const request = httpClient(CONNECTIONS);
const startServer = (env: Record<string, string>, nodeArgs: string[] = []) => startServerProcess(path.join(__dirname, '..', 'server.ts'), env, nodeArgs);
const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');

async function seed(url: string): Promise<string[]> {
  const { openDatabase } = await import('../../core/db/connection');
  const db = openDatabase(url);
  const now = formatDateTime(new Date());
  const ids: string[] = [];
  try {
    for (let start = 0; start < ROWS; start += 500) {
      const batch = [];
      for (let i = start; i < Math.min(ROWS, start + 500); i++) {
        const id = crypto.randomUUID();
        ids.push(id);
        batch.push({ id, name: `Account ${String(i).padStart(6, '0')}`, industry: industries[i % industries.length], billing_address_city: 'Lisbon', phone_office: '+14155550100', website: 'https://example.com', assigned_user_id: '1', date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', deleted: 0 });
      }
      await db.knex.batchInsert('accounts', batch, 250);
    }
    await db.knex.raw(db.dialect.name === 'sqlite' ? 'ANALYZE' : 'ANALYZE TABLE accounts');
  } finally {
    await db.close();
  }
  return ids;
}

async function main() {
  const scratch = await scratchDatabase('bench_api');
  await scratch.db.close();
  // BENCH_PROFILE=<dir>: the Cane process writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const cane = await startServer({ DATABASE_URL: scratch.url, BENCH_SERVER: 'cane' }, profile); // creates the schema
  const ids = await seed(scratch.url);
  const bare = await startServer({ DATABASE_URL: scratch.url, BENCH_SERVER: 'bare' });
  try {
    const token = (await request(cane.port, 'POST', '/rest/v10/oauth2/token', { body: { grant_type: 'password', client_id: 'sugar', client_secret: '', username: 'admin', password: 'bench-admin', platform: 'base' } })).body.access_token;
    const v4 = (method: string, restData: unknown) => request(cane.port, 'POST', '/service/v4_1/rest.php', { form: { method, input_type: 'JSON', response_type: 'JSON', rest_data: JSON.stringify(restData) } });
    const session = (await v4('login', { user_auth: { user_name: 'admin', password: md5('bench-admin') }, application_name: 'bench' })).body.id;
    const auth = { 'OAuth-Token': token };
    const id = (i: number) => ids[i % ids.length];
    const industry = (i: number) => industries[i % industries.length];
    const filter = (i: number) => encodeURIComponent(JSON.stringify([{ industry: industry(i) }, { name: { $starts: 'Account' } }]));
    const cases: Array<[string, (i: number) => ReturnType<typeof request>, (i: number) => ReturnType<typeof request>]> = [
      ['v10 GET record', (i) => request(cane.port, 'GET', `/rest/v10/Accounts/${id(i)}`, { headers: auth }), (i) => request(bare.port, 'GET', `/accounts/${id(i)}`)],
      ['v10 filtered list', (i) => request(cane.port, 'GET', `/rest/v10/Accounts?filter=${filter(i)}&max_num=20&order_by=name:asc`, { headers: auth }), (i) => request(bare.port, 'GET', `/accounts?industry=${industry(i)}`)],
      ['v4_1 get_entry', (i) => v4('get_entry', { session, module_name: 'Accounts', id: id(i), select_fields: [] }), (i) => request(bare.port, 'GET', `/accounts/${id(i)}`)],
      ['v4_1 get_entry_list', (i) => v4('get_entry_list', { session, module_name: 'Accounts', query: `accounts.industry = '${industry(i)}'`, order_by: 'accounts.name', offset: 0, select_fields: SIX_FIELDS, max_results: 20, deleted: 0 }),
        (i) => request(bare.port, 'GET', `/accounts?industry=${industry(i)}&fields=${SIX_FIELDS.join(',')}`)],
      ['v4_1 set_entry', (i) => v4('set_entry', { session, module_name: 'Accounts', name_value_list: [{ name: 'id', value: id(i) }, { name: 'description', value: `run ${i}` }, { name: 'billing_address_city', value: i % 2 ? 'Porto' : 'Lisbon' }, { name: 'employees', value: String(i % 500) }] }),
        (i) => request(bare.port, 'POST', `/accounts/${id(i)}`, { body: { description: `run ${i}`, billing_address_city: i % 2 ? 'Porto' : 'Lisbon', employees: String(i % 500) } })],
    ];
    console.log(`API benchmark on ${scratch.label}: ${ROWS.toLocaleString('en')} accounts, ${CONNECTIONS} connections, ${SECONDS}s per run; Cane, the bare Koa+knex baseline and the load generator in three processes`);
    // BENCH_CASES=get,list: only the cases whose names contain one of these words.
    const only = process.env.BENCH_CASES?.split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
    for (const [name, viaCane, viaBare] of cases.filter(([name]) => !only || only.some((w) => name.toLowerCase().includes(w)))) {
      await measure(CONNECTIONS, 1, viaCane); // warm-up
      await measure(CONNECTIONS, 1, viaBare);
      const c = await measure(CONNECTIONS, SECONDS, viaCane);
      const b = await measure(CONNECTIONS, SECONDS, viaBare);
      console.log(`${name.padEnd(20)} cane ${c.rps.toFixed(0).padStart(6)} req/s  p50 ${c.p50.toFixed(2)} ms  p99 ${c.p99.toFixed(2)} ms | bare ${b.rps.toFixed(0).padStart(6)} req/s  p50 ${b.p50.toFixed(2)} ms  p99 ${b.p99.toFixed(2)} ms | ratio ${(c.rps / b.rps).toFixed(2)}`);
    }
    if (only && !only.some((w) => 'set_entries'.includes(w))) return;
    // One v4_1 set_entries of 1,000 new Accounts (3 fields each): validated, audited, hooked, one transaction.
    const timings: number[] = [];
    for (let run = 0; run < 3; run++) {
      const entries = Array.from({ length: 1000 }, (_, i) => [
        { name: 'name', value: `Batch ${run}-${i}` }, { name: 'industry', value: industries[i % industries.length] }, { name: 'billing_address_city', value: 'Braga' },
      ]);
      const started = performance.now();
      const res = await v4('set_entries', { session, module_name: 'Accounts', name_value_lists: entries });
      timings.push(performance.now() - started);
      if (!Array.isArray(res.body?.ids) || res.body.ids.length !== 1000) throw new Error(`set_entries answered ${JSON.stringify(res.body).slice(0, 200)}`);
    }
    console.log(`v4_1 set_entries of 1,000 Accounts: ${timings.map((t) => `${(t / 1000).toFixed(2)} s`).join(', ')} (median ${(timings.sort((a, b) => a - b)[1] / 1000).toFixed(2)} s)`);
  } finally {
    await cane.stop();
    await bare.stop();
    await scratch.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
