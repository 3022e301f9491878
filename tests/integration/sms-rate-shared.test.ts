import { createEngine } from '../../core/app/engine';
import { openDatabase, type Database } from '../../core/db/connection';
import { silentLogger } from '../../core/logger';
import { SenderThrottle } from '../../core/sms/throttle';
import { describeEachDatabase } from '../helpers/databases';

/**
 * Issue 15, item 3: the sender's rate is one schedule in the database, shared by every process.
 * Three throttles (on MariaDB three connections, as three processes would have) reserve 60 slots in
 * parallel at one fixed moment: the slots they get are exactly the rate's, none shared, none skipped.
 */
describeEachDatabase('SMS sender rate shared through the database', (get) => {
  let connections: Database[] = [];
  beforeAll(async () => {
    const engine = await createEngine({ database: get().db, customDir: '/nonexistent', logger: silentLogger });
    await engine.close();
    // SQLite has one writer: a second connection in this same process would wait on itself.
    connections = get().test.kind === 'mysql' ? [openDatabase(get().test.url), openDatabase(get().test.url), openDatabase(get().test.url)] : [get().db, get().db, get().db];
  });
  afterAll(async () => {
    for (const c of connections) if (c !== get().db) await c.close();
  });

  it('hands out each slot of 20 segments/s once across three workers', async () => {
    const now = 1_000_000;
    const workers = connections.map((db) => new SenderThrottle(db, 20, () => now));
    const waits = await Promise.all(Array.from({ length: 60 }, (_, i) => workers[i % 3].reserve('+15005550006', 1)));
    expect([...waits].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i * 50));
    // a message of 3 segments takes three slots
    expect(await workers[0].reserve('+15005550006', 3)).toBe(3000);
    expect(await workers[1].reserve('+15005550006', 1)).toBe(3150);
    // another sender has its own schedule
    expect(await workers[2].reserve('MG123', 1)).toBe(0);
  });

  it('pauses a sender for every worker, keeps the shared rate over a differing SMS_RATE, and changes it for all', async () => {
    let now = 5_000_000;
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (_obj: unknown, message?: string) => { warnings.push(String(message)); } };
    const a = new SenderThrottle(connections[0], 10, () => now);
    const b = new SenderThrottle(connections[1], 40, () => now, log as never);
    expect(await a.reserve('+15005550007', 1)).toBe(0);
    expect(await b.reserve('+15005550007', 1)).toBe(100); // 10/s, the rate already shared
    expect(warnings[0]).toMatch(/SMS_RATE 40 differs from the rate 10/);
    await b.pause('+15005550007', 5000);
    expect(await a.reserve('+15005550007', 1)).toBe(5000);
    now += 60_000;
    await a.setRate('+15005550007', 50);
    expect(await b.reserve('+15005550007', 1)).toBe(0);
    expect(await a.reserve('+15005550007', 1)).toBe(20);
    expect(await new SenderThrottle(connections[2], 0, () => now).reserve('+15005550007', 100)).toBe(0);
  });
});
