import { openDatabase, type Database } from '../../core/db/connection';
import { verifyActivityChain } from '../../modules/ActivityLog/verify-chain';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { startServer, type ServerProcess } from '../helpers/server-process';

async function call(url: string, method: string, pathname: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${pathname}`, { method, headers: { ...(token ? { 'OAuth-Token': token } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function login(url: string): Promise<string> {
  const res = await call(url, 'POST', '/rest/v10/oauth2/token', undefined, { grant_type: 'password', client_id: 'sugar', client_secret: '', username: 'admin', password: 'two-process-admin', platform: 'base' });
  if (res.status !== 200) throw new Error(`login failed: ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

/** One client's share of the load: creates, updates, links and deletes; counts the changes that answered 200. */
async function work(url: string, token: string, client: number, ops: number): Promise<number> {
  let changes = 0;
  const accounts: string[] = [];
  const contacts: string[] = [];
  const ok = (status: number) => { if (status !== 200) throw new Error(`client ${client}: HTTP ${status}`); changes++; };
  for (let i = 0; i < ops; i++) {
    const op = i % 6;
    if (op === 0 || !accounts.length) {
      const res = await call(url, 'POST', '/rest/v10/Accounts', token, { name: `p${client} a${i}` });
      ok(res.status);
      accounts.push(res.body.id);
    } else if (op === 1) {
      const res = await call(url, 'POST', '/rest/v10/Contacts', token, { last_name: `p${client} c${i}` });
      ok(res.status);
      contacts.push(res.body.id);
    } else if (op === 2 || op === 4) {
      ok((await call(url, 'PUT', `/rest/v10/Accounts/${accounts[accounts.length - 1]}`, token, { description: `edit ${i}` })).status);
    } else if (op === 3 && contacts.length) {
      ok((await call(url, 'POST', `/rest/v10/Accounts/${accounts[accounts.length - 1]}/link/contacts/${contacts.pop()}`, token)).status);
    } else if (accounts.length > 1) {
      ok((await call(url, 'DELETE', `/rest/v10/Accounts/${accounts.shift()}`, token)).status);
    }
  }
  return changes;
}

const kinds = databaseKinds.filter((k) => k === 'mysql');
if (!kinds.length) test.skip('two Cane processes on one MariaDB database (set CANE_TEST_MYSQL_URL to run)', () => undefined);

for (const kind of kinds) {
  describe(`two Cane processes on one database share the audit-log plugin's ordered lane [${kind}]`, () => {
    let scratch: TestDatabase;
    let db: Database;
    const servers: ServerProcess[] = [];
    beforeAll(async () => {
      scratch = await createTestDatabase(kind);
      db = openDatabase(scratch.url);
    });
    afterAll(async () => {
      for (const s of servers) s.child.kill('SIGKILL');
      await db?.close();
      await scratch?.cleanup();
    });

    it('records every change once, in one verified chain, when one process is killed with SIGKILL mid-way', async () => {
      const env = { DATABASE_URL: scratch.url, CANE_ADMIN_PASSWORD: 'two-process-admin', LEASE_SECONDS: '2', CANE_TEST_MYSQL_URL: '' };
      const a = await startServer(env); // syncs the schema first
      const b = await startServer(env);
      servers.push(a, b);
      const tokensA = await Promise.all([1, 2, 3, 4].map(() => login(a.url)));
      const tokensB = await Promise.all([1, 2, 3, 4].map(() => login(b.url)));
      let changes = 8; // the logins
      const onB = Promise.all(tokensB.map((t, i) => work(b.url, t, 10 + i, 40)));
      const onA = Promise.all(tokensA.map((t, i) => work(a.url, t, i, 80)));
      changes += (await onB).reduce((x, y) => x + y, 0);
      // B dies while A's clients are still saving and both processes compete for the lane
      b.child.kill('SIGKILL');
      await b.exited;
      changes += (await onA).reduce((x, y) => x + y, 0);

      const deadline = Date.now() + 90_000;
      for (;;) {
        const left = Number((await db.knex('cane_plugin_events').count({ n: '*' }).first())?.n);
        if (left === 0) break;
        if (Date.now() > deadline) throw new Error(`${left} plugin events still undelivered`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const entries = Number((await db.knex('cane_activity_log').count({ n: '*' }).first())?.n);
      expect(entries).toBe(changes);
      expect(await verifyActivityChain(db)).toEqual({ entries, ok: true });
      const faults = await db.knex('cane_plugin_state').where('plugin_id', 'org.cane.audit-log').where((q) => q.where('total_faults', '>', 0).orWhere('enabled', 0));
      expect(faults).toEqual([]);
    }, 180_000);
  });
}
