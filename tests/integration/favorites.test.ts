import { describeEachServer, loginWithRole } from '../helpers/crm';

/** Issue 13, item 3: Sugar's favourites on REST v10 — PUT/DELETE /<module>/:id/favorite, my_favorite, the $favorite filter. */
describeEachServer('favourites', (get) => {
  let admin = '';
  beforeAll(async () => { admin = await get().login('admin', 'secret-admin'); });
  const api = (method: string, path: string, token = admin, body?: unknown) => get().call(method, `/rest/v10${path}`, { token, body });

  it('marks and unmarks a favourite per user, shows my_favorite and filters by $favorite', async () => {
    const [a, b] = await Promise.all(['Fav One', 'Fav Two'].map(async (name) => (await api('POST', '/Accounts', admin, { name })).body));
    expect(a.my_favorite).toBe(false);
    const marked = await api('PUT', `/Accounts/${a.id}/favorite`);
    expect(marked.status).toBe(200);
    expect(marked.body).toMatchObject({ id: a.id, my_favorite: true });
    expect((await api('PUT', `/Accounts/${a.id}/favorite`)).status).toBe(200); // twice is once
    expect(await get().crm.engine.db.knex('favorites').where({ parent_id: a.id, deleted: 0 }).count({ n: '*' }).then((r) => Number(r[0].n))).toBe(1);
    expect((await api('GET', `/Accounts/${a.id}`)).body.my_favorite).toBe(true);
    expect((await api('GET', `/Accounts/${b.id}`)).body.my_favorite).toBe(false);
    const list = await api('GET', '/Accounts?filter[0][name][$starts]=Fav&fields=name,my_favorite');
    expect(Object.fromEntries(list.body.records.map((r: { name: string; my_favorite: boolean }) => [r.name, r.my_favorite]))).toEqual({ 'Fav One': true, 'Fav Two': false });
    expect(Object.keys((await api('GET', `/Accounts/${a.id}?fields=name`)).body)).not.toContain('my_favorite');
    const favourites = await api('POST', '/Accounts/filter', admin, { filter: [{ $favorite: '' }], fields: 'name' });
    expect(favourites.body.records.map((r: { name: string }) => r.name)).toEqual(['Fav One']);

    // another user's favourites are their own
    const token = await loginWithRole(get(), { name: 'fiona', password: 'fiona-secret-1' }, 'Fav readers', [['Accounts', 'view', 'all'], ['Accounts', 'list', 'all']]);
    expect((await api('GET', `/Accounts/${a.id}`, token)).body.my_favorite).toBe(false);
    expect((await api('POST', '/Accounts/filter', token, { filter: [{ $favorite: '' }] })).body.records).toEqual([]);

    const unmarked = await api('DELETE', `/Accounts/${a.id}/favorite`);
    expect(unmarked.body.my_favorite).toBe(false);
    expect((await api('POST', '/Accounts/filter', admin, { filter: [{ $favorite: '' }] })).body.records).toEqual([]);
  });

  it('answers 404 for a record the user cannot see', async () => {
    const hidden = (await api('POST', '/Accounts', admin, { name: 'Hidden fav' })).body;
    const token = await loginWithRole(get(), { name: 'ned', password: 'ned-secret-11' }, 'No accounts', [['Accounts', 'view', 'none']]);
    expect((await api('PUT', `/Accounts/${hidden.id}/favorite`, token)).status).toBe(404);
    expect((await api('PUT', '/Accounts/no-such-id/favorite')).status).toBe(404);
  });
});
