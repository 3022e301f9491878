/**
 * UI benchmark: time to render a list view of 20 rows and a detail view with three subpanels,
 * beside the REST v10 calls that fetch the same data, in the same run (p50/p99 over N sequential
 * requests). Cane runs in its own process (bench/server.ts), seeded through its API; this process
 * only sends the requests.
 *
 *   npm run bench:ui            (BENCH_REQUESTS=200 by default)
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/test npm run bench:ui   (uses a scratch schema)
 */
import path from 'node:path';
import { httpClient, percentile, type Answer } from '../http-client';
import { scratchDatabase } from '../scratch-database';
import { startServerProcess } from '../server-process';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
// The detail page's API equivalent fetches its three subpanels at once, as a client would.
const request = httpClient(3);

async function timed(fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

function ok(what: string, answer: Answer, status = 200): Answer {
  if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  return answer;
}

const cookiesOf = (answer: Answer) => (answer.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');

/** One Account with 8 Contacts, 8 Opportunities and 8 Leads, beside 60 others, created through REST v10. */
async function seed(port: number, token: string): Promise<string> {
  const headers = { 'OAuth-Token': token };
  const create = async (module: string, body: Record<string, unknown>) => ok(`create ${module}`, await request(port, 'POST', `/rest/v10/${module}`, { body, headers })).body.id as string;
  const link = async (id: string, name: string, related: string) => ok(`link ${name}`, await request(port, 'POST', `/rest/v10/Accounts/${id}/link/${name}/${related}`, { body: {}, headers }));
  const account = await create('Accounts', { name: 'Bench Holding', industry: 'Banking', assigned_user_id: '1' });
  for (let i = 0; i < 60; i++) await create('Accounts', { name: `Bench Account ${String(i).padStart(2, '0')}`, industry: 'Retail', billing_address_city: 'Lisbon', assigned_user_id: '1' });
  for (let i = 0; i < 8; i++) {
    await link(account, 'contacts', await create('Contacts', { first_name: 'Bench', last_name: `Contact ${i}`, phone_work: '+14155550100' }));
    await link(account, 'opportunities', await create('Opportunities', { name: `Bench deal ${i}`, amount: 1000 + i, date_closed: '2026-12-01', sales_stage: 'Prospecting' }));
    await create('Leads', { last_name: `Bench lead ${i}`, status: 'New', account_id: account });
  }
  return account;
}

/** A logged-in UI session's cookie (form login, as a browser does). */
async function uiLogin(port: number): Promise<string> {
  const loginPage = ok('GET /ui/login', await request(port, 'GET', '/ui/login'));
  const csrf = /name="csrf" value="([^"]+)"/.exec(String(loginPage.body))![1];
  const login = ok('POST /ui/login', await request(port, 'POST', '/ui/login', { form: { csrf, user_name: 'admin', password: 'bench-admin' }, headers: { cookie: cookiesOf(loginPage) } }), 302);
  return cookiesOf(login);
}

async function main() {
  const scratch = await scratchDatabase('bench_ui');
  await scratch.db.close();
  const cane = await startServerProcess(path.join(__dirname, '..', 'server.ts'), { DATABASE_URL: scratch.url, BENCH_SERVER: 'cane' }); // creates the schema
  try {
    const { port } = cane;
    const token = ok('login', await request(port, 'POST', '/rest/v10/oauth2/token', { body: { grant_type: 'password', client_id: 'sugar', client_secret: '', username: 'admin', password: 'bench-admin', platform: 'base' } })).body.access_token as string;
    const account = await seed(port, token);
    const cookie = await uiLogin(port);
    const page = async (pathname: string) => ok(pathname, await request(port, 'GET', pathname, { headers: { cookie } }));
    const call = async (pathname: string) => ok(pathname, await request(port, 'GET', `/rest/v10${pathname}`, { headers: { 'OAuth-Token': token } }));
    const shown = String((await page(`/ui/Accounts/${account}`)).body);
    if (!['Contact 7', 'Bench deal 7', 'Bench lead 7'].every((text) => shown.includes(text))) throw new Error('the detail page does not show the seeded subpanel rows');

    const list = await timed(() => page('/ui/Accounts?order_by=name:asc'));
    const listApi = await timed(() => call('/Accounts?order_by=name:asc&max_num=20&fields=name,billing_address_city,billing_address_country,phone_office,assigned_user_name,date_entered'));
    const detail = await timed(() => page(`/ui/Accounts/${account}`));
    const detailApi = await timed(async () => {
      await call(`/Accounts/${account}`);
      await Promise.all(['contacts', 'opportunities', 'leads'].map((l) => call(`/Accounts/${account}/link/${l}?max_num=10`)));
    });
    console.log(`UI benchmark on ${scratch.label}, ${REQUESTS} sequential requests each; Cane and the load generator in two processes`);
    console.log(`list of 20         page p50 ${list.p50.toFixed(2)} ms p99 ${list.p99.toFixed(2)} ms | API p50 ${listApi.p50.toFixed(2)} ms p99 ${listApi.p99.toFixed(2)} ms | ratio ${(list.p50 / listApi.p50).toFixed(2)}`);
    console.log(`detail + 3 subpanels page p50 ${detail.p50.toFixed(2)} ms p99 ${detail.p99.toFixed(2)} ms | API (4 calls) p50 ${detailApi.p50.toFixed(2)} ms p99 ${detailApi.p99.toFixed(2)} ms | ratio ${(detail.p50 / detailApi.p50).toFixed(2)}`);
  } finally {
    await cane.stop();
    await scratch.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
