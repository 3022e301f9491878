import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createCrm, type Crm } from '../../core/app/create-crm';
import { silentLogger } from '../../core/logger';
import { TooManyLoginsError } from '../../core/security/login-throttle';
import { createUser } from '../../core/security/users';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';

const root = path.join(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cli = path.join(root, 'core', 'cli', 'main.ts');

for (const kind of databaseKinds) {
  describe(`cane user:locks and user:unlock [${kind}]`, () => {
    let test: TestDatabase;
    let crm: Crm;
    beforeAll(async () => {
      test = await createTestDatabase(kind);
      crm = await createCrm({ databaseUrl: test.url, customDir: '/nonexistent', logger: silentLogger, adminPassword: 'secret-admin', secret: 'test-secret', plugins: false, sms: false, loginPolicy: { maxAccountFailures: 3 } });
    });
    afterAll(async () => {
      await crm?.close();
      await test?.cleanup();
    });

    const run = (...args: string[]) => spawnSync(tsx, [cli, ...args], {
      env: { ...process.env, DATABASE_URL: test.url, CANE_CUSTOM_DIR: '/nonexistent', CANE_LOGIN_MAX_FAILURES: '3', LOG_LEVEL: 'warn' }, encoding: 'utf8',
    });
    const login = (password: string) => crm.services.auth.login('rita', password, { ip: '203.0.113.9' });

    it('shows a locked user and address, and clears them', async () => {
      await createUser(crm.engine, { user_name: 'rita', password: 'rita-secret', last_name: 'Rita' });
      for (let i = 0; i < 3; i++) await expect(login(`guess ${i}`)).rejects.toMatchObject({ code: 'need_login' });
      await expect(login('rita-secret')).rejects.toBeInstanceOf(TooManyLoginsError);

      const locks = run('user:locks');
      expect(locks.status).toBe(0);
      expect(locks.stdout).toMatch(/^user rita: 3 failures until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(last from 203\.0\.113\.9\)$/m);
      expect(run('user:unlock', 'rita').stdout.trim()).toBe('user rita unlocked');
      expect(run('user:locks').stdout.trim()).toBe('no locks');
      expect(run('user:locks', '--all').stdout).toMatch(/^address 203\.0\.113\.9: 3 failures until /m);
      expect((await login('rita-secret')).user_name).toBe('rita');

      expect(run('user:unlock', '--address', '203.0.113.9').stdout.trim()).toBe('address 203.0.113.9 unlocked');
      expect(run('user:unlock', 'rita').stdout.trim()).toBe('user rita had no failed logins');
      const bare = run('user:unlock');
      expect(bare.status).toBe(1);
      expect(bare.stderr).toContain('name a user, or an address with --address');
    }, 120_000);
  });
}
