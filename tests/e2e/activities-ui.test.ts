import type { Browser, Page } from 'playwright-core';
import { SYSTEM } from '../../core/records/actor';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeEachServer } from '../helpers/crm';

const run = browserAvailable() ? describeEachServer : (title: string) => describe.skip(title, () => undefined);

/** Issue 16: the quick actions of a record's detail view create an activity about it and come back to it. */
run('activities in Chromium', (get) => {
  let browser: Browser;
  let page: Page;
  let kind = '';

  beforeAll(async () => {
    browser = await launchBrowser();
    kind = get().crm.engine.db.dialect.name;
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await uiLogin(page, get().url, 'admin', 'secret-admin');
  });
  afterAll(async () => { await browser?.close(); });

  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `activities-${name}.png`), fullPage: true });
  const url = (path: string) => `${get().url}/ui${path}`;

  it('"Log Call" from an Account pre-fills the parent, saves, returns to the Account, and the held call shows in History', async () => {
    const account = await get().crm.engine.records.create(SYSTEM, 'Accounts', { name: 'Quick Action Co' });
    await page.goto(url(`/Accounts/${account.id}`));
    await page.getByRole('link', { name: 'Log Call' }).click();
    await page.getByRole('heading', { level: 1, name: 'Log Call' }).waitFor();
    // the parent is filled in: module and record name
    expect(await page.getByLabel('Related To: module').inputValue()).toBe('Accounts');
    expect(await page.locator('#f-parent_name').inputValue()).toBe('Quick Action Co');
    await page.getByLabel('Subject').fill('Called about renewal');
    await page.getByLabel('Status').selectOption('Held');
    await page.getByLabel('Start Date').fill('2026-09-01T10:30');
    await page.getByLabel('Duration Hours').fill('0');
    await page.getByLabel('Duration Minutes').fill('20');
    await shot('log-call');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(new RegExp(`/ui/Accounts/${account.id}\\?notice=Saved`));
    await page.getByRole('heading', { level: 1, name: 'Quick Action Co' }).waitFor();
    const history = page.locator('#subpanel-history');
    await history.getByRole('link', { name: 'Called about renewal' }).waitFor();
    expect(await page.locator('#subpanel-activities').getByText('Called about renewal').count()).toBe(0);
    await history.scrollIntoViewIfNeeded();
    await shot('account-history');
    const stored = await get().crm.engine.db.knex('calls').where({ name: 'Called about renewal', deleted: 0 }).first();
    expect(stored).toMatchObject({ parent_type: 'Accounts', parent_id: account.id, status: 'Held', duration_minutes: 20 });
  });

  it('"Create Task" from a Contact lists the open task under Activities; Cancel goes back to the Contact', async () => {
    const contact = await get().crm.engine.records.create(SYSTEM, 'Contacts', { first_name: 'Quinn', last_name: 'Quick' });
    await page.goto(url(`/Contacts/${contact.id}`));
    await page.getByRole('link', { name: 'Schedule Meeting' }).click();
    await page.getByRole('heading', { level: 1, name: 'Schedule Meeting' }).waitFor();
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.waitForURL(new RegExp(`/ui/Contacts/${contact.id}$`));
    await page.getByRole('link', { name: 'Create Task' }).click();
    await page.getByRole('heading', { level: 1, name: 'Create Task' }).waitFor();
    expect(await page.locator('#f-parent_name').inputValue()).toBe('Quinn Quick');
    await page.getByLabel('Subject').fill('Send Quinn the brochure');
    await page.getByLabel('Priority').selectOption('High');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(new RegExp(`/ui/Contacts/${contact.id}\\?notice=Saved`));
    await page.locator('#subpanel-activities').getByRole('link', { name: 'Send Quinn the brochure' }).waitFor();
    await shot('contact-activities');
  });

  it('shows the quick actions and both panels in the dark theme', async () => {
    await page.goto(url('/preferences'));
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await page.goto(url('/Accounts'));
    await page.getByRole('link', { name: 'Quick Action Co' }).click();
    await page.getByRole('heading', { level: 1, name: 'Quick Action Co' }).waitFor();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    for (const name of ['Log Call', 'Schedule Meeting', 'Create Task']) await page.getByRole('link', { name }).waitFor();
    await page.locator('#subpanel-history').getByRole('link', { name: 'Called about renewal' }).waitFor();
    await shot('account-dark');
  });
});
