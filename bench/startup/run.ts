/**
 * Start-up benchmark: milliseconds from launching `cane start` (the compiled CLI, as users run it)
 * to its first answer on GET /health, on an empty SQLite database (schema created, first admin) and
 * again on the now existing one. Each figure is the median of BENCH_RUNS launches.
 *
 *   npm run build && npm run bench:startup          (BENCH_RUNS=5)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'cane.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Launches `cane start` on the database and answers the milliseconds until /health says ok. */
async function launch(databaseUrl: string): Promise<number> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [cli, 'start'], { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'error', CANE_ADMIN_PASSWORD: 'startup-admin', CANE_CUSTOM_DIR: '/nonexistent', CANE_PLUGINS_DIR: '/nonexistent' }, stdio: 'ignore' });
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        if (res.ok) return Number(process.hrtime.bigint() - started) / 1e6;
      } catch { /* not listening yet */ }
      if (child.exitCode !== null) throw new Error(`cane start exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  if (!fs.existsSync(path.join(root, 'dist', 'core', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the benchmark starts the compiled CLI');
  const empty: number[] = [];
  const existing: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-startup-'));
    const url = `sqlite:${path.join(dir, 'cane.sqlite')}`;
    empty.push(await launch(url));
    existing.push(await launch(url));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`cold start to first answer (cane start, SQLite, median of ${RUNS}):`);
  console.log(`  empty database     ${median(empty).toFixed(0)} ms   (runs: ${empty.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`  existing database  ${median(existing).toFixed(0)} ms   (runs: ${existing.map((v) => v.toFixed(0)).join(', ')})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
