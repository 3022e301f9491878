import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import mount from 'koa-mount';
import { createCrm } from '../../core/app/create-crm';
import { openDatabase } from '../../core/db/connection';
import { silentLogger } from '../../core/logger';
import { createTestDatabase } from '../helpers/databases';

describe('embedding Cane in a host Koa app', () => {
  it('serves the APIs under /crm next to the host\'s own routes', async () => {
    const test = await createTestDatabase('sqlite');
    const db = openDatabase(test.url);
    const crm = await createCrm({ database: db, customDir: '/nonexistent', logger: silentLogger, adminPassword: 'host-admin', secret: 's' });
    const host = new Koa();
    host.use(async (ctx, next) => {
      if (ctx.path === '/') { ctx.body = 'host home'; return; }
      await next();
    });
    host.use(mount('/crm', crm.app));
    host.use(async (ctx) => { ctx.status = 404; ctx.body = 'host 404'; });
    const server = http.createServer(host.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/`)).text()).toBe('host home');
      const token = (await (await fetch(`${base}/crm/rest/v10/oauth2/token`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', client_id: 'sugar', username: 'admin', password: 'host-admin' }),
      })).json()) as { access_token: string };
      const created = await (await fetch(`${base}/crm/rest/v10/Accounts`, { method: 'POST', headers: { 'OAuth-Token': token.access_token, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Embedded' }) })).json();
      expect(created).toMatchObject({ name: 'Embedded', _module: 'Accounts' });
      // the host also uses the record service directly, as the same user
      const { records } = await crm.records.list({ type: 'user', id: '1', isAdmin: true }, 'Accounts', {});
      expect(records.map((r) => r.name)).toEqual(['Embedded']);
      expect((await fetch(`${base}/crm/health`)).status).toBe(200);
      expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
      await crm.close();
      await db.close();
      await test.cleanup();
    }
  });
});
