/**
 * Plugin benchmark: the latency a save gains from 0, 1, 3 and 10 sandboxed before_save plugins
 * (all of a save's hooks run in one exchange with the runner), and from one host call.
 *
 * The server under test runs in its own process (bench/plugins/server.ts, one per scenario, on a
 * fresh database); this process is the load generator: sequential PUT /rest/v10/Accounts/:id
 * over one keep-alive connection, timed end to end. "added" is the scenario's p50 minus the p50
 * without plugins, measured in the same run.
 *
 *   npm run bench:plugins            (BENCH_SAVES=1000 by default; DATABASE_URL=mysql://… for MariaDB)
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { scratchDatabase } from '../scratch-database';

const SAVES = Number(process.env.BENCH_SAVES ?? 1000);
const WARMUP = 100;
const root = path.resolve(__dirname, '..', '..');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

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

async function startServer(env: Record<string, string>): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', path.join(__dirname, 'server.ts')], { cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  return { port, stop: () => new Promise((resolve) => { child.on('exit', () => resolve()); child.stdin!.end(); }) };
}

async function scenario(label: string, plugins: number, hostCall = false) {
  const scratch = await scratchDatabase('bench_plugins');
  await scratch.db.close();
  const server = await startServer({ DATABASE_URL: scratch.url, BENCH_PLUGINS: String(plugins), BENCH_HOST_CALL: hostCall ? '1' : '0' });
  try {
    const login = await request(server.port, 'POST', '/rest/v10/oauth2/token', { grant_type: 'password', client_id: 'sugar', client_secret: '', username: 'admin', password: 'bench-admin', platform: 'base' });
    const token = login.body.access_token;
    const account = await request(server.port, 'POST', '/rest/v10/Accounts', { name: 'Bench', ticker_symbol: 'abc' }, token);
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + SAVES; i++) {
      const start = process.hrtime.bigint();
      const res = await request(server.port, 'PUT', `/rest/v10/Accounts/${account.body.id}`, { description: `save ${i}`, ticker_symbol: i % 2 ? 'abc' : 'ABC' }, token);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (res.status !== 200 || res.body.ticker_symbol !== (plugins ? 'ABC' : i % 2 ? 'abc' : 'ABC')) throw new Error(`${label}: unexpected answer ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      if (i >= WARMUP) samples.push(ms);
    }
    samples.sort((a, b) => a - b);
    return { label, db: scratch.label, p50: samples[Math.floor(samples.length / 2)], p99: samples[Math.floor(samples.length * 0.99)], rate: 1000 / (samples.reduce((a, b) => a + b, 0) / samples.length) };
  } finally {
    await server.stop();
    await scratch.cleanup().catch(() => undefined);
  }
}

async function main() {
  const results = [
    await scenario('no plugins', 0),
    await scenario('1 sandboxed plugin', 1),
    await scenario('3 sandboxed plugins', 3),
    await scenario('10 sandboxed plugins', 10),
    await scenario('1 sandboxed plugin + 1 host call', 1, true),
  ];
  const base = results[0].p50;
  console.log(`plugin benchmark: ${SAVES} sequential PUTs of an Account per scenario (${results[0].db}), server in its own process; added = p50 minus the no-plugin p50`);
  for (const r of results) console.log(`${r.label.padEnd(34)} p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ${r.rate.toFixed(0)} saves/s  added ${(r.p50 - base).toFixed(3)} ms`);
  console.log(`one host call adds ${(results[4].p50 - results[1].p50).toFixed(3)} ms p50`);
  agent.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
