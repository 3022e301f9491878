import { createCrm, type Crm } from '../../core/app/create-crm';
import { silentLogger } from '../../core/logger';
import { md5Hex } from '../../core/security/passwords';
import { loginPolicyFrom } from '../../core/security/login-policy';
import { createUser } from '../../core/security/users';
import { client, startServer, type TestServer } from '../helpers/crm';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { fixedClock } from '../helpers/engine';
import { session } from '../helpers/ui-session';

const WINDOW = 600;
const policy = { windowSeconds: WINDOW, maxAccountFailures: 5, maxAddressFailures: 12 };

for (const kind of databaseKinds) {
  describe(`login throttling caps guesses per account and address, across processes [${kind}]`, () => {
    const clock = fixedClock('2026-05-01T08:00:00Z');
    let test: TestDatabase;
    const stops: Array<() => Promise<void>> = [];
    let one: TestServer;
    let two: TestServer;

    const open = async (): Promise<TestServer> => {
      const crm: Crm = await createCrm({ databaseUrl: test.url, customDir: '/nonexistent', logger: silentLogger, adminPassword: 'secret-admin', secret: 'test-secret', plugins: false, sms: false, clock, loginPolicy: policy });
      const listening = await startServer(crm);
      stops.push(async () => { await listening.close(); await crm.close(); });
      return client(crm, listening.url);
    };

    beforeAll(async () => {
      test = await createTestDatabase(kind);
      one = await open();
      two = await open();
    });
    afterAll(async () => {
      for (const stop of stops.reverse()) await stop();
      await test?.cleanup();
    });
    // Every test starts after the previous one's windows have passed.
    beforeEach(() => clock.advance(WINDOW + 1));

    let users = 0;
    const newUser = async (password = 'right-password') => {
      const name = `user${++users}`;
      await createUser(one.crm.engine, { user_name: name, password, last_name: name });
      return name;
    };
    const v10 = (server: TestServer, username: string, password: string) =>
      server.call('POST', '/rest/v10/oauth2/token', { body: { grant_type: 'password', client_id: 'sugar', username, password } });
    const v4 = (server: TestServer, userName: string, password: string) =>
      server.v4('login', { user_auth: { user_name: userName, password: md5Hex(password) }, application_name: 'test' });

    it('lets at most the cap of 50 parallel v10 guesses be checked; the right password is refused with 429 until the window ends', async () => {
      const victim = await newUser();
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => v10(one, victim, `guess ${i}`)));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 401).length).toBe(policy.maxAccountFailures);
      expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
      const refused = answers.find((a) => a.status === 429)!;
      expect(refused.body).toMatchObject({ error: 'too_many_requests' });
      expect(refused.body.error_message).toMatch(/too many/i);

      const locked = await v10(one, victim, 'right-password');
      expect(locked.status).toBe(429);
      expect(locked.body.error).toBe('too_many_requests');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(WINDOW);

      clock.advance(WINDOW + 1);
      expect((await v10(one, victim, 'right-password')).status).toBe(200);
    });

    it('does the same through v4_1 login', async () => {
      const victim = await newUser();
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => v4(one, victim, `guess ${i}`)));
      expect(answers.filter((a) => a.number === 10).length).toBe(policy.maxAccountFailures);
      expect(answers.filter((a) => a.number !== 10 && a.name !== 'Too many login attempts')).toEqual([]);
      const locked = await v4(one, victim, 'right-password');
      expect(locked).toMatchObject({ name: 'Too many login attempts', number: 429 });
      expect(locked.description).toMatch(/try again in \d+ seconds/);
      clock.advance(WINDOW + 1);
      expect((await v4(one, victim, 'right-password')).id).toEqual(expect.any(String));
    });

    it('shows the UI login page with status 429 and a clear message while locked', async () => {
      const victim = await newUser();
      for (let i = 0; i < policy.maxAccountFailures; i++) expect((await v10(one, victim, `guess ${i}`)).status).toBe(401);
      const ui = session(one.url);
      const page = await ui.request('GET', '/ui/login');
      const res = await ui.request('POST', '/ui/login', { csrf: ui.csrfIn(page.text), user_name: victim, password: 'right-password' });
      expect(res.status).toBe(429);
      expect(res.text).toMatch(/Too many failed login attempts/);
    });

    it('does not slow or block another user on the same address, up to the address cap on failures', async () => {
      const victim = await newUser();
      const colleague = await newUser('colleague-password');
      await Promise.all(Array.from({ length: 20 }, (_, i) => v10(one, victim, `guess ${i}`)));
      expect((await v10(one, victim, 'right-password')).status).toBe(429);
      expect((await v10(one, colleague, 'colleague-password')).status).toBe(200);
      expect((await v4(one, colleague, 'colleague-password')).id).toEqual(expect.any(String));

      // Failures from the address, spread over accounts, stop at the address cap; successes do not count.
      const others = [await newUser(), await newUser(), await newUser()];
      const answers = [];
      for (const name of others) for (let i = 0; i < 4; i++) answers.push((await v10(one, name, `guess ${i}`)).status);
      expect(answers.filter((s) => s === 401).length).toBe(policy.maxAddressFailures - policy.maxAccountFailures);
      const fresh = await newUser();
      const blocked = await v10(one, fresh, 'right-password');
      expect(blocked.status).toBe(429);
      expect(blocked.body.error_message).toMatch(/this address/);
    });

    it('clears an account\'s failures on a successful login', async () => {
      const user = await newUser();
      // 2 × 4 failures: past the account cap of 5 unless the success between clears them, under the address cap of 12.
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < policy.maxAccountFailures - 1; i++) expect((await v10(one, user, `guess ${i}`)).status).toBe(401);
        expect((await v10(one, user, 'right-password')).status).toBe(200);
        clock.advance(1);
      }
    });

    it('lets parallel logins with the right password through', async () => {
      const user = await newUser();
      const answers = await Promise.all(Array.from({ length: 20 }, () => v10(one, user, 'right-password')));
      // Attempts still being checked count towards the cap; refused ones are told to retry at once.
      for (const a of answers.filter((x) => x.status !== 200)) {
        expect(a.status).toBe(429);
        expect(a.headers.get('retry-after')).toBe('1');
      }
      expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(policy.maxAccountFailures);
    });

    it('holds the count across two processes on one database', async () => {
      const victim = await newUser();
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => v10(i % 2 ? one : two, victim, `guess ${i}`)));
      expect(answers.filter((a) => a.status === 401).length).toBe(policy.maxAccountFailures);
      expect((await v10(two, victim, 'right-password')).status).toBe(429);
      expect((await v4(one, victim, 'right-password')).name).toBe('Too many login attempts');
    });

    it('lists locks and unlocks an account before its window ends', async () => {
      const victim = await newUser();
      for (let i = 0; i < policy.maxAccountFailures; i++) await v10(two, victim, `guess ${i}`);
      // The earlier tests' counters have expired and were purged when this user's row was added.
      expect((await one.crm.engine.db.knex('cane_login_throttle').pluck('subject')).sort()).toEqual([expect.stringMatching(/^ip:/), `user:${victim}`]);
      const throttle = one.crm.services.auth.throttle;
      const locks = await throttle.locks();
      expect(locks).toEqual([expect.objectContaining({ kind: 'user', subject: victim, failures: policy.maxAccountFailures })]);
      expect(locks[0].until).toBe(new Date(clock().getTime() + WINDOW * 1000).toISOString().replace('T', ' ').slice(0, 19));
      expect(await throttle.unlock('user', victim)).toBe(true);
      expect(await throttle.unlock('user', victim)).toBe(false);
      expect(await throttle.locks()).toEqual([]);
      expect((await v10(two, victim, 'right-password')).status).toBe(200);
    });
  });
}

describe('login policy settings', () => {
  it('reads the environment and refuses values that are not whole numbers of at least 1', () => {
    expect(loginPolicyFrom({}, {})).toEqual({ windowSeconds: 900, maxAccountFailures: 10, maxAddressFailures: 100 });
    expect(loginPolicyFrom({}, { CANE_LOGIN_WINDOW_SECONDS: '60', CANE_LOGIN_MAX_FAILURES: '3', CANE_LOGIN_MAX_ADDRESS_FAILURES: '40' })).toEqual({ windowSeconds: 60, maxAccountFailures: 3, maxAddressFailures: 40 });
    expect(loginPolicyFrom({ maxAccountFailures: 7 }, { CANE_LOGIN_MAX_FAILURES: '3' }).maxAccountFailures).toBe(7);
    expect(() => loginPolicyFrom({}, { CANE_LOGIN_MAX_FAILURES: '0' })).toThrow("CANE_LOGIN_MAX_FAILURES must be a whole number of at least 1, not '0'");
    expect(() => loginPolicyFrom({}, { CANE_LOGIN_WINDOW_SECONDS: '15m' })).toThrow(/CANE_LOGIN_WINDOW_SECONDS/);
  });
});
