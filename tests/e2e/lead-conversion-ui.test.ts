import type { Browser, Page } from 'playwright-core';
import { SYSTEM } from '../../core/records/actor';
import { browserAvailable, launchBrowser, screenshotPath, uiLogin } from '../helpers/browser';
import { describeEachServer } from '../helpers/crm';

const run = browserAvailable() ? describeEachServer : (title: string) => describe.skip(title, () => undefined);

/** Issue 16, item 2: converting a lead from its detail view, in Chromium, in both themes. */
run('lead conversion in Chromium', (get) => {
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

  const shot = (name: string) => page.screenshot({ path: screenshotPath(kind, `lead-convert-${name}.png`), fullPage: true });
  const url = (path: string) => `${get().url}/ui${path}`;

  it('converts a lead into a contact, a chosen existing account and a new opportunity, and lands on the contact', async () => {
    const { records } = get().crm.engine;
    const account = await records.create(SYSTEM, 'Accounts', { name: 'Heron Logistics' });
    const lead = await records.create(SYSTEM, 'Leads', { first_name: 'Ines', last_name: 'Duarte', account_name: 'Heron Logistics', opportunity_name: 'Heron fleet deal', opportunity_amount: '12000', phone_work: '+351210000000' });
    const call = await records.create(SYSTEM, 'Calls', { name: 'Discovery call', parent_type: 'Leads', parent_id: lead.id, status: 'Held', date_start: '2026-10-01 09:00:00', duration_hours: 0, duration_minutes: 30 });

    await page.goto(url(`/Leads/${lead.id}`));
    await page.getByRole('link', { name: 'Convert Lead' }).click();
    await page.getByRole('heading', { level: 1, name: 'Convert Lead: Ines Duarte' }).waitFor();
    const contact = page.locator('#convert-Contacts');
    expect(await contact.getByLabel('Last Name').inputValue()).toBe('Duarte');
    // The account of the same name is proposed; the user takes it instead of a new one.
    const accounts = page.locator('#convert-Accounts');
    await accounts.getByText('Possible duplicates of the new Account: Heron Logistics.').waitFor();
    await accounts.getByLabel('Use an existing Account:').check();
    const opportunity = page.locator('#convert-Opportunities');
    expect(await opportunity.getByLabel('Create a new Opportunity').isChecked()).toBe(true);
    expect(await opportunity.getByLabel('Opportunity Name').inputValue()).toBe('Heron fleet deal');
    await opportunity.getByLabel('Sales Stage').selectOption('Prospecting');
    await opportunity.getByLabel('Expected Close Date').fill('2027-03-31');
    await shot('form');
    await page.getByRole('button', { name: 'Convert' }).click();

    await page.waitForURL(/\/ui\/Contacts\/[0-9a-f-]{36}\?notice=Lead%20converted/);
    await page.getByText('Lead converted.').waitFor();
    await page.getByRole('heading', { level: 1, name: 'Ines Duarte' }).waitFor();
    await page.locator('#subpanel-history').getByRole('link', { name: 'Discovery call' }).waitFor();
    await shot('contact');
    const stored = await get().crm.engine.db.knex('leads').where({ id: lead.id }).first();
    expect(stored).toMatchObject({ status: 'Converted', account_id: account.id });
    expect(Boolean(Number(stored.converted))).toBe(true);
    expect((await get().crm.engine.db.knex('calls').where({ id: call.id }).first()).parent_type).toBe('Contacts');

    // The lead no longer offers conversion; the page itself says it is done.
    await page.goto(url(`/Leads/${lead.id}`));
    await page.getByRole('heading', { level: 1, name: 'Ines Duarte' }).waitFor();
    expect(await page.getByRole('link', { name: 'Convert Lead' }).count()).toBe(0);
    await page.goto(url(`/Leads/${lead.id}/convert`));
    await page.getByRole('heading', { level: 1, name: 'Already converted' }).waitFor();
  });

  it('shows a refusal beside the field in the dark theme and converts nothing', async () => {
    const lead = await get().crm.engine.records.create(SYSTEM, 'Leads', { last_name: 'Okoro', account_name: '' });
    await page.goto(url('/preferences'));
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await page.goto(url(`/Leads/${lead.id}/convert`));
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await page.locator('#convert-Accounts').getByLabel('No Account').isChecked()).toBe(true);
    await page.locator('#convert-Contacts').getByLabel('Last Name').fill('');
    await page.getByRole('button', { name: 'Convert' }).click();
    await page.getByText('Nothing was converted. Please correct these:').waitFor();
    await page.locator('#convert-Contacts').getByText('is required').first().waitFor();
    await shot('refused-dark');
    const stored = await get().crm.engine.db.knex('leads').where({ id: lead.id }).first();
    expect(Boolean(Number(stored.converted))).toBe(false);
  });
});
