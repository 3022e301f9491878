/**
 * Plugin benchmark: the latency a save gains from 0, 1, 3 and 10 sandboxed before_save plugins
 * (all of a save's hooks run in one exchange with the runner), and from one host call.
 *
 * Each scenario's server runs in its own process (bench/plugins/server.ts, on a fresh database);
 * this process is the load generator: sequential PUT /rest/v10/Accounts/:id over keep-alive
 * connections, timed end to end, the scenarios taking turns in blocks. "added" is the scenario's
 * p50 minus the p50 without plugins, measured in the same run.
 *
 *   npm run bench:plugins            (BENCH_SAVES=1000 by default; DATABASE_URL=mysql://… for MariaDB)
 */
import http from 'node:http';
import path from 'node:path';
import { scratchDatabase } from '../scratch-database';
import { startServerProcess } from '../server-process';

const SAVES = Number(process.env.BENCH_SAVES ?? 1000);
const WARMUP = 100;
const BLOCK = 50;
const BLOCK_WAKE = 5;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); // one connection per server

function request(port: number, method: string, pathname: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathname, agent, headers: { ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}), ...(token ? { 'OAuth-Token': token } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const startServer = (env: Record<string, string>) => startServerProcess(path.join(__dirname, 'server.ts'), env);

interface Scenario {
  label: string;
  plugins: number;
  hostCall: boolean;
}

interface Running extends Scenario {
  port: number;
  token: string;
  accountId: string;
  samples: number[];
  db: string;
  stop: () => Promise<void>;
  cleanup: () => Promise<void>;
}

async function start(s: Scenario): Promise<Running> {
  const scratch = await scratchDatabase('bench_plugins');
  await scratch.db.close();
  const server = await startServer({ DATABASE_URL: scratch.url, BENCH_PLUGINS: String(s.plugins), BENCH_HOST_CALL: s.hostCall ? '1' : '0' });
  const login = await request(server.port, 'POST', '/rest/v10/oauth2/token', { grant_type: 'password', client_id: 'sugar', client_secret: '', username: 'admin', password: 'bench-admin', platform: 'base' });
  const token = login.body.access_token;
  const account = await request(server.port, 'POST', '/rest/v10/Accounts', { name: 'Bench', ticker_symbol: 'abc' }, token);
  return { ...s, port: server.port, token, accountId: account.body.id, samples: [], db: scratch.label, stop: server.stop, cleanup: scratch.cleanup };
}

async function save(r: Running, i: number): Promise<number> {
  const started = process.hrtime.bigint();
  const res = await request(r.port, 'PUT', `/rest/v10/Accounts/${r.accountId}`, { description: `save ${i}`, ticker_symbol: i % 2 ? 'abc' : 'ABC' }, r.token);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 200 || res.body.ticker_symbol !== (r.plugins ? 'ABC' : i % 2 ? 'abc' : 'ABC')) throw new Error(`${r.label}: unexpected answer ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
  return ms;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function main() {
  const scenarios: Scenario[] = [
    { label: 'no plugins', plugins: 0, hostCall: false },
    { label: '1 sandboxed plugin', plugins: 1, hostCall: false },
    { label: '3 sandboxed plugins', plugins: 3, hostCall: false },
    { label: '10 sandboxed plugins', plugins: 10, hostCall: false },
    { label: '1 sandboxed plugin + 1 host call', plugins: 1, hostCall: true },
  ];
  const running: Running[] = [];
  try {
    for (const s of scenarios) running.push(await start(s));
    for (const r of running) for (let i = 0; i < WARMUP; i++) await save(r, i);
    // Scenarios take turns in blocks: drift (other load, disk flushes) spreads over all of them
    // instead of skewing one, while each block keeps its server and runner warm, as under steady
    // traffic. The first saves of a block only wake the processes up and are not counted.
    for (let done = 0, i = WARMUP; done < SAVES; done += BLOCK) {
      for (const r of running) {
        for (let k = 0; k < BLOCK_WAKE; k++) await save(r, i++);
        for (let k = 0; k < BLOCK; k++) r.samples.push(await save(r, i++));
      }
    }
    const stats = running.map((r) => {
      const sorted = [...r.samples].sort((a, b) => a - b);
      return { label: r.label, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), rate: 1000 / (sorted.reduce((a, b) => a + b, 0) / sorted.length) };
    });
    const base = stats[0].p50;
    console.log(`plugin benchmark: ${SAVES} sequential PUTs of an Account per scenario, in interleaved blocks of ${BLOCK} (${running[0].db}); each server in its own process; added = p50 minus the no-plugin p50`);
    for (const r of stats) console.log(`${r.label.padEnd(34)} p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ${r.rate.toFixed(0)} saves/s  added ${(r.p50 - base).toFixed(3)} ms`);
    console.log(`one host call adds ${(stats[4].p50 - stats[1].p50).toFixed(3)} ms p50`);
  } finally {
    for (const r of running) {
      await r.stop();
      await r.cleanup().catch(() => undefined);
    }
    agent.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
