import { openDatabase, type Database } from '../../core/db/connection';
import { md5Hex } from '../../core/security/passwords';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { startServer, type ServerProcess } from '../helpers/server-process';

/**
 * Issue 12, item 2: v4_1 set_entries of 1,000 Contacts killed with kill -9 while it runs leaves all
 * of them or none, never a part the client has no ids for.
 */
for (const kind of databaseKinds) {
  describe(`set_entries killed mid-way [${kind}]`, () => {
    let scratch: TestDatabase;
    let db: Database;
    const servers: ServerProcess[] = [];
    const env = () => ({ DATABASE_URL: scratch.url, CANE_ADMIN_PASSWORD: 'batch-admin', CANE_TEST_MYSQL_URL: '' });
    beforeAll(async () => {
      scratch = await createTestDatabase(kind);
      servers.push(await startServer(env())); // syncs the schema
      db = openDatabase(scratch.url);
    });
    afterAll(async () => {
      for (const s of servers) s.child.kill('SIGKILL');
      await db?.close();
      await scratch?.cleanup();
    });

    const v4 = async (url: string, method: string, restData: unknown) => {
      const form = new URLSearchParams({ method, input_type: 'JSON', response_type: 'JSON', rest_data: JSON.stringify(restData) });
      const res = await fetch(`${url}/service/v4_1/rest.php`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      return JSON.parse(await res.text());
    };
    const count = async (lastName: string) => Number((await db.knex('contacts').where({ last_name: lastName }).count({ n: '*' }))[0].n);
    const batch = (lastName: string) => Array.from({ length: 1000 }, (_, i) => [{ name: 'last_name', value: lastName }, { name: 'first_name', value: `c${i}` }, { name: 'phone_mobile', value: `+1415555${String(1000 + i).slice(-4)}` }]);

    it('leaves all or none of the entries, wherever the kill lands', async () => {
      let server = servers[0];
      const sessionOf = async (url: string) => (await v4(url, 'login', { user_auth: { user_name: 'admin', password: md5Hex('batch-admin') }, application_name: 't' })).id;
      // a full run, to know how long the batch takes
      const started = Date.now();
      const full = await v4(server.url, 'set_entries', { session: await sessionOf(server.url), module_name: 'Contacts', name_value_lists: batch('Complete') });
      expect(full.ids).toHaveLength(1000);
      const duration = Date.now() - started;
      expect(await count('Complete')).toBe(1000);

      // killed at several points of the run: before, during and after the write begins
      for (const [run, fraction] of [0.2, 0.5, 0.8, 0.95].entries()) {
        const name = `Killed-${run}`;
        const session = await sessionOf(server.url);
        const pending = v4(server.url, 'set_entries', { session, module_name: 'Contacts', name_value_lists: batch(name) }).catch(() => 'no answer');
        await new Promise((resolve) => setTimeout(resolve, duration * fraction));
        server.child.kill('SIGKILL');
        await server.exited;
        const answer = await pending;
        const left = await count(name);
        expect([0, 1000]).toContain(left);
        if (answer !== 'no answer' && Array.isArray((answer as { ids?: unknown }).ids)) expect(left).toBe(1000);
        server = await startServer(env());
        servers.push(server);
      }

      // killed the moment the first of its rows can be seen
      const session = await sessionOf(server.url);
      const pending = v4(server.url, 'set_entries', { session, module_name: 'Contacts', name_value_lists: batch('Watched') }).catch(() => 'no answer');
      let settled = false;
      void pending.then(() => { settled = true; });
      while (!settled && (await count('Watched')) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      server.child.kill('SIGKILL');
      await server.exited;
      await pending;
      expect(await count('Watched')).toBe(1000);
    }, 180_000);
  });
}
