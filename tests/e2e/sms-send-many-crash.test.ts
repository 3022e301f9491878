import crypto from 'node:crypto';
import { openDatabase, type Database } from '../../core/db/connection';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio } from '../helpers/fake-twilio';
import { startServer, type ServerProcess } from '../helpers/server-process';

/**
 * Issue 15, item 1 ("same for bulk sends"): a send to many records through the API, killed with
 * kill -9 while it writes its messages, then sent again with the same idempotency key, reaches every
 * number exactly once, counted at the fake Twilio; a send in the background (SMS/sends) killed the
 * same way goes on by itself where it was.
 */
const RECIPIENTS = 1_200;

for (const kind of databaseKinds) {
  describe(`a send to many killed mid-way [${kind}]`, () => {
    let scratch: TestDatabase;
    let db: Database;
    let fake: FakeTwilio;
    const servers: ServerProcess[] = [];
    const env = () => ({
      DATABASE_URL: scratch.url, CANE_ADMIN_PASSWORD: 'many-admin-pass', LEASE_SECONDS: '3', SMS: '1', SMS_RATE: '0', CANE_TEST_MYSQL_URL: '',
      SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID, TWILIO_AUTH_TOKEN: FAKE_AUTH_TOKEN, TWILIO_FROM: '+15005550006', TWILIO_API_BASE_URL: fake.url,
    });
    beforeAll(async () => {
      scratch = await createTestDatabase(kind);
      fake = await FakeTwilio.start();
      servers.push(await startServer(env())); // syncs the schema
      db = openDatabase(scratch.url);
    });
    afterAll(async () => {
      for (const s of servers) s.child.kill('SIGKILL');
      await db?.close();
      await fake?.close();
      await scratch?.cleanup();
    });

    const call = async (url: string, method: string, pathname: string, token?: string, body?: unknown) => {
      const res = await fetch(`${url}${pathname}`, { method, headers: { ...(token ? { 'OAuth-Token': token } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, body: await res.json() as any };
    };
    const login = async (url: string) => (await call(url, 'POST', '/rest/v10/oauth2/token', undefined, { grant_type: 'password', client_id: 'sugar', client_secret: '', username: 'admin', password: 'many-admin-pass', platform: 'base' })).body.access_token as string;
    const written = async () => Number((await db.knex('sms').where('body', 'like', 'Crash send%').count({ n: '*' }))[0].n);

    it('reaches each number once after a kill -9 and a resend with the same key', async () => {
      const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
      const contacts = Array.from({ length: RECIPIENTS }, (_, i) => ({ id: crypto.randomUUID(), last_name: `Many ${i}`, phone_mobile: `+1415557${String(i).padStart(4, '0')}`, deleted: 0, date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', assigned_user_id: '1' }));
      await db.knex.batchInsert('contacts', contacts, 200);
      const request = { records: contacts.map((c) => ({ module: 'Contacts', id: c.id })), body: 'Crash send to {{last_name}}', idempotency_key: 'crash-many-1' };

      let server = servers[0];
      const pending = call(server.url, 'POST', '/rest/v10/SMS/send', await login(server.url), request).catch(() => 'no answer' as const);
      let settled = false;
      void pending.then(() => { settled = true; });
      // killed once its first chunk of messages is committed, with more to write
      const deadline = Date.now() + 60_000;
      while (!settled && (await written()) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      server.child.kill('SIGKILL');
      await server.exited;
      const answer = await pending;
      const atKill = await written();
      expect(atKill).toBeGreaterThan(0);
      if (answer === 'no answer') expect(atKill).toBeLessThan(RECIPIENTS);

      server = await startServer(env());
      servers.push(server);
      const again = await call(server.url, 'POST', '/rest/v10/SMS/send', await login(server.url), request);
      expect(again.status).toBe(200);
      expect(again.body.refused).toEqual([]);
      expect(again.body.records).toHaveLength(RECIPIENTS);
      const rows: Array<{ id: string; to_number: string }> = await db.knex('sms').where('body', 'like', 'Crash send%').select('id', 'to_number');
      expect(rows).toHaveLength(RECIPIENTS);
      expect(new Set(rows.map((r) => r.to_number)).size).toBe(RECIPIENTS);
      expect(new Set(again.body.records.map((r: { id: string }) => r.id))).toEqual(new Set(rows.map((r) => r.id)));

      // the restarted process dispatches the rest, and takes over what the killed one had claimed
      const sent = Date.now() + 90_000;
      while (fake.messages.length < RECIPIENTS && Date.now() < sent) await new Promise((resolve) => setTimeout(resolve, 100));
      const perNumber = new Map<string, number>();
      for (const m of fake.messages) perNumber.set(m.to, (perNumber.get(m.to) ?? 0) + 1);
      expect(perNumber.size).toBe(RECIPIENTS);
      expect([...perNumber].filter(([, n]) => n !== 1)).toEqual([]);
      // Messages the killed process had claimed stay in `sending` until their lease ends and they are found at Twilio.
      const settledRows = Date.now() + 60_000;
      const unsettled = () => db.knex('sms').where('body', 'like', 'Crash send%').whereIn('status', ['queued', 'sending']).count({ n: '*' }).then((r) => Number(r[0].n));
      while ((await unsettled()) > 0 && Date.now() < settledRows) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await db.knex('sms').where('body', 'like', 'Crash send%').whereIn('status', ['queued', 'sending', 'failed']).count({ n: '*' }).then((r) => Number(r[0].n))).toBe(0);
      expect(fake.messages.filter((m) => m.body.startsWith('Crash send'))).toHaveLength(RECIPIENTS);
    }, 240_000);

    it('goes on where it was when the process running a send in the background is killed', async () => {
      const total = 2_100;
      const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
      const contacts = Array.from({ length: total }, (_, i) => ({ id: crypto.randomUUID(), last_name: `Later ${i}`, phone_mobile: `+1415558${String(i).padStart(4, '0')}`, deleted: 0, date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', assigned_user_id: '1' }));
      await db.knex.batchInsert('contacts', contacts, 200);
      let server = servers[servers.length - 1];
      const token = await login(server.url);
      const submitted = await call(server.url, 'POST', '/rest/v10/SMS/sends', token, { records: contacts.map((c) => ({ module: 'Contacts', id: c.id })), body: 'Background send to {{last_name}}' });
      expect(submitted.status).toBe(202);
      const id = submitted.body.id;
      // killed once the first page of 1,000 is done and the second under way
      const progressed = () => db.knex('cane_sms_sends').where('id', id).first('done').then((r) => Number(r?.done ?? 0));
      const deadline = Date.now() + 60_000;
      while ((await progressed()) < 1000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      server.child.kill('SIGKILL');
      await server.exited;
      const atKill = await progressed();
      expect(atKill).toBeGreaterThanOrEqual(1000);
      expect(atKill).toBeLessThan(total);

      server = await startServer(env());
      servers.push(server);
      const again = await login(server.url);
      const finished = Date.now() + 90_000;
      let progress = (await call(server.url, 'GET', `/rest/v10/SMS/sends/${id}`, again)).body;
      while (progress.state !== 'complete' && Date.now() < finished) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        progress = (await call(server.url, 'GET', `/rest/v10/SMS/sends/${id}`, again)).body;
      }
      expect(progress).toMatchObject({ state: 'complete', total, done: total, queued: total, refused: 0 });
      const rows: Array<{ to_number: string }> = await db.knex('sms').where('body', 'like', 'Background send%').select('to_number');
      expect(rows).toHaveLength(total);
      const sent = Date.now() + 90_000;
      const received = () => fake.messages.filter((m) => m.body.startsWith('Background send'));
      while (received().length < total && Date.now() < sent) await new Promise((resolve) => setTimeout(resolve, 100));
      const perNumber = new Map<string, number>();
      for (const m of received()) perNumber.set(m.to, (perNumber.get(m.to) ?? 0) + 1);
      expect(perNumber.size).toBe(total);
      expect([...perNumber].filter(([, n]) => n !== 1)).toEqual([]);
    }, 240_000);
  });
}
