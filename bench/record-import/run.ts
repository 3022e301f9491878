/**
 * Record import benchmark: `cane import Contacts <file>` of a generated CSV (100,000 rows by
 * default, with names, e-mail addresses and mobile numbers), run in its own process against a
 * scratch database, first into an empty module with --duplicates create, then the same file
 * again with --duplicates skip (every row a duplicate found by the duplicate rule). Prints rows/s.
 *
 *   npm run bench:record-import                  # SQLite, 100,000 rows
 *   BENCH_ROWS=20000 npm run bench:record-import
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/test npm run bench:record-import   (uses a scratch schema)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine } from '../../core/app/engine';
import { silentLogger } from '../../core/logger';
import { scratchDatabase } from '../scratch-database';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const first = ['Ann', 'Bob', 'Carla', 'Dmitri', 'Eve', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jun'];
const cities = ['Boston', 'Berlin', 'Lisbon', 'Austin', 'Toronto', 'London'];

function csv(rows: number): string {
  const lines = ['First Name,Last Name,Email Address,Mobile,Title,Primary Address City'];
  for (let i = 0; i < rows; i += 1) {
    lines.push(`${first[i % first.length]},Person ${String(i).padStart(6, '0')},person${i}@example.com,+1555${String(1_000_000 + i).slice(-7)},"Buyer, ${cities[i % cities.length]}",${cities[(i * 7) % cities.length]}`);
  }
  return `${lines.join('\n')}\n`;
}

function runImport(url: string, file: string, mode: string): { seconds: number; out: string } {
  const started = process.hrtime.bigint();
  const out = execFileSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, '../../core/cli/main.ts'), 'import', 'Contacts', file, '--duplicates', mode], {
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024,
  });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, out: out.trim() };
}

async function main() {
  const { db, url, label, cleanup } = await scratchDatabase('bench_record_import');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-record-import-'));
  try {
    // The schema is created once here so the timed runs measure the import only.
    await (await createEngine({ database: db, logger: silentLogger })).close();
    const file = path.join(dir, 'contacts.csv');
    fs.writeFileSync(file, csv(ROWS));
    console.log(`record import on ${label}: ${ROWS.toLocaleString('en')} rows (${(fs.statSync(file).size / 1e6).toFixed(1)} MB), \`cane import\` in its own process (start-up included)`);
    for (const mode of ['create', 'skip']) {
      const { seconds, out } = runImport(url, file, mode);
      console.log(`  --duplicates ${mode}: ${seconds.toFixed(1)} s, ${Math.round(ROWS / seconds).toLocaleString('en')} rows/s, ${(ROWS / seconds / 1667).toFixed(2)}× the rate of the target (100,000 rows in 60 s)`);
      console.log(`    ${out.split('\n')[0]}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
