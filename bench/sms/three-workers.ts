/**
 * The shared SMS rate with three worker processes on one database: one queue of single-segment
 * messages sent by three `work` processes under SMS_RATE, counted where they arrive (a local fake
 * Twilio in this process). Prints the rate held over the run against the configured one and the
 * busiest second.
 *
 *   npm run bench:sms-rate                               (SQLite; 50 segments/s for 30 s)
 *   BENCH_RATE=50 BENCH_SECONDS=30 DATABASE_URL=mysql://root@127.0.0.1:3306/test npm run bench:sms-rate
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { FakeTwilio } from '../../tests/helpers/fake-twilio';
import { scratchDatabase } from '../scratch-database';

const RATE = Number(process.env.BENCH_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const root = path.resolve(__dirname, '..', '..');
const worker = path.join(root, 'tests', 'fixtures', 'sms-crash-worker.ts');

function run(args: string[], env: Record<string, string>, onLine?: (line: string) => void): Promise<number | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', (d) => String(d).split('\n').filter(Boolean).forEach((l) => onLine?.(l)));
  return new Promise((resolve) => child.on('exit', resolve));
}

async function main() {
  const scratch = await scratchDatabase('bench_rate');
  await scratch.db.close();
  const fake = await FakeTwilio.start();
  try {
    const messages = RATE * SECONDS;
    const env = { DATABASE_URL: scratch.url, FAKE_TWILIO_URL: fake.url, SMS_RATE: String(RATE) };
    let queued!: () => void;
    const ready = new Promise<void>((r) => (queued = r));
    const first = run(['enqueue', String(messages)], env, (l) => l === 'queued' && queued());
    await ready;
    const codes = await Promise.all([first, run(['work'], env), run(['work'], env)]);
    if (codes.some((c) => c !== 0)) throw new Error(`a worker failed: exit codes ${codes.join(', ')}`);
    const times = fake.messages.map((m) => m.dateCreated.getTime()).sort((a, b) => a - b);
    const held = ((times.length - 1) * 1000) / (times[times.length - 1] - times[0]);
    let busiest = 0;
    for (let i = 0, j = 0; j < times.length; j++) {
      while (times[j] - times[i] >= 1000) i++;
      busiest = Math.max(busiest, j - i + 1);
    }
    console.log(`[${scratch.label}] 3 worker processes, SMS_RATE ${RATE}/s, ${times.length} messages: held ${held.toFixed(2)}/s (${(((held - RATE) / RATE) * 100).toFixed(1)} % against the rate); busiest second ${busiest} messages`);
  } finally {
    await fake.close();
    await scratch.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
