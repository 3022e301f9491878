import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { pluginDirs } from '../../core/app/plugins';
import { createUser } from '../../core/security/users';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeEachServer } from '../helpers/crm';
import { pluginFolder } from '../helpers/plugin-archives';

const run = browserAvailable() ? describeEachServer : (title: string) => describe.skip(title, () => undefined);

const SETTINGS_ID = 'test.greeter';
const greeter = pluginFolder({
  id: SETTINGS_ID, name: 'Greeter',
  hooks: [{ module: 'Accounts', event: 'before_save', handler: 'greet' }],
  settings: {
    type: 'object',
    properties: {
      greeting: { type: 'string', title: 'Greeting', maxLength: 20, default: 'Hello' },
      retries: { type: 'integer', title: 'Retries', minimum: 0, maximum: 5 },
      tone: { enum: ['warm', 'formal'], title: 'Tone' },
      loud: { type: 'boolean', title: 'Loud' },
      apiKey: { type: 'string', title: 'API key', secret: true },
    },
  },
}, 'definePlugin({ hooks: { greet() {} } });');

run('plugins admin page in Chromium', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
    await get().crm.plugins!.admin.install(greeter, { installedBy: 'test' });
  });
  afterAll(async () => { await browser?.close(); });

  const url = (p: string) => `${get().url}/ui${p}`;
  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `${name}.png`), fullPage: true });

  const login = (p: Page, user: string, password: string) => uiLogin(p, get().url, user, password);

  it('lists the plugins for an admin, reached from the menu', async () => {
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await login(page, 'admin', 'secret-admin');
    await page.getByRole('navigation', { name: 'Modules' }).getByText('Admin', { exact: true }).click();
    await page.getByRole('navigation', { name: 'Modules' }).getByRole('link', { name: 'Plugins' }).click();
    await page.getByRole('heading', { level: 1, name: 'Plugins' }).waitFor();
    const audit = page.locator('section[data-plugin="org.cane.audit-log"]');
    await audit.getByRole('heading', { name: /Audit log/ }).waitFor();
    expect(await audit.getByText('Built-in').count()).toBe(1);
    expect(await audit.locator('[data-plugin-hooks] tbody tr').count()).toBe(6);
    expect(await audit.locator('[data-plugin-hooks]').textContent()).toContain('ordered');
    expect(await audit.locator('[data-plugin-backlog]').textContent()).toMatch(/^Pending: \d+ · retrying: \d+/);
    const greeterSection = page.locator(`section[data-plugin="${SETTINGS_ID}"]`);
    expect(await greeterSection.getByText('Installed', { exact: true }).count()).toBe(1);
    expect(await greeterSection.locator('[data-plugin-hooks]').textContent()).toContain('inline');
    await shot('plugins');
  });

  it('disables and re-enables the audit-log plugin', async () => {
    const { crm } = get();
    const audit = () => page.locator('section[data-plugin="org.cane.audit-log"]');
    await audit().getByRole('button', { name: 'Disable' }).click();
    await page.getByText('org.cane.audit-log disabled.').waitFor();
    expect(await audit().locator('[data-plugin-state]').textContent()).toBe('Disabled');
    expect(await crm.plugins!.isEnabled('org.cane.audit-log', '*')).toBe(false);
    await audit().getByRole('button', { name: 'Enable' }).click();
    await page.getByText('org.cane.audit-log enabled.').waitFor();
    expect(await audit().locator('[data-plugin-state]').textContent()).toBe('Enabled');
    expect(await crm.plugins!.isEnabled('org.cane.audit-log', '*')).toBe(true);
  });

  it('shows a bad setting next to its field, keeps the input, then saves', async () => {
    const { crm } = get();
    const form = () => page.locator(`section[data-plugin="${SETTINGS_ID}"] form[data-plugin-settings]`);
    expect(await form().getByLabel('Greeting').inputValue()).toBe('Hello');
    expect(await form().locator('[data-secret-state]').textContent()).toBe('not set');
    await form().getByLabel('Greeting').fill('Good day to you');
    await form().getByLabel('Retries').fill('9');
    await form().getByLabel('Tone').selectOption('formal');
    await form().getByRole('button', { name: 'Save settings' }).click();
    const error = form().locator('.field-error');
    await error.waitFor();
    expect(await error.textContent()).toBe(`${SETTINGS_ID}: settings at /retries: must be <= 5`);
    expect(await form().getByLabel('Retries').getAttribute('aria-invalid')).toBe('true');
    expect(await form().getByLabel('Retries').inputValue()).toBe('9');
    expect(await form().getByLabel('Greeting').inputValue()).toBe('Good day to you');
    expect(await form().getByLabel('Tone').inputValue()).toBe('formal');
    await shot('plugins-settings-error');
    expect(await crm.plugins!.admin.settings(SETTINGS_ID)).toEqual({});

    await form().getByLabel('Retries').fill('3');
    await form().getByLabel('API key').fill('k-secret');
    await form().getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(`Settings of ${SETTINGS_ID} saved.`).waitFor();
    expect(await form().locator('[data-secret-state]').textContent()).toBe('set');
    expect(await form().getByLabel('API key').inputValue()).toBe('');
    expect(await page.content()).not.toContain('k-secret');
    expect(await crm.plugins!.admin.settings(SETTINGS_ID)).toEqual({ greeting: 'Good day to you', retries: 3, tone: 'formal', loud: false, apiKey: 'k-secret' });

    // an empty secret keeps the stored one
    await form().getByLabel('Loud').check();
    await form().getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(`Settings of ${SETTINGS_ID} saved.`).waitFor();
    expect(await crm.plugins!.admin.settings(SETTINGS_ID)).toMatchObject({ loud: true, apiKey: 'k-secret' });
  });

  it('refuses the page to users who are not admins', async () => {
    const { crm } = get();
    await createUser(crm.engine, { user_name: 'plain', password: 'plain-pass', last_name: 'Plain' });
    const other = await (await browser.newContext()).newPage();
    await login(other, 'plain', 'plain-pass');
    expect(await other.getByRole('navigation', { name: 'Modules' }).getByRole('link', { name: 'Plugins', includeHidden: true }).count()).toBe(0);
    const res = await other.goto(url('/plugins'));
    expect(res?.status()).toBe(403);
    expect(await other.getByRole('heading', { level: 1 }).textContent()).toBe('Not allowed');
  });
}, { plugins: { dirs: pluginDirs(fs.mkdtempSync(path.join(os.tmpdir(), 'cane-ui-plugins-'))) } });
