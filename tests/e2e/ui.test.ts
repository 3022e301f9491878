import type { Browser, Page } from 'playwright-core';
import { RoleAdmin } from '../../core/security/roles';
import { createUser } from '../../core/security/users';
import { SYSTEM } from '../../core/records/actor';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeEachServer } from '../helpers/crm';

const run = browserAvailable() ? describeEachServer : (title: string) => describe.skip(title, () => undefined);

run('web UI in Chromium', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';
  const dialogs: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
  });
  afterAll(async () => { await browser?.close(); });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await context.newPage();
    p.on('dialog', async (d) => { dialogs.push(d.message()); await d.accept(); });
    return p;
  }
  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `${name}.png`), fullPage: true });
  const url = (path: string) => `${get().url}/ui${path}`;

  const login = (p: Page, user: string, password: string) => uiLogin(p, get().url, user, password);

  it('logs in and shows the modules the user may access', async () => {
    page = await newPage();
    await page.goto(url('/Accounts'));
    await page.waitForURL(/\/ui\/login\?next=/);
    await shot('login');
    await page.getByLabel('User Name').fill('admin');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Log In' }).click();
    await page.getByText('You must specify a valid username and password.').waitFor();
    await login(page, 'admin', 'secret-admin');
    await page.getByRole('link', { name: /Accounts/ }).first().waitFor();
    await shot('home');
  });

  it('creates an Account through the edit view, finds it in the list and by search', async () => {
    await page.goto(url('/Accounts/new'));
    await page.getByLabel('Name').fill('Browser Test Co');
    await page.getByLabel('Industry').selectOption('Technology');
    await page.getByLabel('Office Phone').fill('+1 415 555 0199');
    await shot('edit-new');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: 'Browser Test Co' }).waitFor();
    await page.getByText('Saved.').waitFor();
    await shot('detail');
    await page.goto(url('/Accounts'));
    await page.getByRole('link', { name: 'Browser Test Co' }).waitFor();
    await shot('list');
    const search = page.getByRole('search');
    await search.getByLabel('Name').fill('Browser');
    await search.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/s_name=Browser/);
    expect(await page.locator('table.list tbody tr').count()).toBe(1);
  });

  it('shows the validation error beside a too-long name and keeps the input', async () => {
    await page.getByRole('link', { name: 'Browser Test Co' }).click();
    await page.getByRole('link', { name: 'Edit' }).click();
    const tooLong = 'L'.repeat(151);
    await page.getByLabel('Name').fill(tooLong);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#err-name').waitFor();
    expect(await page.locator('#err-name').textContent()).toBe('is 151 characters long; the limit is 150');
    expect(await page.getByLabel('Name').inputValue()).toBe(tooLong);
    await shot('edit-validation');
  });

  it('shows the change log after an audited field changes', async () => {
    await page.getByLabel('Name').fill('Browser Test Company');
    await page.getByLabel('Office Phone').fill('+1 415 555 0100');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: 'Browser Test Company' }).waitFor();
    await page.getByRole('link', { name: 'View Change Log' }).click();
    const rows = page.locator('table.changelog tbody tr');
    await rows.first().waitFor();
    const text = await page.locator('table.changelog tbody').innerText();
    expect(text).toContain('Browser Test Co');
    expect(text).toContain('Browser Test Company');
    expect(text).toContain('+1 415 555 0100');
    await shot('changelog');
  });

  it('links a Contact through the subpanel with the type-ahead', async () => {
    const { crm } = get();
    await crm.records.create(SYSTEM, 'Contacts', { first_name: 'Linda', last_name: 'Linkable' });
    await page.goBack();
    await page.getByLabel('Link Contact').fill('Lin');
    await page.getByRole('option', { name: 'Linda Linkable' }).click();
    await page.locator('#subpanel-contacts').getByRole('button', { name: 'Link' }).click();
    await page.locator('#subpanel-contacts').getByRole('link', { name: 'Linda Linkable' }).waitFor();
    await shot('detail-subpanel');
  });

  it('mass-updates two records from the list', async () => {
    const { crm } = get();
    for (const last of ['Massey', 'Masters']) await crm.records.create(SYSTEM, 'Leads', { last_name: last, status: 'New' });
    await page.goto(url('/Leads?order_by=name:asc'));
    for (const name of ['Massey', 'Masters']) {
      await page.locator('tr', { hasText: name }).getByRole('checkbox').check();
    }
    const mass = page.getByRole('group', { name: 'With the selected records' });
    await mass.getByLabel('Status').selectOption('Assigned');
    await mass.getByRole('button', { name: 'Mass Update' }).click();
    await page.getByText('2 of 2 records: done').waitFor();
    const { records } = await crm.records.list(SYSTEM, 'Leads', { filter: [{ last_name: { $in: ['Massey', 'Masters'] } }] });
    expect(records.map((r) => r.status)).toEqual(['Assigned', 'Assigned']);
    await shot('list-mass-update');
  });

  it('switches to the dark theme per user', async () => {
    await page.goto(url('/preferences'));
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await page.locator('.brand-mode').textContent()).toBe('dark');
    // the page may still be applying the theme's stylesheet when the notice shows
    await page.waitForFunction(() => { const g = globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string }; document: { body: unknown } }; return g.getComputedStyle(g.document.body).backgroundColor === 'rgb(18, 21, 27)'; }, undefined, { timeout: 5000 }).catch(() => undefined);
    const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(bg).toBe('rgb(18, 21, 27)');
    await page.goto(url('/Accounts'));
    await shot('list-dark');
  });

  it('renders a script-like name as text in list, detail and edit views', async () => {
    const { crm } = get();
    const evil = await crm.records.create(SYSTEM, 'Accounts', { name: '<script>alert(1)</script>', description: '<img src=x onerror=alert(2)>\nsecond line' });
    dialogs.length = 0;
    await page.goto(url('/Accounts?order_by=name:asc'));
    await page.getByRole('link', { name: '<script>alert(1)</script>' }).waitFor();
    await page.goto(url(`/Accounts/${evil.id}`));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('<script>alert(1)</script>');
    expect(await page.locator('.field-text .value').innerText()).toBe('<img src=x onerror=alert(2)>\nsecond line');
    await page.goto(url(`/Accounts/${evil.id}/edit`));
    expect(await page.getByLabel('Name').inputValue()).toBe('<script>alert(1)</script>');
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('shows a read-only user no edit buttons', async () => {
    const { crm } = get();
    await createUser(crm.engine, { user_name: 'reader', password: 'reader-pass', last_name: 'Reader' });
    const roles = new RoleAdmin(crm.engine, crm.services.acl);
    await roles.create('Read only everywhere');
    for (const module of ['Accounts', 'Contacts', 'Leads', 'SMS']) {
      for (const action of ['edit', 'delete', 'massupdate']) await roles.set('Read only everywhere', module, action, 'none');
    }
    await roles.assign('Read only everywhere', 'reader');
    const readerPage = await newPage();
    await login(readerPage, 'reader', 'reader-pass');
    await readerPage.goto(url('/Accounts'));
    await readerPage.screenshot({ path: screenshotPath(kind, 'list-read-only.png'), fullPage: true });
    expect(await readerPage.getByRole('link', { name: 'Create Account', exact: true }).count()).toBe(0);
    const mass = readerPage.getByRole('group', { name: 'With the selected records' });
    expect(await mass.getByRole('button').allInnerTexts()).toEqual(['Export']);
    await readerPage.getByRole('link', { name: 'Browser Test Company' }).click();
    await readerPage.getByRole('heading', { level: 1, name: 'Browser Test Company' }).waitFor();
    expect(await readerPage.getByRole('link', { name: 'Edit' }).count()).toBe(0);
    expect(await readerPage.getByRole('link', { name: 'Send SMS' }).count()).toBe(0);
    expect(await readerPage.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    expect(await readerPage.getByRole('button', { name: 'Link' }).count()).toBe(0);
    await readerPage.screenshot({ path: screenshotPath(kind, 'detail-read-only.png'), fullPage: true });
    await readerPage.goto(url(`/Accounts/${(await crm.records.list(SYSTEM, 'Accounts', { filter: [{ name: 'Browser Test Company' }] })).records[0].id}/edit`));
    expect(await readerPage.getByRole('heading', { level: 1 }).textContent()).toBe('Not allowed');
  });
});
