import { SYSTEM } from '../../core/records/actor';
import { RoleAdmin } from '../../core/security/roles';
import { createUser } from '../../core/security/users';
import { describeEachServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';

describeEachServer('UI forms refuse bad input and change nothing', (get) => {
  let ui: ReturnType<typeof session>;
  let csrf = '';
  let accountId = '';

  beforeAll(async () => {
    ui = session(get().url);
    csrf = await ui.login('admin', 'secret-admin');
    accountId = (await get().crm.records.create(SYSTEM, 'Accounts', { name: 'Guarded', industry: 'Retail' })).id;
  });

  const name = async () => (await get().crm.records.retrieve(SYSTEM, 'Accounts', accountId)).name;

  it('keeps the session cookie HttpOnly and SameSite', async () => {
    const s = session(get().url);
    const page = await s.request('GET', '/ui/login');
    const res = await fetch(`${get().url}/ui/login`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `cane_login_csrf=${s.csrfIn(page.text)}` },
      body: new URLSearchParams({ csrf: s.csrfIn(page.text), user_name: 'admin', password: 'secret-admin' }).toString(),
    });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('cane_session='))!;
    expect(cookie).toMatch(/httponly/i);
    expect(cookie).toMatch(/samesite=lax/i);
  });

  it('refuses a form without a valid CSRF token', async () => {
    for (const token of [undefined, 'forged']) {
      const form: Record<string, string> = { name: 'Hijacked' };
      if (token) form.csrf = token;
      const res = await ui.request('POST', `/ui/Accounts/${accountId}/edit`, form);
      expect(res.status).toBe(403);
      expect(res.text).toContain('no valid security token; nothing was changed');
    }
    expect((await ui.request('POST', `/ui/Accounts/${accountId}/delete`, { csrf: 'nope' })).status).toBe(403);
    expect((await ui.request('POST', '/ui/Accounts/mass', { action: 'delete', ids: accountId })).status).toBe(403);
    expect(await name()).toBe('Guarded');
  });

  it('refuses tampered ids, fields that are not on the form and values of the wrong type', async () => {
    const missing = await ui.request('POST', '/ui/Accounts/no-such-id/edit', { csrf, name: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('Could not find record: no-such-id in module: Accounts');
    const extra = await ui.request('POST', `/ui/Accounts/${accountId}/edit`, { csrf, name: 'Sneaky', deleted: '1', date_entered: '2001-01-01' });
    expect(extra.status).toBe(422);
    expect(extra.text).toContain('The form had fields that are not on it (deleted, date_entered); nothing was changed.');
    const wrong = await ui.request('POST', `/ui/Accounts/${accountId}/edit`, { csrf, name: 'Typed', industry: 'Piracy' });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('&#x27;Piracy&#x27; is not an option of industry_dom');
    expect(wrong.text).toContain('value="Typed"');
    const opp = await ui.request('POST', '/ui/Opportunities/new', { csrf, name: 'Bad numbers', amount: 'lots', date_closed: '2026-02-31', sales_stage: 'Prospecting' });
    expect(opp.status).toBe(422);
    expect(opp.text).toContain('must be a decimal number');
    expect(opp.text).toContain('must be a date as YYYY-MM-DD');
    expect(await name()).toBe('Guarded');
    expect(await get().crm.records.count(SYSTEM, 'Opportunities', { filter: [{ name: 'Bad numbers' }] })).toBe(0);
  });

  it('explains an optimistic-locking conflict and keeps the input', async () => {
    const page = await ui.request('GET', `/ui/Accounts/${accountId}/edit`);
    const stamp = /name="date_modified" value="([^"]+)"/.exec(page.text)![1];
    await new Promise((r) => setTimeout(r, 1100));
    await get().crm.records.update(SYSTEM, 'Accounts', accountId, { name: 'Changed meanwhile' });
    const res = await ui.request('POST', `/ui/Accounts/${accountId}/edit`, { csrf, date_modified: stamp, name: 'My version' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Someone else changed this record while you were editing it');
    expect(res.text).toContain('value="My version"');
    expect(await name()).toBe('Changed meanwhile');
  });

  it('refuses fields and actions the user may not use', async () => {
    const { crm } = get();
    await createUser(crm.engine, { user_name: 'clerk', password: 'clerk-pass', last_name: 'Clerk' });
    const roles = new RoleAdmin(crm.engine, crm.services.acl);
    await roles.create('No delete');
    await roles.set('No delete', 'Accounts', 'delete', 'none');
    await roles.assign('No delete', 'clerk');
    const clerk = session(get().url);
    const token = await clerk.login('clerk', 'clerk-pass');
    const del = await clerk.request('POST', `/ui/Accounts/${accountId}/delete`, { csrf: token });
    expect(del.status).toBe(403);
    const mass = await clerk.request('POST', '/ui/Accounts/mass', { csrf: token, action: 'delete', ids: accountId, return_to: '/ui/Accounts' });
    expect(mass.status).toBe(403);
    const me = (await crm.engine.db.knex('users').where('user_name', 'clerk').first()).id;
    const admin = await clerk.request('POST', `/ui/Users/${me}/edit`, { csrf: token, is_admin: '1', is_admin__present: '1' });
    expect(admin.status).toBe(403);
    expect(admin.text).toContain('Only administrators may change is_admin of Users. Nothing was changed.');
    expect((await crm.engine.db.knex('users').where('id', me).first()).is_admin).toBeFalsy();
    expect(await name()).toBe('Changed meanwhile');
  });

  it('creates through quick create and exports CSV without formula injection', async () => {
    const quick = await ui.request('GET', '/ui/Accounts/new?view=quick');
    expect(quick.text).toContain('action="/ui/Accounts/new?view&#x3D;quick"');
    const created = await ui.request('POST', '/ui/Accounts/new?view=quick', { csrf, name: '=HYPERLINK("http://evil")', industry: 'Media' });
    expect(created.status).toBe(302);
    const id = decodeURIComponent(created.location.split('/').pop()!.split('?')[0]);
    const csv = await ui.request('POST', '/ui/Accounts/mass', { csrf, action: 'export', ids: id });
    expect(csv.status).toBe(200);
    const [header, row] = csv.text.trim().split('\n');
    expect(header.split(',')).toContain('name');
    expect(row).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });
});
