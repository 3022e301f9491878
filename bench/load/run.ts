/**
 * Load test: 16 clients for 60 s of mixed reads and writes against Cane in its own process; this
 * process is the load generator. Prints requests/s, p50/p99 per kind of request, every non-2xx
 * answer that was not an intended conflict (409 edit_conflict, 412 If-Match) or intended refusal
 * (422 on deliberately bad input), and the server's RSS before and after. A baseline in the same
 * run: GET by id for BENCH_BASELINE_SECONDS against Cane and against a bare Koa + knex
 * handler on the same database, and their ratio.
 *
 *   npm run bench:load      (BENCH_CLIENTS=16 BENCH_SECONDS=60 BENCH_BASELINE_SECONDS=10; DATABASE_URL=mysql://… for MariaDB)
 * Exits 1 when any unintended non-2xx answer was seen.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { scratchDatabase } from '../scratch-database';
import { startServerProcess } from '../server-process';
import { httpClient, percentile, type Answer } from '../http-client';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const BASELINE_SECONDS = Number(process.env.BENCH_BASELINE_SECONDS ?? 10);
const ACCOUNTS = 2000;
const HOT = 20; // accounts every client edits with version checks, so conflicts really happen

const request = httpClient(CLIENTS);

const startServer = (env: Record<string, string>) => startServerProcess(path.join(__dirname, '..', 'server.ts'), env);

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

class Tally {
  readonly samples = new Map<string, number[]>();
  readonly statuses = new Map<string, number>();
  readonly unintended: string[] = [];
  record(kind: string, ms: number, answer: Answer, intended: number[] = []) {
    if (!this.samples.has(kind)) this.samples.set(kind, []);
    this.samples.get(kind)!.push(ms);
    const key = `${kind} ${answer.status}`;
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
    if ((answer.status < 200 || answer.status > 299) && !intended.includes(answer.status)) {
      if (this.unintended.length < 20) this.unintended.push(`${key}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      else this.unintended.push(key);
    }
  }
  all(): number[] {
    return [...this.samples.values()].flat().sort((a, b) => a - b);
  }
}

async function timed(tally: Tally, kind: string, intended: number[], call: () => Promise<Answer>): Promise<Answer> {
  const started = process.hrtime.bigint();
  const answer = await call();
  tally.record(kind, Number(process.hrtime.bigint() - started) / 1e6, answer, intended);
  return answer;
}

async function seed(port: number): Promise<string[]> {
  const md5 = crypto.createHash('md5').update('bench-admin').digest('hex');
  const v4 = async (method: string, restData: unknown) => (await request(port, 'POST', '/service/v4_1/rest.php', { form: { method, input_type: 'JSON', response_type: 'JSON', rest_data: JSON.stringify(restData) } })).body;
  const session = (await v4('login', { user_auth: { user_name: 'admin', password: md5 }, application_name: 'bench' })).id;
  const ids: string[] = [];
  for (let start = 0; start < ACCOUNTS; start += 250) {
    const batch = Array.from({ length: 250 }, (_, i) => [{ name: 'name', value: `Bench ${String(start + i).padStart(4, '0')}` }, { name: 'industry', value: 'Banking' }, { name: 'billing_address_city', value: 'Berlin' }]);
    const res = await v4('set_entries', { session, module_name: 'Accounts', name_value_lists: batch });
    if (!Array.isArray(res.ids)) throw new Error(`seeding failed: ${JSON.stringify(res)}`);
    ids.push(...res.ids);
  }
  return ids;
}

async function login(port: number): Promise<string> {
  const res = await request(port, 'POST', '/rest/v10/oauth2/token', { body: { grant_type: 'password', client_id: 'sugar', client_secret: '', username: 'admin', password: 'bench-admin', platform: 'base' } });
  if (res.status !== 200) throw new Error(`login failed: ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

/** One client: a weighted mix of reads and writes until the deadline. */
async function mixedClient(port: number, token: string, ids: string[], deadline: number, tally: Tally, client: number): Promise<void> {
  const auth = { 'OAuth-Token': token };
  const pick = (list: string[]) => list[Math.floor(Math.random() * list.length)];
  let n = 0;
  while (Date.now() < deadline) {
    const roll = Math.random();
    n++;
    if (roll < 0.35) {
      await timed(tally, 'GET record', [], () => request(port, 'GET', `/rest/v10/Accounts/${pick(ids)}`, { headers: auth }));
    } else if (roll < 0.55) {
      const prefix = `Bench ${Math.floor(Math.random() * 20)}`;
      await timed(tally, 'GET filtered list', [], () => request(port, 'GET', `/rest/v10/Accounts?filter[0][name][$starts]=${encodeURIComponent(prefix)}&order_by=name:asc&max_num=20`, { headers: auth }));
    } else if (roll < 0.7) {
      await timed(tally, 'PUT unchecked', [], () => request(port, 'PUT', `/rest/v10/Accounts/${pick(ids)}`, { headers: auth, body: { description: `client ${client} write ${n}` } }));
    } else if (roll < 0.8) {
      const id = pick(ids.slice(0, HOT));
      const read = await timed(tally, 'GET record', [], () => request(port, 'GET', `/rest/v10/Accounts/${id}`, { headers: auth }));
      await timed(tally, 'PUT If-Match', [412], () => request(port, 'PUT', `/rest/v10/Accounts/${id}`, { headers: { ...auth, 'If-Match': String(read.headers.etag) }, body: { description: `tagged ${client}/${n}` } }));
    } else if (roll < 0.88) {
      const id = pick(ids.slice(0, HOT));
      const read = await timed(tally, 'GET record', [], () => request(port, 'GET', `/rest/v10/Accounts/${id}`, { headers: auth }));
      await timed(tally, 'PUT date_modified', [409], () => request(port, 'PUT', `/rest/v10/Accounts/${id}`, { headers: auth, body: { phone_office: '+14155550100', date_modified: read.body.date_modified } }));
    } else if (roll < 0.97) {
      await timed(tally, 'POST create', [], () => request(port, 'POST', '/rest/v10/Contacts', { headers: auth, body: { first_name: `C${client}`, last_name: `Load ${n}`, account_id: pick(ids) } }));
    } else {
      await timed(tally, 'POST bad input', [422], () => request(port, 'POST', '/rest/v10/Contacts', { headers: auth, body: { last_name: 'Bad', birthdate: 'not a date' } }));
    }
  }
}

async function getOnly(port: number, headers: Record<string, string>, pathOf: (id: string) => string, ids: string[], seconds: number): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const tally = new Tally();
  const started = Date.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < deadline) await timed(tally, 'GET', [], () => request(port, 'GET', pathOf(ids[Math.floor(Math.random() * ids.length)]), { headers }));
  }));
  const all = tally.all();
  return { rps: all.length / ((Date.now() - started) / 1000), p50: percentile(all, 0.5), p99: percentile(all, 0.99), errors: tally.unintended.length };
}

async function main() {
  const scratch = await scratchDatabase('bench_load');
  await scratch.db.close();
  const cane = await startServer({ DATABASE_URL: scratch.url, BENCH_SERVER: 'cane' });
  let failed = false;
  try {
    const ids = await seed(cane.port);
    // one after another: parallel logins of one user beyond the login cap are refused (429) by design
    const tokens: string[] = [];
    for (let i = 0; i < CLIENTS; i++) tokens.push(await login(cane.port));
    // a short warm-up so the first figures are not the JIT's
    await getOnly(cane.port, { 'OAuth-Token': tokens[0] }, (id) => `/rest/v10/Accounts/${id}`, ids, 2);
    const rssBefore = rssMb(cane.child.pid!);

    const tally = new Tally();
    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    await Promise.all(tokens.map((token, client) => mixedClient(cane.port, token, ids, deadline, tally, client)));
    const elapsed = (Date.now() - started) / 1000;
    const rssAfter = rssMb(cane.child.pid!);

    const all = tally.all();
    console.log(`\nbench:load on ${scratch.label}: ${CLIENTS} clients, ${elapsed.toFixed(1)} s of mixed reads and writes, ${ACCOUNTS} Accounts (${HOT} of them contended)`);
    console.log(`  all requests       ${all.length} in ${elapsed.toFixed(1)} s = ${(all.length / elapsed).toFixed(0)} req/s, p50 ${percentile(all, 0.5).toFixed(1)} ms, p99 ${percentile(all, 0.99).toFixed(1)} ms`);
    for (const [kind, samples] of [...tally.samples].sort()) {
      const sorted = samples.sort((a, b) => a - b);
      console.log(`  ${kind.padEnd(18)} ${String(sorted.length).padStart(7)}  p50 ${percentile(sorted, 0.5).toFixed(1).padStart(6)} ms  p99 ${percentile(sorted, 0.99).toFixed(1).padStart(6)} ms`);
    }
    console.log(`  answers            ${[...tally.statuses].sort().map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    console.log(`  unintended non-2xx ${tally.unintended.length}${tally.unintended.length ? `\n    ${tally.unintended.slice(0, 20).join('\n    ')}` : ''}`);
    console.log(`  server RSS         ${rssBefore.toFixed(0)} MB before, ${rssAfter.toFixed(0)} MB after`);
    failed = tally.unintended.length > 0;

    if (BASELINE_SECONDS > 0) {
      const bare = await startServer({ DATABASE_URL: scratch.url, BENCH_SERVER: 'bare' });
      try {
        await getOnly(bare.port, {}, (id) => `/accounts/${id}`, ids, 1);
        const viaCane = await getOnly(cane.port, { 'OAuth-Token': tokens[0] }, (id) => `/rest/v10/Accounts/${id}`, ids, BASELINE_SECONDS);
        const viaBare = await getOnly(bare.port, {}, (id) => `/accounts/${id}`, ids, BASELINE_SECONDS);
        console.log(`  GET by id, ${CLIENTS} clients, ${BASELINE_SECONDS} s each:`);
        console.log(`    Cane REST v10    ${viaCane.rps.toFixed(0)} req/s, p50 ${viaCane.p50.toFixed(1)} ms, p99 ${viaCane.p99.toFixed(1)} ms, errors ${viaCane.errors}`);
        console.log(`    bare Koa+knex    ${viaBare.rps.toFixed(0)} req/s, p50 ${viaBare.p50.toFixed(1)} ms, p99 ${viaBare.p99.toFixed(1)} ms, errors ${viaBare.errors}`);
        console.log(`    ratio            ${(viaCane.rps / viaBare.rps).toFixed(2)} of the baseline's throughput`);
      } finally {
        await bare.stop();
      }
    }
  } finally {
    await cane.stop();
    await scratch.cleanup();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
