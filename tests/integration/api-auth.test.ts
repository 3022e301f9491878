import { md5Hex } from '../../core/security/passwords';
import { createUser } from '../../core/security/users';
import { fixedClock } from '../helpers/engine';
import { describeEachServer } from '../helpers/crm';

const clock = fixedClock('2026-04-01T09:00:00Z');

describeEachServer('REST v10 authentication', (get) => {
  const tokenRequest = (body: unknown) => get().call('POST', '/rest/v10/oauth2/token', { body });

  it('issues tokens for the password grant and accepts them in both headers', async () => {
    const res = await tokenRequest({ grant_type: 'password', client_id: 'sugar', client_secret: '', username: 'admin', password: 'secret-admin', platform: 'base' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ expires_in: 3600, token_type: 'bearer', refresh_expires_in: 1209600, scope: null });
    expect(res.headers.get('cache-control')).toBe('no-store');
    const me = await get().call('GET', '/rest/v10/me', { token: res.body.access_token });
    expect(me.body.current_user).toMatchObject({ id: '1', user_name: 'admin', type: 'admin' });
    const bearer = await get().call('GET', '/rest/v10/me', { headers: { Authorization: `Bearer ${res.body.access_token}` } });
    expect(bearer.status).toBe(200);
  });

  it('answers Sugar\'s OAuth errors', async () => {
    expect(await tokenRequest({ grant_type: 'password', client_id: 'sugar', username: 'admin', password: 'wrong' })).toMatchObject({ status: 401, body: { error: 'need_login' } });
    expect(await tokenRequest({ grant_type: 'password', client_id: 'other', username: 'admin', password: 'secret-admin' })).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
    expect(await tokenRequest({ grant_type: 'client_credentials', client_id: 'sugar' })).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(await tokenRequest({ client_id: 'sugar' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await tokenRequest({ grant_type: 'refresh_token', client_id: 'sugar', refresh_token: 'forged' })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const malformed = await get().call('POST', '/rest/v10/oauth2/token', { raw: '{"grant_type": "password",' });
    expect(malformed.status).toBe(422);
    expect(malformed.body.error).toBe('invalid_parameter');
    expect(malformed.body.error_message).toMatch(/not valid JSON/);
    expect(await get().call('GET', '/rest/v10/Accounts')).toMatchObject({ status: 401, body: { error: 'need_login', error_message: 'No valid authentication for user.' } });
    expect(await get().call('GET', '/rest/v10/Accounts', { token: 'nonsense' })).toMatchObject({ status: 401, body: { error: 'invalid_grant', error_message: 'The access token provided is invalid.' } });
  });

  it('expires access tokens and rotates refresh tokens; a reused refresh token revokes the family', async () => {
    const first = (await tokenRequest({ grant_type: 'password', client_id: 'sugar', username: 'admin', password: 'secret-admin' })).body;
    clock.advance(3601);
    expect((await get().call('GET', '/rest/v10/me', { token: first.access_token })).status).toBe(401);
    const second = await tokenRequest({ grant_type: 'refresh_token', client_id: 'sugar', refresh_token: first.refresh_token });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await get().call('GET', '/rest/v10/me', { token: second.body.access_token })).status).toBe(200);
    // the old refresh token is spent; using it again looks like theft and ends the whole chain
    expect((await tokenRequest({ grant_type: 'refresh_token', client_id: 'sugar', refresh_token: first.refresh_token })).status).toBe(400);
    expect((await get().call('GET', '/rest/v10/me', { token: second.body.access_token })).status).toBe(401);
    expect((await tokenRequest({ grant_type: 'refresh_token', client_id: 'sugar', refresh_token: second.body.refresh_token })).status).toBe(400);
  });

  it('logs out', async () => {
    const token = await get().login('admin', 'secret-admin');
    expect(await get().call('POST', '/rest/v10/oauth2/logout', { token })).toMatchObject({ status: 200, body: { success: true } });
    expect((await get().call('GET', '/rest/v10/me', { token })).status).toBe(401);
  });

  it('keeps SuiteCRM password hashes and refuses inactive users', async () => {
    const { crm } = get();
    await createUser(crm.engine, { user_name: 'legacy', password: 'correct horse', last_name: 'Legacy' });
    const row = await crm.engine.db.knex('users').where('user_name', 'legacy').first();
    expect(row.user_hash).toMatch(/^\$2[aby]\$10\$/);
    // A hash written by PHP's password_hash() ($2y$) of md5(password) logs in unchanged.
    await crm.engine.db.knex('users').where('id', row.id).update({ user_hash: row.user_hash.replace(/^\$2[ab]\$/, '$2y$') });
    expect(await get().login('legacy', 'correct horse')).toBeTruthy();
    // And the bare MD5 hash SuiteCRM's checkPasswordMD5 still accepts.
    await crm.engine.db.knex('users').where('id', row.id).update({ user_hash: md5Hex('correct horse') });
    expect(await get().login('legacy', 'correct horse')).toBeTruthy();
    await crm.engine.db.knex('users').where('id', row.id).update({ status: 'Inactive' });
    const refused = await tokenRequest({ grant_type: 'password', client_id: 'sugar', username: 'legacy', password: 'correct horse' });
    expect(refused).toMatchObject({ status: 401, body: { error: 'need_login', error_message: 'This user is not active and cannot log in.' } });
  });

  it('counts failed logins', async () => {
    const { crm } = get();
    for (let i = 0; i < 3; i++) await tokenRequest({ grant_type: 'password', client_id: 'sugar', username: 'admin', password: `guess ${i}` });
    const failures = await crm.engine.db.knex('cane_login_attempts').where({ user_name: 'admin', succeeded: 0 }).count({ n: '*' }).first();
    expect(Number(failures?.n)).toBeGreaterThanOrEqual(3);
  });

  it('answers ping and the time', async () => {
    expect((await get().call('GET', '/rest/v10/ping')).body).toBe('pong');
    expect((await get().call('GET', '/rest/v10/ping/whattimeisit')).body).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
  });
}, { clock });
