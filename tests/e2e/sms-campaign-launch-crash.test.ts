import { openDatabase } from '../../core/db/connection';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { FakeTwilio } from '../helpers/fake-twilio';
import { startWorker as startFixture } from '../helpers/worker-process';

const startWorker = (args: string[], env: Record<string, string>) => startFixture('sms-campaign-crash-worker.ts', args, env);

const MEMBERS = 5000;
/** Small pages, so the kill lands mid-launch with many pages committed and many to go. */
const PAGE = 50;

for (const kind of databaseKinds) {
  describe(`SMS campaign launch survives SIGKILL [${kind}]`, () => {
    let fake: FakeTwilio;
    let db: TestDatabase;
    beforeAll(async () => {
      fake = await FakeTwilio.start();
      fake.latencyMs = 5;
      db = await createTestDatabase(kind);
    });
    afterAll(async () => {
      await fake.close();
      await db.cleanup();
    });

    test(`a launch of ${MEMBERS} members is killed midway; after a restart each number got exactly one message`, async () => {
      const env = { DATABASE_URL: db.url, FAKE_TWILIO_URL: fake.url, CANE_TEST_MYSQL_URL: '', SMS_LAUNCH_PAGE: String(PAGE) };
      const seeding = startWorker(['seed', String(MEMBERS)], env);
      expect(await seeding.exited).toBe(0);
      const [campaign, template] = seeding.output().trim().split(/\s+/);

      const conn = openDatabase(db.url);
      try {
        const progress = async () => (await conn.knex('cane_sms_campaign_runs').where('campaign_id', campaign).first('members_done', 'queued_all')) ?? { members_done: 0, queued_all: 0 };
        const first = startWorker(['launch', campaign, template], env);
        const deadline = Date.now() + 120_000;
        while (Number((await progress()).members_done) < MEMBERS / 4 && Date.now() < deadline) {
          if (first.child.exitCode !== null) throw new Error(`worker exited early: ${first.output()}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        first.child.kill('SIGKILL');
        await first.exited;
        const atKill = await progress();
        // Killed mid-launch: some pages committed, not all.
        expect(Number(atKill.members_done)).toBeGreaterThan(0);
        expect(Number(atKill.members_done)).toBeLessThan(MEMBERS);
        expect(Number(atKill.queued_all)).toBe(0);
        expect(Number(atKill.members_done) % PAGE).toBe(0);
        // What was committed is whole pages: one SMS row per member gone through, none beyond.
        expect(await conn.knex('sms').count({ n: '*' }).first()).toMatchObject({ n: Number(atKill.members_done) });

        const second = startWorker(['work', campaign], env);
        const code = await second.exited;
        expect({ code, output: second.output() }).toEqual({ code: 0, output: 'done\n' });

        const perNumber = new Map<string, number>();
        for (const m of fake.messages) perNumber.set(m.to, (perNumber.get(m.to) ?? 0) + 1);
        expect(perNumber.size).toBe(MEMBERS);
        expect([...perNumber.values()].filter((n) => n !== 1)).toEqual([]);
        const rows = await conn.knex('sms').select('status');
        expect(rows).toHaveLength(MEMBERS);
        expect(rows.filter((r: { status: string }) => r.status !== 'accepted')).toEqual([]);
        expect(await conn.knex('campaign_log').where({ campaign_id: campaign, activity_type: 'targeted' }).count({ n: '*' }).first()).toMatchObject({ n: MEMBERS });
        expect(await conn.knex('cane_sms_campaign_runs').where('campaign_id', campaign).first('state', 'members_done', 'messages_queued')).toMatchObject({ state: 'complete', members_done: MEMBERS, messages_queued: MEMBERS });
      } finally {
        await conn.close();
      }
    }, 300_000);
  });
}
